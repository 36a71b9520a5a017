import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** More than one instance needs a distributed launcher. */
export function multiNodeDistributionRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t || t.instance_count < 2 || t.distribution !== 'single-gpu') return [];
  return [
    finding(
      ctx,
      'multi-node-distribution',
      'error',
      'platform.training.distribution',
      '"single-gpu"',
      `instance_count is ${t.instance_count} but single-gpu runs one process: the other instances would idle`,
      'write platform.training.distribution: zero3 (or ddp when the model fits one GPU)',
    ),
  ];
}

/** Rule `multi-node-distribution`. */
export const multiNodeDistribution: LintRule = {
  id: 'multi-node-distribution',
  level: 'error',
  input: 'document',
  description: 'instance_count > 1 needs ddp or zero3',
  check: multiNodeDistributionRule,
};
