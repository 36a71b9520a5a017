import { type Document, isMap, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { AppConfig } from '../config/app-config';
import { describeIssue, flatIssues, formatPath } from '../config/errors';
import { type LoadedRecipe, readRecipeSource } from '../config/load-recipes';
import { PLATFORM_KEY, type RecipeDocument, recipeSchema, TRAINING_LIBRARY_VERSIONS } from '../config/recipe-schema';
import { positionOf, yamlErrorMessage, yamlErrorPosition } from '../config/yaml-positions';
import type { Finding } from './findings';
import { analyzeRecipe, type RecipeAnalysis } from './recipe-analysis';
import { KEYS_EXPLAINED_BY_LINT, LINT_RULES } from './rules';
import type { LintContext } from './rules/rule-support';

/**
 * Validates one recipe file end to end: YAML syntax, the schema, then every lint rule. Problems are collected,
 * never thrown, so a file with five mistakes reports five findings. When the schema rejects some top-level
 * keys, the rules still run on the rest of the file (unless the `platform` block itself is broken).
 */

export interface ValidateOptions {
  /** Directory paths in messages are relative to (default: process.cwd()). */
  readonly cwd?: string;
  /** PEFT version of the training image; default TRAINING_LIBRARY_VERSIONS.peft (tests inject others). */
  readonly peftVersion?: string;
}

export interface RecipeValidation {
  readonly name: string;
  readonly file: string;
  /** The file as committed (also what is uploaded to the job). */
  readonly source: string;
  readonly hash: string;
  /**
   * The document the rules ran on: schema-valid, or with the top-level keys the schema rejected left out;
   * undefined when even that failed (syntax error, broken platform block).
   */
  readonly document?: RecipeDocument;
  readonly analysis?: RecipeAnalysis;
  readonly findings: readonly Finding[];
  /** No schema problem and no error-level finding. */
  readonly valid: boolean;
}

function schemaFindings(file: string, error: z.ZodError, input: unknown): Finding[] {
  return flatIssues(error, input).flatMap((issue) => {
    const entries = issue.keys
      ? issue.keys.map((key) => ({
          keyPath: formatPath([...issue.path, key]),
          text: describeIssue(issue, input, key, recipeSchema),
          target: 'key' as const,
        }))
      : [{ keyPath: formatPath(issue.path), text: describeIssue(issue, input), target: 'value' as const }];
    return entries.map(({ keyPath, text, target }) => ({
      rule: 'schema',
      level: 'error' as const,
      file,
      keyPath,
      message: text,
      fix: '',
      target,
    }));
  });
}

/** The finding with the file position of its key path (the value's, or the key's for an unknown key). */
function placed(doc: Document, lineCounter: LineCounter, f: Finding & { target?: 'key' | 'value' }): Finding {
  if (f.line !== undefined || f.keyPath.startsWith('(file')) return f;
  const { target, ...finding } = f;
  const { line, column } = positionOf(doc, lineCounter, f.keyPath, target);
  return { ...finding, line, column };
}

function withoutKeys(raw: Record<string, unknown>, keys: Iterable<string>): Record<string, unknown> {
  const copy = { ...raw };
  for (const k of keys) delete copy[k];
  return copy;
}

/** Validates one recipe file; see {@link RecipeValidation}. */
export function validateRecipeFile(
  file: string,
  config: Pick<AppConfig, 'namePrefix' | 'stage' | 'prices'>,
  options: ValidateOptions = {},
): RecipeValidation {
  const base = readRecipeSource(file, options.cwd);
  const { name, file: display, source } = base;

  let lineCounter = new LineCounter();
  let yaml = parseDocument(source, { uniqueKeys: true, lineCounter });
  const lines = source.split('\n');
  const yamlFindings = yaml.errors.map((e): Finding => {
    const { line, column } = yamlErrorPosition(e);
    const duplicate = e.code === 'DUPLICATE_KEY';
    const key = duplicate ? lines[line - 1]?.split(':')[0].trim() : undefined;
    return {
      rule: 'yaml',
      level: 'error',
      file: display,
      keyPath: key || '(syntax)',
      message: duplicate ? 'the key appears twice; YAML keeps only the last value' : yamlErrorMessage(e),
      fix: duplicate ? 'keep one of the duplicate keys' : 'fix the YAML syntax',
      line,
      column,
    };
  });
  if (yaml.errors.length > 0) {
    // A duplicate key is reported, then the rules run on the file as YAML reads it (the last value wins);
    // any other syntax error stops here.
    if (!yaml.errors.every((e) => e.code === 'DUPLICATE_KEY')) return { ...base, findings: yamlFindings, valid: false };
    lineCounter = new LineCounter();
    yaml = parseDocument(source, { uniqueKeys: false, lineCounter });
  }
  if (!isMap(yaml.contents)) {
    const finding: Finding = {
      rule: 'yaml',
      level: 'error',
      file: display,
      keyPath: '(top level)',
      message: 'expected a mapping of recipe keys',
      fix: 'write one "key: value" per line, with a platform: block',
      line: 1,
      column: 1,
    };
    return { ...base, findings: [finding], valid: false };
  }

  const raw = yaml.toJS() as Record<string, unknown>;
  const peftVersion = options.peftVersion ?? TRAINING_LIBRARY_VERSIONS.peft;
  const context: LintContext = { name, file: display, raw, config, peftVersion };
  const findings: Finding[] = [...yamlFindings];

  // Keys a raw rule explains are taken out so the schema does not report them a second time as "unknown key".
  const forSchema = withoutKeys(raw, KEYS_EXPLAINED_BY_LINT);
  const parsed = recipeSchema.safeParse(forSchema);
  let document: RecipeDocument | undefined;
  if (parsed.success) {
    document = parsed.data as RecipeDocument;
  } else {
    findings.push(...schemaFindings(display, parsed.error, forSchema));
    // Run the rules on the keys the schema accepted, when the platform block is usable.
    const badKeys = new Set(
      parsed.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : i.path.length > 0 ? [String(i.path[0])] : [],
      ),
    );
    if (!badKeys.has(PLATFORM_KEY)) {
      const partial = recipeSchema.safeParse(withoutKeys(forSchema, badKeys));
      if (partial.success) document = partial.data as RecipeDocument;
    }
  }

  const analysis = document ? analyzeRecipe(document, config) : undefined;
  const full: LintContext = { ...context, doc: document, analysis };
  for (const rule of LINT_RULES) {
    if (rule.input === 'document' && !document) continue;
    findings.push(...rule.check(full));
  }
  const valid = parsed.success && !findings.some((f) => f.level === 'error');
  // In file order, so a reader (and an editor's problem list) goes top to bottom.
  const located = findings
    .map((f) => placed(yaml, lineCounter, f))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return { ...base, document, analysis, findings: located, valid };
}

/** The {@link LoadedRecipe} record of a valid recipe (same fields the lead's loader produces). */
export function toLoadedRecipe(v: RecipeValidation): LoadedRecipe {
  if (!v.valid || !v.document) throw new Error(`${v.file}: not a valid recipe`);
  return { name: v.name, file: v.file, source: v.source, hash: v.hash, document: v.document };
}

/** Recipe names must be unique after lowercasing (`a.yaml`/`a.yml`, `A.yaml`/`a.yaml` collide). */
export function duplicateNameFindings(validations: readonly RecipeValidation[]): Finding[] {
  const byName = new Map<string, RecipeValidation[]>();
  for (const v of validations) {
    const key = v.name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), v]);
  }
  const out: Finding[] = [];
  for (const [lower, group] of byName) {
    if (group.length < 2) continue;
    for (const v of group) {
      out.push({
        rule: 'duplicate-recipe-name',
        level: 'error',
        file: v.file,
        keyPath: '(file name)',
        found: JSON.stringify(v.name),
        message: `${group.map((g) => g.file).join(' and ')} both become pipeline "${lower}"`,
        fix: 'rename or remove one of them',
      });
    }
  }
  return out;
}
