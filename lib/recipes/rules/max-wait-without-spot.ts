import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** max_wait_seconds only applies to spot jobs (one below the max runtime is spot-max-wait's error instead). */
export function maxWaitWithoutSpotRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t || t.spot || t.max_wait_seconds === undefined || t.max_wait_seconds < t.max_runtime_seconds) return [];
  return [
    finding(
      ctx,
      'max-wait-without-spot',
      'warning',
      'platform.training.max_wait_seconds',
      String(t.max_wait_seconds),
      'max_wait_seconds only applies to managed spot training: here it is only the MaxWaitSeconds default of an execution that sets UseSpot',
      'remove it, or write platform.training.spot: true',
    ),
  ];
}

/** Rule `max-wait-without-spot`. */
export const maxWaitWithoutSpot: LintRule = {
  id: 'max-wait-without-spot',
  level: 'warning',
  input: 'document',
  description: 'max_wait_seconds without spot is ignored',
  check: maxWaitWithoutSpotRule,
};
