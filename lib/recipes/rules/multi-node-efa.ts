import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** Multi-node NCCL without EFA is slow. */
export function multiNodeEfaRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  const t = ctx.doc?.platform.training;
  if (!t || !a?.instance || t.instance_count < 2 || a.instance.efa) return [];
  return [
    finding(
      ctx,
      'multi-node-efa',
      'warning',
      'platform.training.instance_type',
      show(t.instance_type),
      `multi-node training (instance_count ${t.instance_count}) on an instance without EFA: ZeRO-3 all-gathers go over plain TCP`,
      'write an EFA instance type such as ml.p4de.24xlarge, ml.p5.48xlarge or ml.p5en.48xlarge',
    ),
  ];
}

/** Rule `multi-node-efa`. */
export const multiNodeEfa: LintRule = {
  id: 'multi-node-efa',
  level: 'warning',
  input: 'document',
  description: 'multi-node on an instance without EFA',
  check: multiNodeEfaRule,
};
