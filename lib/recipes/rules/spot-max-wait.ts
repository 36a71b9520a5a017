import { suggestedMaxWaitSeconds } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** SageMaker requires MaxWaitTimeInSeconds for managed spot training. */
export function spotMaxWaitMissingRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t?.spot || t.max_wait_seconds !== undefined) return [];
  return [
    finding(
      ctx,
      'spot-max-wait',
      'error',
      'platform.training.max_wait_seconds',
      'nothing',
      'managed spot training needs a max wait (time waiting for capacity + running), and SageMaker rejects the job without one',
      `write platform.training.max_wait_seconds: ${suggestedMaxWaitSeconds(t.max_runtime_seconds)} (at least max_runtime_seconds: ${t.max_runtime_seconds})`,
    ),
  ];
}

/**
 * SageMaker rejects a max wait below the max runtime. Checked with spot off too: the value becomes the
 * pipeline's MaxWaitSeconds default, which a spot execution (UseSpot: true at "Execute") uses.
 */
export function spotMaxWaitTooShortRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t || t.max_wait_seconds === undefined || t.max_wait_seconds >= t.max_runtime_seconds) return [];
  return [
    finding(
      ctx,
      'spot-max-wait',
      'error',
      'platform.training.max_wait_seconds',
      String(t.max_wait_seconds),
      `max wait is below max_runtime_seconds (${t.max_runtime_seconds}); SageMaker requires max wait ≥ max runtime${t.spot ? '' : ' (the pipeline offers it as the MaxWaitSeconds default for spot executions)'}`,
      `write platform.training.max_wait_seconds: ${suggestedMaxWaitSeconds(t.max_runtime_seconds)} (≥ ${t.max_runtime_seconds})${t.spot ? '' : ', or remove it'}`,
    ),
  ];
}

/** Rule `spot-max-wait`. */
export const spotMaxWait: LintRule = {
  id: 'spot-max-wait',
  level: 'error',
  input: 'document',
  description: 'spot needs max_wait_seconds; max_wait_seconds must be >= max_runtime_seconds',
  check: (ctx) => [...spotMaxWaitMissingRule(ctx), ...spotMaxWaitTooShortRule(ctx)],
};
