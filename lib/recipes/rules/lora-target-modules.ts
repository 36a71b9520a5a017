import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** lora_target_modules entries that PEFT refuses (non-Linear modules) or that match no GPT-OSS module. */
export function loraTargetModulesRule(ctx: LintContext): Finding[] {
  const lora = ctx.analysis?.lora;
  if (!ctx.doc || !lora || ctx.doc.use_peft !== true) return [];
  const out: Finding[] = [];
  const expertLike = [...lora.unsupportedModuleTargets, ...lora.unmatchedModuleTargets].filter((t) =>
    /experts|router|gate_up_proj|down_proj|mlp$/.test(t),
  );
  if (expertLike.length > 0) {
    out.push(
      finding(
        ctx,
        'lora-target-modules',
        'error',
        'lora_target_modules',
        show(expertLike),
        'GPT-OSS experts and router are nn.Parameters inside non-Linear modules: PEFT rejects or skips them as target modules',
        'target them with lora_target_parameters (e.g. ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]); keep lora_target_modules: all-linear for q/k/v/o_proj',
      ),
    );
  }
  const other = lora.unmatchedModuleTargets.filter((t) => !expertLike.includes(t));
  if (other.length > 0) {
    const none = lora.adaptedModules.length === 0 && lora.adaptedParameters.length === 0;
    out.push(
      finding(
        ctx,
        'lora-target-modules',
        none ? 'error' : 'warning',
        'lora_target_modules',
        show(other),
        `match no module of ${ctx.analysis?.model?.shortName}${none ? ' and nothing else is targeted: PEFT stops with "Target modules not found"' : ' and are ignored'}`,
        'write lora_target_modules: all-linear (q_proj, k_proj, v_proj, o_proj) or a subset of those names',
      ),
    );
  }
  return out;
}

/** Rule `lora-target-modules`. */
export const loraTargetModules: LintRule = {
  id: 'lora-target-modules',
  level: 'error',
  input: 'document',
  description: 'lora_target_modules entries that match nothing or are not Linear',
  check: loraTargetModulesRule,
};
