import { MAX_JOB_SECONDS, type PlatformBlock, RECIPE_FIELDS, type RecipeDocument } from './recipe-schema';

/**
 * Typed reads of a recipe's training keys with the pinned libraries' defaults applied, so every rule and
 * estimator sees the value the training job will actually run with (TRL's `lora_dropout` default is 0.05,
 * `max_length` 1024, `dtype` "float32", `eval_strategy` "no", ...). Defaults come from the generated field list.
 */

type Doc = RecipeDocument | Readonly<Record<string, unknown>>;

/** The recipe's value, or the dataclass default when the key is absent. */
export function effectiveValue(doc: Doc, key: string): unknown {
  const value = (doc as Record<string, unknown>)[key];
  return value !== undefined ? value : RECIPE_FIELDS[key]?.default;
}

/** True when the recipe itself sets the key (not a default). */
export function isSet(doc: Doc, key: string): boolean {
  return (doc as Record<string, unknown>)[key] !== undefined && (doc as Record<string, unknown>)[key] !== null;
}

export function numberValue(doc: Doc, key: string): number | undefined {
  const v = effectiveValue(doc, key);
  return typeof v === 'number' ? v : undefined;
}

/**
 * A numeric training key the job always has (recipe value or dataclass default, e.g. `num_train_epochs` 3.0);
 * the one reader for the estimator, the pipeline parameters and the CLI.
 */
export function requiredNumberValue(doc: Doc, key: string): number {
  const v = numberValue(doc, key);
  if (v === undefined) throw new Error(`recipe key ${key} has no numeric value and no numeric default`);
  return v;
}

export function stringValue(doc: Doc, key: string): string | undefined {
  const v = effectiveValue(doc, key);
  return typeof v === 'string' ? v : undefined;
}

export function booleanValue(doc: Doc, key: string): boolean | undefined {
  const v = effectiveValue(doc, key);
  return typeof v === 'boolean' ? v : undefined;
}

/** A list key, accepting the single-value form HfArgumentParser accepts (`lora_target_modules: all-linear`). */
export function stringListValue(doc: Doc, key: string): string[] {
  const v = effectiveValue(doc, key);
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/**
 * The model dtype the job loads: `dtype`, else the renamed `torch_dtype`, else TRL's default ("float32").
 */
export function modelDtype(doc: Doc): string {
  const raw = doc as Record<string, unknown>;
  const v = raw.dtype ?? raw.torch_dtype ?? RECIPE_FIELDS.dtype?.default;
  return typeof v === 'string' ? v : 'float32';
}

/** Bytes per weight for a dtype name ("auto" loads the checkpoint's bf16 non-expert weights and dequantizes to bf16). */
export function bytesPerWeight(dtype: string): number {
  return dtype === 'float32' ? 4 : 2;
}

/** A max wait SageMaker accepts for a max runtime: twice the runtime, capped at 28 days. */
export function suggestedMaxWaitSeconds(maxRuntimeSeconds: number): number {
  return Math.min(2 * maxRuntimeSeconds, MAX_JOB_SECONDS);
}

/**
 * The spot max wait a pipeline gets: the recipe's, else {@link suggestedMaxWaitSeconds}. Every pipeline has it
 * (the UseSpot parameter can turn spot on at execution), so the recipe check requires it ≥ the max runtime.
 */
export function maxWaitSecondsOf(training: PlatformBlock['training']): number {
  return training.max_wait_seconds ?? suggestedMaxWaitSeconds(training.max_runtime_seconds);
}
