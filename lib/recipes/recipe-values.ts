import { RECIPE_FIELDS, type RecipeDocument } from '../config/recipe-schema';

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
