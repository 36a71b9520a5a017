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
}

/** `error recipes/x.yaml: lora_dropout: found 0.05; <message>; <fix> [rule]` — one line, enough to act on. */
export function formatFinding(f: Finding): string {
  const found = f.found === undefined ? '' : `found ${f.found}; `;
  const fix = f.fix ? `; ${f.fix}` : '';
  return `${f.level} ${f.file}: ${f.keyPath}: ${found}${f.message}${fix} [${f.rule}]`;
}

export function countLevels(findings: readonly Finding[]): { errors: number; warnings: number } {
  return {
    errors: findings.filter((f) => f.level === 'error').length,
    warnings: findings.filter((f) => f.level === 'warning').length,
  };
}
