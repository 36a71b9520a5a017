import { MAX_JOB_SECONDS } from '../../config/recipe-schema';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** The run-time estimate exceeds max_runtime_seconds: SageMaker would stop the job before it finishes. */
export function maxRuntimeRule(ctx: LintContext): Finding[] {
  const run = ctx.analysis?.run;
  const t = ctx.doc?.platform.training;
  if (!run || !t || run.totalHours * 3600 <= t.max_runtime_seconds) return [];
  const needed = Math.min(MAX_JOB_SECONDS, Math.ceil((run.totalHours * 1.5 * 3600) / 3600) * 3600);
  return [
    finding(
      ctx,
      'max-runtime',
      'warning',
      'platform.training.max_runtime_seconds',
      String(t.max_runtime_seconds),
      `the run is estimated at ${run.totalHours.toFixed(1)} h, longer than the max runtime (${(t.max_runtime_seconds / 3600).toFixed(1)} h): SageMaker stops the job first`,
      `write platform.training.max_runtime_seconds: ${needed}, or train on fewer tokens`,
    ),
  ];
}

/** Rule `max-runtime`. */
export const maxRuntime: LintRule = {
  id: 'max-runtime',
  level: 'warning',
  input: 'document',
  description: 'estimated run longer than max_runtime_seconds',
  check: maxRuntimeRule,
};
