/** One problem a recipe lint rule or the schema found in a recipe file. */

export type FindingLevel = 'error' | 'warning';

export interface Finding {
  /** Rule id (`max-seq-length`, `gpu-memory`, ...) or `schema` / `yaml` for schema and syntax problems. */
  readonly rule: string;
  readonly level: FindingLevel;
  /** Recipe file, relative to the working directory. */
  readonly file: string;
  /** Key path as written in YAML: `platform.training.instance_type`, `lora_modules_to_save`. */
  readonly keyPath: string;
  /** The value found, rendered for a log line; undefined when the message already says it. */
  readonly found?: string;
  /** What is wrong and why. */
  readonly message: string;
  /** What to write instead. */
  readonly fix: string;
  /** 1-based line of the value (of the key for an unknown key, of the enclosing key for a missing one). */
  readonly line?: number;
  /** 1-based column, with `line`. */
  readonly column?: number;
}

/** `recipes/x.yaml:12:3`, or the file alone when the finding has no position (a file-name problem). */
export function findingLocation(f: Finding): string {
  return f.line === undefined ? f.file : `${f.file}:${f.line}:${f.column ?? 1}`;
}

/** `lora_dropout: found 0.05; <message>; <fix>`: the finding without level, place and rule. */
export function findingText(f: Finding): string {
  const found = f.found === undefined ? '' : `found ${f.found}; `;
  const fix = f.fix ? `; ${f.fix}` : '';
  return `${f.keyPath}: ${found}${f.message}${fix}`;
}

/** `error recipes/x.yaml:12:15: lora_dropout: found 0.05; <message>; <fix> [rule]` — one line, enough to act on. */
export function formatFinding(f: Finding): string {
  return `${f.level} ${findingLocation(f)}: ${findingText(f)} [${f.rule}]`;
}

export function countLevels(findings: readonly Finding[]): { errors: number; warnings: number } {
  return {
    errors: findings.filter((f) => f.level === 'error').length,
    warnings: findings.filter((f) => f.level === 'warning').length,
  };
}
