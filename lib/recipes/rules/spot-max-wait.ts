import { suggestedMaxWaitSeconds } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/**
 * SageMaker requires MaxWaitTimeInSeconds for managed spot training, and rejects one below the max runtime.
 * The second is checked with spot off too: the value becomes the pipeline's MaxWaitSeconds default, which a
 * spot execution (UseSpot: true at "Execute") uses.
 */
export function spotMaxWaitRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t) return [];
  const wait = t.max_wait_seconds;
  const runtime = t.max_runtime_seconds;
  const suggested = suggestedMaxWaitSeconds(runtime);
  let found: string;
  let message: string;
  let fix: string;
  if (wait === undefined) {
    if (!t.spot) return [];
    found = 'nothing';
    message =
      'managed spot training needs a max wait (time waiting for capacity + running), and SageMaker rejects the job without one';
    fix = `write platform.training.max_wait_seconds: ${suggested} (at least max_runtime_seconds: ${runtime})`;
  } else if (wait < runtime) {
    found = String(wait);
    message = `max wait is below max_runtime_seconds (${runtime}); SageMaker requires max wait ≥ max runtime${t.spot ? '' : ' (the pipeline offers it as the MaxWaitSeconds default for spot executions)'}`;
    fix = `write platform.training.max_wait_seconds: ${suggested} (≥ ${runtime})${t.spot ? '' : ', or remove it'}`;
  } else {
    return [];
  }
  return [finding(ctx, 'spot-max-wait', 'error', 'platform.training.max_wait_seconds', found, message, fix)];
}

/** Rule `spot-max-wait`. */
export const spotMaxWait: LintRule = {
  id: 'spot-max-wait',
  level: 'error',
  input: 'document',
  description: 'spot needs max_wait_seconds; max_wait_seconds must be >= max_runtime_seconds',
  check: spotMaxWaitRule,
};
