import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/errors';
import { loadAppConfig, readCdkJsonContext } from '../config/load-app-config';
import { listRecipeFiles } from '../config/load-recipes';
import { fixRenamedKeys } from './fix-recipe';
import { buildFilesReport, buildRecipeReport } from './report';
import { type ReportFormat, renderReport } from './report-formats';

/**
 * `gpt-oss recipes [files...] [--dir recipes] [--details] [--fix] [--format text|github|markdown|json] [--json]
 * [--base dir]`: prints the recipe report and returns the exit code (0 all valid, 1 some recipe invalid, 2 the
 * command could not run: bad app config, no such directory or file). With files, only those are checked (see
 * `buildFilesReport` for the duplicate-name rule); without, every recipe in `--dir`. `--fix` first rewrites renamed
 * keys in place (lib/recipes/fix-recipe.ts), then checks.
 * The app config comes from `cdk.json` context `gptOss` in the working directory, so price overrides apply.
 */

export interface RecipesCommandOptions {
  /** Recipes directory, relative to `cwd`; used when no files are given. */
  readonly dir: string;
  /** Check only these recipe files (relative to `cwd`). */
  readonly files?: readonly string[];
  /** Print the per-recipe memory breakdown, run and serving estimates. */
  readonly details?: boolean;
  /** Rewrite renamed keys in place before checking. */
  readonly fix?: boolean;
  /** Output: the text report (default), GitHub annotations, the Markdown PR table, or JSON (lib/recipes/report-formats.ts). */
  readonly format?: ReportFormat;
  /** Recipes directory of the comparison base (the merge base's recipes/), for the Markdown table's changes. */
  readonly base?: string;
  readonly cwd: string;
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

/** Applies `fixRenamedKeys` to each file, writing only the files that change; prints one line per change. */
function fixFiles(files: readonly string[], options: RecipesCommandOptions): void {
  for (const file of files) {
    const full = path.resolve(options.cwd, file);
    const shown = path.relative(options.cwd, full) || file;
    if (!fs.existsSync(full)) continue; // reported by the check that follows
    const before = fs.readFileSync(full, 'utf8');
    const result = fixRenamedKeys(before);
    if (result.unreadable) {
      options.stdout.write(`not fixed ${shown}: ${result.unreadable}\n`);
      continue;
    }
    if (result.text !== before) fs.writeFileSync(full, result.text);
    for (const r of result.renamed) options.stdout.write(`fixed ${shown}:${r.line}: ${r.from} → ${r.to}\n`);
    for (const s of result.skipped) options.stdout.write(`not fixed ${shown}:${s.line}: ${s.key}: ${s.reason}\n`);
  }
}

export function runRecipesCommand(options: RecipesCommandOptions): number {
  try {
    const config = loadAppConfig(readCdkJsonContext(options.cwd), options.cwd);
    const dir = path.resolve(options.cwd, options.dir);
    const files = options.files ?? [];
    if (options.fix) fixFiles(files.length > 0 ? files : listRecipeFiles(dir), options);
    const report =
      files.length > 0
        ? buildFilesReport(files, config, { cwd: options.cwd })
        : buildRecipeReport(dir, config, { cwd: options.cwd });
    const base = options.base
      ? buildRecipeReport(path.resolve(options.cwd, options.base), config, { cwd: options.cwd })
      : undefined;
    options.stdout.write(renderReport(options.format ?? 'text', report, { details: options.details, base }));
    return report.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof ConfigError) {
      options.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
