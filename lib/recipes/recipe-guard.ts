import guardFile from '../../training-code/gpt_oss_train/recipe_guard.json';

/**
 * What a recipe may put into a training job: the `env:` allowlist, the refused variable families (each with
 * why), and the HyperParameters the launcher accepts. One JSON file that the training code reads too
 * (training-code/gpt_oss_train/recipe.py and job_inputs.py), so the recipe check and the job refuse the same
 * things. docs/recipe-guardrails.md explains the list.
 */

export interface RefusedEnv {
  readonly pattern: RegExp;
  readonly why: string;
}

export const ENV_ALLOWED: readonly string[] = guardFile.env_allowed;

export const ENV_REFUSED: readonly RefusedEnv[] = guardFile.env_refused.map((r) => ({
  pattern: new RegExp(r.pattern),
  why: r.why,
}));

/** The only HyperParameters a job passes to the launcher, each as one value. */
export const JOB_HYPERPARAMETERS: readonly string[] = guardFile.hyperparameters;

/** Why an `env:` key is refused, or undefined when it is allowed. */
export function envKeyProblem(key: string): string | undefined {
  const refused = ENV_REFUSED.find((r) => r.pattern.test(key));
  if (refused) return refused.why;
  if (!ENV_ALLOWED.includes(key)) return 'not in the allowlist of recipe environment variables';
  return undefined;
}
