import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { ConfigError, formatZodIssues } from './errors';
import { type RecipeDocument, recipeSchema } from './recipe-schema';
import { yamlErrorMessage, yamlErrorPosition } from './yaml-positions';

/** A recipe file that parsed and passed the schema (lint rules run later, in lib/recipes). */
export interface LoadedRecipe {
  /** Pipeline name: the file name without `.yaml`. */
  readonly name: string;
  /** Path relative to the working directory, for messages. */
  readonly file: string;
  /** The file's bytes as committed; uploaded unchanged as the job's recipe channel. */
  readonly source: string;
  /** sha256 of `source`, first 12 hex digits: traces a model back to the exact recipe. */
  readonly hash: string;
  readonly document: RecipeDocument;
}

/** A recipe's pipeline name: its file name without `.yaml`/`.yml`. */
export function recipeNameOf(file: string): string {
  return path.basename(file).replace(/\.ya?ml$/, '');
}

/** What identifies a recipe file, before any parsing: name, display path, committed bytes and their hash. */
export type RecipeSource = Pick<LoadedRecipe, 'name' | 'file' | 'source' | 'hash'>;

/** Reads a recipe file's bytes and identity; `file` in the result is relative to `cwd`, for messages. */
export function readRecipeSource(file: string, cwd = process.cwd()): RecipeSource {
  const source = fs.readFileSync(file, 'utf8');
  return {
    name: recipeNameOf(file),
    file: path.relative(cwd, path.resolve(cwd, file)) || file,
    source,
    hash: crypto.createHash('sha256').update(source).digest('hex').slice(0, 12),
  };
}

/** Reads and validates one recipe; every schema problem in the file is reported at once. */
export function loadRecipe(file: string, cwd = process.cwd()): LoadedRecipe {
  const recipe = readRecipeSource(file, cwd);
  const display = recipe.file;
  const doc = parseDocument(recipe.source, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      display,
      doc.errors.map((e) => {
        const { line, column } = yamlErrorPosition(e);
        return `line ${line}, column ${column}: ${yamlErrorMessage(e)}; fix the YAML syntax`;
      }),
    );
  }
  if (!isMap(doc.contents)) {
    throw new ConfigError(display, ['(top level): expected a mapping of recipe keys']);
  }
  const raw: unknown = doc.toJS();
  const result = recipeSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(display, formatZodIssues(result.error, raw, recipeSchema));
  return { ...recipe, document: result.data as RecipeDocument };
}

/** Lists `*.yaml`/`*.yml` in a recipes directory in a stable order. */
export function listRecipeFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}
