import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/errors';
import { loadAppConfig, readCdkJsonContext } from '../config/load-app-config';
import { listRecipeFiles, recipeNameOf } from '../config/load-recipes';
import { fixRenamedKeys } from './fix-recipe';
import { buildFilesReport, renderRecipeReport } from './report';

/**
 * `gpt-oss init <name> --from <recipe or file>`: starts a new recipe `<dir>/<name>.yaml` as a copy of a shipped
 * recipe (by name, e.g. `gpt-oss-20b-multilingual-lora`) or of any recipe file, with renamed keys already
 * rewritten (lib/recipes/fix-recipe.ts). The copy is checked exactly as `npm run recipes -- <file>` checks it and
 * kept only when it passes, so what `init` leaves behind is always a valid recipe. It never overwrites a file.
 * Exit code: 0 written, 1 the copy fails the check (the findings are printed, nothing is kept), 2 cannot start.
 */

export interface InitCommandOptions {
  readonly name: string;
  /** A recipe name in `dir` or a path to a recipe file (relative to `cwd`). */
  readonly from: string;
  /** Recipes directory, relative to `cwd`. */
  readonly dir: string;
  readonly cwd: string;
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

/** README "Onboarding a recipe": the file name becomes SageMaker resource names, so lowercase, digits, hyphens. */
const NAME = /^[a-z0-9](-*[a-z0-9])*$/;

function fail(options: InitCommandOptions, message: string): number {
  options.stderr.write(`error: ${message}\n`);
  return 2;
}

function sourceFile(options: InitCommandOptions, dir: string): string | undefined {
  const asPath = path.resolve(options.cwd, options.from);
  if (fs.existsSync(asPath) && fs.statSync(asPath).isFile()) return asPath;
  return listRecipeFiles(dir).find((f) => recipeNameOf(f) === options.from);
}

export function runInitCommand(options: InitCommandOptions): number {
  const dir = path.resolve(options.cwd, options.dir);
  if (!NAME.test(options.name)) {
    return fail(
      options,
      `recipe name "${options.name}": use lowercase letters, digits and hyphens, starting and ending with a letter ` +
        'or digit (it becomes the pipeline, model package group and endpoint name)',
    );
  }
  const from = sourceFile(options, dir);
  if (!from) {
    const known = listRecipeFiles(dir).map(recipeNameOf);
    return fail(
      options,
      `--from "${options.from}" is neither a file nor a recipe in ${options.dir}/` +
        (known.length > 0 ? `; recipes there: ${known.join(', ')}` : ''),
    );
  }
  const target = path.join(dir, `${options.name}.yaml`);
  const shown = path.relative(options.cwd, target);
  const clash = listRecipeFiles(dir).find((f) => recipeNameOf(f).toLowerCase() === options.name);
  if (clash) {
    return fail(
      options,
      `${path.relative(options.cwd, clash)} already exists; pick another name (init never overwrites)`,
    );
  }
  let config;
  try {
    config = loadAppConfig(readCdkJsonContext(options.cwd), options.cwd);
  } catch (e) {
    if (e instanceof ConfigError) return fail(options, e.message);
    throw e;
  }
  const fixed = fixRenamedKeys(fs.readFileSync(from, 'utf8'));
  const header = `# Started with \`gpt-oss init ${options.name} --from ${options.from}\`.\n`;
  fs.mkdirSync(dir, { recursive: true });
  // 'wx': fail rather than overwrite if the file appeared since the check above.
  fs.writeFileSync(target, header + fixed.text, { flag: 'wx' });
  const report = buildFilesReport([shown], config, { cwd: options.cwd });
  if (!report.ok) {
    fs.rmSync(target);
    options.stdout.write(renderRecipeReport(report));
    options.stderr.write(
      `error: a copy of ${path.relative(options.cwd, from)} as ${shown} fails the recipe check (findings above); ` +
        'nothing was written. Fix the source recipe, or copy it by hand and fix the copy\n',
    );
    return 1;
  }
  for (const r of fixed.renamed) options.stdout.write(`renamed ${r.from} → ${r.to} (line ${r.line} of the source)\n`);
  options.stdout.write(`wrote ${shown} (from ${path.relative(options.cwd, from)}); it passes the recipe check\n`);
  options.stdout.write(`next: edit it, run "npm run recipes -- ${shown}", then open a pull request\n`);
  return 0;
}
