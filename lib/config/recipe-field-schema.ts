import { z } from 'zod';
import { closestName } from './suggest';

/**
 * Turns one exported training field (lib/config/recipe-fields.generated.json, written by
 * training-code/tools/export_recipe_fields.py) into zod: its type, its choices and the range the pinned libraries
 * accept. The description and the dataclass default travel as metadata only (`.meta`), so they reach the JSON
 * Schema for editors without the parser filling defaults into the document (lib/config/recipe-values.ts applies
 * them where a value is read).
 */

export interface Bounds {
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  readonly exclusiveMaximum?: number;
  /** Why the range exists; part of the finding. */
  readonly rangeWhy?: string;
}

export type FieldType = (
  | { type: 'bool' | 'int' | 'float' | 'dict' | 'any' }
  | { type: 'str'; pattern?: string }
  | { type: 'enum'; values: string[] }
  | { type: 'list'; of: FieldType }
  | { type: 'union'; of: FieldType[] }
) & { nullable?: boolean };

export interface ExportedField extends Bounds {
  readonly group: 'script' | 'model' | 'sft';
  readonly default?: string | number | boolean;
  readonly description?: string;
}

function ranged(schema: z.ZodNumber, bounds: Bounds): z.ZodNumber {
  const why = bounds.rangeWhy ? `: ${bounds.rangeWhy}` : '';
  let s = schema;
  if (bounds.minimum !== undefined) s = s.gte(bounds.minimum, `expected a value ≥ ${bounds.minimum}${why}`);
  if (bounds.exclusiveMinimum !== undefined)
    s = s.gt(bounds.exclusiveMinimum, `expected a value > ${bounds.exclusiveMinimum}${why}`);
  if (bounds.maximum !== undefined) s = s.lte(bounds.maximum, `expected a value ≤ ${bounds.maximum}${why}`);
  if (bounds.exclusiveMaximum !== undefined)
    s = s.lt(bounds.exclusiveMaximum, `expected a value < ${bounds.exclusiveMaximum}${why}`);
  return s;
}

/** A string matching `pattern` (a Hub attention kernel), or else one of `choices`, which the message lists. */
function patternString(pattern: string, choices: readonly string[]): z.ZodType {
  return z.string().regex(new RegExp(pattern), {
    error: (issue) => {
      const close = typeof issue.input === 'string' ? closestName(issue.input, choices) : undefined;
      return (
        `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, or a Hub kernel like "org/repo"` +
        (close ? `; did you mean ${close}?` : '')
      );
    },
  });
}

function typeSchema(field: FieldType, bounds: Bounds, choices: readonly string[] = []): z.ZodType {
  let schema: z.ZodType;
  switch (field.type) {
    case 'bool':
      schema = z.boolean();
      break;
    case 'int':
      schema = ranged(z.number().int(), bounds);
      break;
    case 'float':
      schema = ranged(z.number(), bounds);
      break;
    case 'str':
      schema = field.pattern ? patternString(field.pattern, choices) : z.string();
      break;
    case 'dict':
      schema = z.record(z.string(), z.unknown());
      break;
    case 'enum':
      schema = z.enum(field.values as [string, ...string[]]);
      break;
    case 'list':
      // HfArgumentParser accepts a single value for a list field (e.g. `lora_target_modules: all-linear`).
      schema = z.union([typeSchema(field.of, bounds), z.array(typeSchema(field.of, bounds))]);
      break;
    case 'union': {
      // transformers types many options as `Enum | str` only so that strings parse; a typo is still a typo.
      // A `str` with a pattern (Hub attention kernels) is a real alternative and stays.
      const enumValues = field.of.flatMap((f) => (f.type === 'enum' ? f.values : []));
      const members = enumValues.length > 0 ? field.of.filter((f) => f.type !== 'str' || f.pattern) : field.of;
      schema =
        members.length === 1
          ? typeSchema(members[0], bounds)
          : z.union(members.map((m) => typeSchema(m, bounds, enumValues)) as [z.ZodType, z.ZodType, ...z.ZodType[]]);
      break;
    }
    default:
      schema = z.unknown();
  }
  return field.nullable ? schema.nullable() : schema;
}

/** The zod schema of one exported field, with its description and default as metadata. */
export function fieldSchema(field: FieldType & ExportedField, note?: string): z.ZodType {
  const description = [field.description, note].filter(Boolean).join(' ');
  const meta: Record<string, unknown> = {};
  if (description) meta.description = description;
  if (field.default !== undefined) meta.default = field.default;
  const schema = typeSchema(field, field);
  return Object.keys(meta).length > 0 ? schema.meta(meta) : schema;
}
