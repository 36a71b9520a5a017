import type { RecipeSource } from '../config/load-recipes';
import { PIPELINE_PARAMETER_TYPES, PIPELINE_PARAMETERS, type PipelineParameterKey } from '../pipeline/parameters';
import type { Finding } from './findings';
import { hasLocalInstanceStorage } from './instance-catalog';
import type { LintConfig } from './rules/rule-support';
import { type RecipeValidation, type ValidateOptions, validateRecipeObject } from './validate-recipe';

/**
 * The check of one execution: the recipe with the execution's parameter values applied (instance type and
 * count, runtime, spot, max wait, epochs, steps), run through the same schema and lint rules as the PR check.
 * `run` calls it before StartPipelineExecution, and the pipeline's first step runs it again on the values
 * SageMaker resolved (so the console's Execute form meets it too).
 */

/** A parameter value as the CLI (strings) or the pipeline (typed JSON) gives it. */
export type ParameterValue = string | number | boolean;

/** Where each parameter lands in the recipe: `platform.training.<key>` or a top-level training argument. */
const RECIPE_KEY: Partial<Record<PipelineParameterKey, { readonly platform: boolean; readonly key: string }>> = {
  instanceType: { platform: true, key: 'instance_type' },
  instanceCount: { platform: true, key: 'instance_count' },
  maxRuntimeSeconds: { platform: true, key: 'max_runtime_seconds' },
  useSpot: { platform: true, key: 'spot' },
  maxWaitSeconds: { platform: true, key: 'max_wait_seconds' },
  numTrainEpochs: { platform: false, key: 'num_train_epochs' },
  maxSteps: { platform: false, key: 'max_steps' },
};

/** Recipe key path → the pipeline parameter that sets it, for the refusal text. */
const PARAMETER_OF_KEY_PATH = new Map(
  Object.entries(RECIPE_KEY).map(([k, where]) => [
    where.platform ? `platform.training.${where.key}` : where.key,
    PIPELINE_PARAMETERS[k as PipelineParameterKey],
  ]),
);

function typed(key: PipelineParameterKey, name: string, value: ParameterValue): ParameterValue {
  switch (PIPELINE_PARAMETER_TYPES[key]) {
    case 'Integer':
    case 'Float': {
      const n = typeof value === 'number' ? value : Number(value);
      if (typeof value === 'boolean' || !Number.isFinite(n)) {
        throw new ExecutionValueError(`${name}: found ${JSON.stringify(value)}; expected a number`);
      }
      return n;
    }
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      if (/^(true|false)$/i.test(String(value))) return String(value).toLowerCase() === 'true';
      throw new ExecutionValueError(`${name}: found ${JSON.stringify(value)}; expected true or false`);
    default:
      return String(value);
  }
}

/** A parameter value of the wrong type (the check cannot apply it to the recipe). */
export class ExecutionValueError extends Error {}

/**
 * The recipe as the execution runs it: `raw` (the YAML as read) with each given parameter written to its
 * recipe key. Parameters without a recipe key (data and model locations) are left out. Pure.
 */
export function applyExecutionParameters(
  raw: Readonly<Record<string, unknown>>,
  parameters: Readonly<Record<string, ParameterValue | undefined>>,
): Record<string, unknown> {
  const copy = structuredClone(raw) as Record<string, unknown>;
  const platform = (copy.platform ?? {}) as Record<string, unknown>;
  const training = { ...((platform.training ?? {}) as Record<string, unknown>) };
  for (const [k, where] of Object.entries(RECIPE_KEY)) {
    const key = k as PipelineParameterKey;
    const name = PIPELINE_PARAMETERS[key];
    const value = parameters[name];
    if (value === undefined || where === undefined) continue;
    if (where.platform) training[where.key] = typed(key, name, value);
    else copy[where.key] = typed(key, name, value);
  }
  copy.platform = { ...platform, training };
  return copy;
}

export interface ExecutionCheck extends RecipeValidation {
  /** The recipe's own instance type (what the pipeline definition was built for). */
  readonly recipeInstanceType?: string;
}

/**
 * Checks one execution of a recipe: `raw` is the recipe as read from its YAML (the pipeline definition was
 * built from it), `parameters` the execution's values by pipeline parameter name.
 */
export function checkExecution(
  recipe: RecipeSource,
  raw: Readonly<Record<string, unknown>>,
  parameters: Readonly<Record<string, ParameterValue | undefined>>,
  config: LintConfig,
  options: ValidateOptions = {},
): ExecutionCheck {
  let applied: Record<string, unknown>;
  try {
    applied = applyExecutionParameters(raw, parameters);
  } catch (e) {
    if (!(e instanceof ExecutionValueError)) throw e;
    const f: Finding = {
      rule: 'execution-parameter',
      level: 'error',
      file: recipe.file,
      keyPath: e.message.split(':')[0],
      message: e.message.slice(e.message.indexOf(':') + 2),
      fix: 'give the parameter a value of its type',
    };
    return { ...recipe, findings: [f], valid: false };
  }
  const validation = validateRecipeObject(recipe, applied, config, options);
  const recipeType = ((raw.platform as Record<string, unknown> | undefined)?.training as Record<string, unknown>)
    ?.instance_type;
  const chosen = parameters[PIPELINE_PARAMETERS.instanceType];
  const extra: Finding[] = [];
  if (typeof recipeType === 'string' && chosen !== undefined && String(chosen) !== recipeType) {
    // The definition sets VolumeKmsKeyId (or leaves it out) for the recipe's type; SageMaker rejects the key on
    // NVMe types, and an EBS-only type without it would run without the platform key.
    if (hasLocalInstanceStorage(recipeType) !== hasLocalInstanceStorage(String(chosen))) {
      const storage = (t: string) => (hasLocalInstanceStorage(t) ? 'local NVMe storage' : 'EBS storage only');
      extra.push({
        rule: 'volume-key',
        level: 'error',
        file: recipe.file,
        keyPath: 'platform.training.instance_type',
        found: JSON.stringify(String(chosen)),
        message:
          `${String(chosen)} has ${storage(String(chosen))} but the pipeline was built for ${recipeType} ` +
          `(${storage(recipeType)}), so its volume encryption setting does not fit`,
        fix: `choose a type with ${storage(recipeType)}, or change the recipe's instance_type and redeploy`,
      });
    }
  }
  const findings = [...validation.findings, ...extra].map((f) => withParameter(f, parameters));
  return {
    ...validation,
    findings,
    valid: validation.valid && extra.length === 0,
    recipeInstanceType: typeof recipeType === 'string' ? recipeType : undefined,
  };
}

/** Names the execution parameter in a finding on a key the execution set. */
function withParameter(f: Finding, parameters: Readonly<Record<string, ParameterValue | undefined>>): Finding {
  const name = PARAMETER_OF_KEY_PATH.get(f.keyPath);
  if (!name || parameters[name] === undefined) return f;
  return { ...f, keyPath: `${f.keyPath} (parameter ${name})` };
}
