import { DEFAULT_GUARDRAILS } from '../../config/app-config';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/**
 * The stage's ceilings (app config `guardrails`) on instance count and runtime. The same rule checks the recipe
 * and every execution's overrides (lib/recipes/execute-check.ts), so `--instance-count 500` meets it too.
 */
export function executionLimitsRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t) return [];
  const limits = ctx.config.guardrails ?? DEFAULT_GUARDRAILS;
  const stage = `stage "${ctx.config.stage}"`;
  const out: Finding[] = [];
  if (t.instance_count > limits.maxInstanceCount) {
    out.push(
      finding(
        ctx,
        'execution-limits',
        'error',
        'platform.training.instance_count',
        String(t.instance_count),
        `above the ${stage} ceiling of ${limits.maxInstanceCount} instances per job`,
        `write at most ${limits.maxInstanceCount}, or raise guardrails.maxInstanceCount in the stage config`,
      ),
    );
  }
  if (t.max_runtime_seconds > limits.maxRuntimeSeconds) {
    out.push(
      finding(
        ctx,
        'execution-limits',
        'error',
        'platform.training.max_runtime_seconds',
        String(t.max_runtime_seconds),
        `above the ${stage} ceiling of ${limits.maxRuntimeSeconds} seconds per job`,
        `write at most ${limits.maxRuntimeSeconds}, or raise guardrails.maxRuntimeSeconds in the stage config`,
      ),
    );
  }
  return out;
}

/** Rule `execution-limits`. */
export const executionLimits: LintRule = {
  id: 'execution-limits',
  level: 'error',
  input: 'document',
  description: "instance count and runtime must stay under the stage's guardrails",
  check: executionLimitsRule,
};
