import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** Compares dotted numeric versions ("0.21.2" vs "0.21.0"); pre-release suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => v.split('.').map((p) => parseInt(p, 10) || 0);
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** First PEFT release with peft#3576 ("Resolve ZeRO-3 partitioned shapes in lora.ParamWrapper"). */
export const PEFT_ZERO3_PARAMWRAPPER_FIX = '0.21.0';

/** Expert LoRA under ZeRO-3 fails in PEFT releases without peft#3576 (peft#2916). */
export function expertLoraZero3Rule(ctx: LintContext): Finding[] {
  if (!ctx.doc || !ctx.analysis?.lora?.touchesExperts) return [];
  const distribution = ctx.doc.platform.training.distribution;
  if (distribution !== 'zero3' && distribution !== 'zero3-offload') return [];
  if (compareVersions(ctx.peftVersion, PEFT_ZERO3_PARAMWRAPPER_FIX) >= 0) return [];
  return [
    finding(
      ctx,
      'expert-lora-zero3',
      'error',
      'platform.training.distribution',
      show(distribution),
      `expert LoRA (lora_target_parameters) under DeepSpeed ZeRO-3 fails with the training image's PEFT ${ctx.peftVersion} (peft#2916: IndexError in ParamWrapper on partitioned shapes; fixed by peft#3576, released in ${PEFT_ZERO3_PARAMWRAPPER_FIX})`,
      `use distribution: single-gpu or ddp for expert LoRA, drop lora_target_parameters under zero3, or pin peft>=${PEFT_ZERO3_PARAMWRAPPER_FIX} in the training image`,
    ),
  ];
}

/** Rule `expert-lora-zero3`. */
export const expertLoraZero3: LintRule = {
  id: 'expert-lora-zero3',
  level: 'error',
  input: 'document',
  description: 'expert LoRA under ZeRO-3 needs PEFT with peft#3576 (>= 0.21.0)',
  check: expertLoraZero3Rule,
};
