import { z } from 'zod';
import { closestName } from './suggest';

/**
 * A problem a user must fix in one of their input files. The message always names the file, the key
 * path, what was found and what to write instead, so that a CI log line alone is enough to act on.
 */
export class ConfigError extends Error {
  constructor(
    public readonly file: string,
    public readonly issues: readonly string[],
  ) {
    super(
      `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((i) => `  - ${i}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Renders a key path the way a user writes it in YAML: `platform.training.instance_type`, `users[1].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Short, single-line rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cursor: unknown = root;
  for (const key of path) {
    if (cursor === null || typeof cursor !== 'object') return undefined;
    cursor = (cursor as Record<PropertyKey, unknown>)[key];
  }
  return cursor;
}

/** The keys an object schema at `path` accepts (through optional/default/nullable wrappers), for suggestions. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cursor: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    let current = s;
    while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable)
      current = current.unwrap() as z.ZodType;
    return current;
  };
  for (const key of path) {
    const object: z.ZodType | undefined = cursor ? unwrap(cursor) : undefined;
    cursor = object instanceof z.ZodObject ? (object.shape as Record<string, z.ZodType>)[String(key)] : undefined;
  }
  const object = cursor ? unwrap(cursor) : undefined;
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

/** One problem of a zod error, flattened: a union's issue is replaced by its closest branch's issues. */
export interface FlatIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** Unknown keys, for `unrecognized_keys`. */
  readonly keys?: readonly string[];
  /** Allowed values, for `invalid_value` (an enum). */
  readonly values?: readonly unknown[];
}

/** How well a union branch's issues fit the value: nested problems > a wrong value > a wrong type. */
function branchFit(issues: readonly FlatIssue[], depth: number, value: unknown): number {
  if (issues.some((i) => i.path.length > depth)) return 2;
  const primitive = value === null || typeof value !== 'object';
  const wrongType = (i: FlatIssue) => i.code === 'invalid_type' || (i.code === 'invalid_value' && !primitive);
  return issues.every(wrongType) ? 0 : 1;
}

function flatten(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): FlatIssue[] {
  return issues.flatMap((issue): FlatIssue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // The branch the value was meant for (`report_to: trackoi` is an enum typo, not a list of the wrong type;
      // `report_to: [tensorboard, wandbb]` is a list with one bad item).
      const value = valueAt(input, path);
      const branches = issue.errors.map((branch) => flatten(branch, input, path));
      const fits = branches.map((b) => branchFit(b, path.length, value));
      const best = Math.max(...fits);
      if (best > 0) return branches[fits.indexOf(best)];
      // Every branch wants another type: say which types would do ("expected string or array").
      const expected = [
        ...new Set(
          issue.errors.flat().flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [i.expected] : [])),
        ),
      ];
      const message = expected.length > 0 ? `expected ${expected.join(' or ')}` : issue.message;
      return [{ code: issue.code, path, message }];
    }
    return [
      {
        code: issue.code,
        path,
        message: issue.message,
        keys: issue.code === 'unrecognized_keys' ? issue.keys : undefined,
        values: issue.code === 'invalid_value' ? issue.values : undefined,
      },
    ];
  });
}

/** The zod issues of `error` flattened through unions; see {@link FlatIssue}. */
export function flatIssues(error: z.ZodError, input: unknown): FlatIssue[] {
  return flatten(error.issues, input);
}

/** `; did you mean lora_alpha?` when a known name is a likely intended spelling. */
function didYouMean(word: string, candidates: Iterable<string>): string {
  const close = closestName(word, candidates);
  return close ? `did you mean ${close}?` : '';
}

/** The text of one flattened issue, after its key path: "unknown key; did you mean …" or "found X; <message>". */
export function describeIssue(issue: FlatIssue, input: unknown, key?: string, schema?: z.ZodType): string {
  if (key !== undefined) {
    const hint = schema ? didYouMean(key, knownKeysAt(schema, issue.path)) : '';
    return hint
      ? `unknown key; ${hint} (rename it, or remove it)`
      : 'unknown key; remove it or check the spelling against the documented keys';
  }
  const value = valueAt(input, issue.path);
  const hint =
    issue.values && typeof value === 'string'
      ? didYouMean(
          value,
          issue.values.map((v) => String(v)),
        )
      : '';
  const shown = issue.values?.slice(0, 12).map((v) => JSON.stringify(v));
  const more = issue.values && issue.values.length > 12 ? ` and ${issue.values.length - 12} more` : '';
  const message = shown ? `expected one of ${shown.join(', ')}${more}` : issue.message;
  return `found ${describeValue(value)}; ${message}${hint ? `; ${hint}` : ''}`;
}

/**
 * Turns zod issues into "key: found X; expected Y" lines, one per problem; with the `schema` that produced them,
 * unknown keys and enum typos get the closest known name.
 */
export function formatZodIssues(error: z.ZodError, input: unknown, schema?: z.ZodType): string[] {
  const lines: string[] = [];
  for (const issue of flatIssues(error, input)) {
    if (issue.keys) {
      for (const key of issue.keys)
        lines.push(`${formatPath([...issue.path, key])}: ${describeIssue(issue, input, key, schema)}`);
      continue;
    }
    lines.push(`${formatPath(issue.path)}: ${describeIssue(issue, input)}`);
  }
  return lines;
}

/** Parses `input` with `schema`, throwing a {@link ConfigError} that lists every problem at once. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ConfigError(file, formatZodIssues(result.error, input, schema));
  return result.data;
}
