import { z } from 'zod';

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

/** Turns zod issues into "key: found X; expected Y" lines, one per problem. */
export function formatZodIssues(error: z.ZodError, input: unknown): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const where = formatPath([...issue.path, key]);
        lines.push(`${where}: unknown key; remove it or check the spelling against the documented keys`);
      }
      continue;
    }
    const found = describeValue(valueAt(input, issue.path));
    lines.push(`${formatPath(issue.path)}: found ${found}; ${issue.message}`);
  }
  return lines;
}

/** Parses `input` with `schema`, throwing a {@link ConfigError} that lists every problem at once. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ConfigError(file, formatZodIssues(result.error, input));
  return result.data;
}
