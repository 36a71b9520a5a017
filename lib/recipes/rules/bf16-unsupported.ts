import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** bf16 on a GPU without bf16 tensor cores (T4 Turing, V100 Volta). */
export function bf16UnsupportedRule(ctx: LintContext): Finding[] {
  const gpu = ctx.analysis?.instance?.gpu;
  if (!ctx.doc || !gpu || gpu.bf16) return [];
  const keyed: [string, unknown][] = [
    ['bf16', ctx.doc.bf16],
    ['bf16_full_eval', ctx.doc.bf16_full_eval],
    ['dtype', ctx.doc.dtype],
    ['torch_dtype', ctx.doc.torch_dtype],
  ];
  const hits = keyed.filter(([, v]) => v === true || v === 'bfloat16');
  return hits.map(([key, value]) =>
    finding(
      ctx,
      'bf16-unsupported',
      'error',
      key,
      show(value),
      `${ctx.doc?.platform.training.instance_type} has ${gpu.model} (${gpu.architecture}) GPUs without bf16 support; GPT-OSS trains in bf16`,
      'choose an Ampere-or-newer instance (ml.g6e.*, ml.p4de.24xlarge, ml.p5.*)',
    ),
  );
}

/** Rule `bf16-unsupported`. */
export const bf16Unsupported: LintRule = {
  id: 'bf16-unsupported',
  level: 'error',
  input: 'document',
  description: 'bf16 on a GPU without bf16 (T4, V100)',
  check: bf16UnsupportedRule,
};
