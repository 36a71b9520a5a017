import * as path from 'node:path';
import { ConfigError } from '../config/errors';
import { loadAppConfig, readCdkJsonContext } from '../config/load-app-config';
import { buildRecipeReport } from './report';
import { type ReportFormat, renderReport } from './report-formats';

/**
 * `gpt-oss recipes [--dir recipes] [--details] [--format text|github|markdown|json] [--json] [--base dir]`: prints the recipe report and returns the exit code
 * (0 all valid, 1 some recipe invalid, 2 the command could not run: bad app config or no such directory).
 * The app config comes from `cdk.json` context `gptOss` in the working directory, so price overrides apply.
 */

export interface RecipesCommandOptions {
  /** Recipes directory, relative to `cwd`. */
  readonly dir: string;
  /** Print the per-recipe memory breakdown, run and serving estimates. */
  readonly details?: boolean;
  /** Output: the text report (default), GitHub annotations, the Markdown PR table, or JSON (lib/recipes/report-formats.ts). */
  readonly format?: ReportFormat;
  /** Recipes directory of the comparison base (the merge base's recipes/), for the Markdown table's changes. */
  readonly base?: string;
  readonly cwd: string;
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

export function runRecipesCommand(options: RecipesCommandOptions): number {
  try {
    const config = loadAppConfig(readCdkJsonContext(options.cwd), options.cwd);
    const report = buildRecipeReport(path.resolve(options.cwd, options.dir), config, { cwd: options.cwd });
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
