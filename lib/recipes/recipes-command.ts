import * as path from 'node:path';
import { ConfigError } from '../config/errors';
import { loadAppConfig, readCdkJsonContext } from '../config/load-app-config';
import { buildRecipeReport, renderRecipeReport } from './report';

/**
 * `gpt-oss recipes [--dir recipes] [--details]`: prints the recipe report and returns the exit code
 * (0 all valid, 1 some recipe invalid, 2 the command could not run: bad app config or no such directory).
 * The app config comes from `cdk.json` context `gptOss` in the working directory, so price overrides apply.
 */

export interface RecipesCommandOptions {
  /** Recipes directory, relative to `cwd`. */
  readonly dir: string;
  /** Print the per-recipe memory breakdown, run and serving estimates. */
  readonly details?: boolean;
  readonly cwd: string;
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

export function runRecipesCommand(options: RecipesCommandOptions): number {
  try {
    const config = loadAppConfig(readCdkJsonContext(options.cwd), options.cwd);
    const report = buildRecipeReport(path.resolve(options.cwd, options.dir), config, { cwd: options.cwd });
    options.stdout.write(renderRecipeReport(report, { details: options.details }));
    return report.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof ConfigError) {
      options.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
