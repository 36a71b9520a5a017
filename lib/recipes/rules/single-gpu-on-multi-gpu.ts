import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** single-gpu on a multi-GPU instance leaves GPUs idle (and paid for). */
export function singleGpuOnMultiGpuRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  if (!ctx.doc || !a?.instance || a.instance.gpuCount < 2) return [];
  const t = ctx.doc.platform.training;
  if (t.distribution !== 'single-gpu' || t.instance_count > 1) return [];
  return [
    finding(
      ctx,
      'single-gpu-on-multi-gpu',
      'warning',
      'platform.training.distribution',
      '"single-gpu"',
      `${a.instance.instanceType} has ${a.instance.gpuCount} GPUs but single-gpu trains on one; the other ${a.instance.gpuCount - 1} are paid for and idle`,
      'write platform.training.distribution: ddp (replicated) or zero3 (sharded), or choose a one-GPU instance',
    ),
  ];
}

/** Rule `single-gpu-on-multi-gpu`. */
export const singleGpuOnMultiGpu: LintRule = {
  id: 'single-gpu-on-multi-gpu',
  level: 'warning',
  input: 'document',
  description: 'single-gpu on a multi-GPU instance',
  check: singleGpuOnMultiGpuRule,
};
