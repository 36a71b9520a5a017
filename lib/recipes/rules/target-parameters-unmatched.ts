import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** lora_target_parameters entries that match no parameter of the model (wrong layer index, typo). */
export function targetParametersUnmatchedRule(ctx: LintContext): Finding[] {
  const lora = ctx.analysis?.lora;
  const model = ctx.analysis?.model;
  if (!ctx.doc || !lora || !model || ctx.doc.use_peft !== true || lora.unmatchedParameterTargets.length === 0)
    return [];
  return [
    finding(
      ctx,
      'target-parameters-unmatched',
      'error',
      'lora_target_parameters',
      show(lora.unmatchedParameterTargets),
      `match no parameter of ${model.shortName} (layers 0-${model.numHiddenLayers - 1}; expert tensors are model.layers.N.mlp.experts.gate_up_proj / down_proj)`,
      `write names like "${Math.floor(model.numHiddenLayers / 2)}.mlp.experts.gate_up_proj", or "mlp.experts.gate_up_proj" for every layer`,
    ),
  ];
}

/** Rule `target-parameters-unmatched`. */
export const targetParametersUnmatched: LintRule = {
  id: 'target-parameters-unmatched',
  level: 'error',
  input: 'document',
  description: 'lora_target_parameters entries that match no parameter',
  check: targetParametersUnmatchedRule,
};
