import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** ddp/zero3 on one GPU in total only adds overhead. */
export function distributionOnOneGpuRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  if (!ctx.doc || !a?.instance || a.worldSize !== 1) return [];
  const distribution = ctx.doc.platform.training.distribution;
  if (distribution === 'single-gpu') return [];
  return [
    finding(
      ctx,
      'distribution-one-gpu',
      'warning',
      'platform.training.distribution',
      show(distribution),
      `${a.instance.instanceType} × 1 has one GPU: ${distribution} has nothing to distribute over${distribution.startsWith('zero3') ? ' (ZeRO-3 still pays its gather cost)' : ''}`,
      'write platform.training.distribution: single-gpu, or choose a multi-GPU instance',
    ),
  ];
}

/** Rule `distribution-one-gpu`. */
export const distributionOneGpu: LintRule = {
  id: 'distribution-one-gpu',
  level: 'warning',
  input: 'document',
  description: 'ddp/zero3 on one GPU in total',
  check: distributionOnOneGpuRule,
};
