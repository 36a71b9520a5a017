import type { Finding } from '../findings';
import { ENV_ALLOWED, envKeyProblem } from '../recipe-guard';
import { finding, type LintContext, type LintRule, show } from './rule-support';

/**
 * `env:` sets variables in the training process (and the merge subprocess): a loader, Python-path, AWS or Hub
 * variable there runs foreign code or redirects the job, so only the listed variables pass (lib/recipes/recipe-guard.ts).
 */
export function recipeEnvRule(ctx: LintContext): Finding[] {
  const env = ctx.raw.env;
  if (env === undefined || env === null) return [];
  if (typeof env !== 'object' || Array.isArray(env)) return [];
  return Object.entries(env as Record<string, unknown>).flatMap(([key, value]) => {
    const problem = envKeyProblem(key);
    if (!problem) return [];
    return [
      finding(
        ctx,
        'recipe-env',
        'error',
        `env.${key}`,
        show(value),
        `${key}: ${problem}`,
        `remove env.${key}; recipes may set only ${ENV_ALLOWED.join(', ')} (docs/recipe-guardrails.md)`,
      ),
    ];
  });
}

/** Rule `recipe-env`. */
export const recipeEnv: LintRule = {
  id: 'recipe-env',
  level: 'error',
  input: 'raw',
  description: 'env: keys must come from the allowlist (no loader, Python path, AWS or Hub variables)',
  check: recipeEnvRule,
};
