/**
 * Scale benchmark: synthesizes the whole app (createStacks + the four compliance packs, as `cdk synth` does)
 * with 1, 50, 200 and 500 generated recipes and prints, per run, the time to load recipes, construct and
 * synthesize, and each stack's (and nested stack's) resource count and template size, against 80% of
 * CloudFormation's 500-resource and 1 MB limits.
 *
 *   npx tsx test/bench/synth-scale.ts                 # 1, 50, 200, 500
 *   npx tsx test/bench/synth-scale.ts 500 --no-nag    # one size, without the compliance packs
 *
 * Each size runs in its own process (a fresh `cdk synth`). Exit code 1 when a limit or the 60 s goal for
 * 500 recipes is missed. Generated recipes are copies of recipes/gpt-oss-20b-multilingual-lora.yaml with
 * a distinct learning rate, so every definition and recipe hash differs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { appConfigSchema } from '../../lib/config/app-config';
import { parseOrThrow } from '../../lib/config/errors';
import { listRecipeFiles, loadRecipe } from '../../lib/config/load-recipes';
import { compliancePacks, createStacks } from '../../lib/create-stacks';
import { analyzeLoadedRecipe } from '../../lib/recipes/recipe-analysis';
import { DEFAULT_CODE_DIRECTORY } from '../../lib/stacks/training-stack';
import { appContext } from '../support/template';

const SIZES = [1, 50, 200, 500];
const RESOURCE_LIMIT = 500;
const TEMPLATE_LIMIT_BYTES = 1_000_000;
const BUDGET = 0.8;
const GOAL_SECONDS_500 = 60;
const SOURCE_RECIPE = path.resolve(__dirname, '..', '..', 'recipes', 'gpt-oss-20b-multilingual-lora.yaml');

interface TemplateStats {
  readonly name: string;
  readonly resources: number;
  readonly bytes: number;
}

interface RunResult {
  readonly recipes: number;
  readonly nag: boolean;
  readonly loadMs: number;
  readonly constructMs: number;
  readonly synthMs: number;
  readonly templates: TemplateStats[];
  readonly note?: string;
}

function generateRecipes(n: number, dir: string): void {
  const source = fs.readFileSync(SOURCE_RECIPE, 'utf8');
  if (!/^learning_rate: .*$/m.test(source)) throw new Error(`${SOURCE_RECIPE} has no learning_rate line to vary`);
  for (let i = 0; i < n; i++) {
    const text = source.replace(/^learning_rate: .*$/m, `learning_rate: ${(1 + i / 1000).toFixed(3)}e-4`);
    fs.writeFileSync(path.join(dir, `bench-${String(i).padStart(3, '0')}.yaml`), text);
  }
}

/** One synthesis in this process. */
function runOnce(n: number, nag: boolean): RunResult {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `synth-scale-${n}-`));
  const recipesDir = path.join(work, 'recipes');
  fs.mkdirSync(recipesDir);
  generateRecipes(n, recipesDir);
  let note: string | undefined;
  let metricDefinitionsFile: string | undefined;
  if (!fs.existsSync(path.join(DEFAULT_CODE_DIRECTORY, 'metric_definitions.json'))) {
    // the training code's contract file is not there yet: time the app with a stand-in of the same shape.
    metricDefinitionsFile = path.join(work, 'metric_definitions.json');
    fs.writeFileSync(
      metricDefinitionsFile,
      JSON.stringify([
        { Name: 'train_loss', Regex: 'train_loss=([0-9.eE+-]+)' },
        { Name: 'eval_loss', Regex: 'eval_loss=([0-9.eE+-]+)' },
      ]),
    );
    note = 'training-code/metric_definitions.json missing: a 2-metric stand-in was used';
  }
  try {
    const t0 = performance.now();
    const config = parseOrThrow(appConfigSchema, {}, 'benchmark config');
    const recipes = listRecipeFiles(recipesDir).map((f) => analyzeLoadedRecipe(loadRecipe(f), config));
    const t1 = performance.now();
    const app = new cdk.App({ context: appContext(), outdir: path.join(work, 'cdk.out') });
    createStacks(app, { config, recipes, gitSha: 'bench', training: { metricDefinitionsFile } });
    if (nag) cdk.Validations.of(app).addPlugins(...compliancePacks());
    const t2 = performance.now();
    const assembly = app.synth();
    const t3 = performance.now();
    const templates: TemplateStats[] = [];
    for (const file of fs
      .readdirSync(assembly.directory)
      .filter((f) => f.endsWith('.template.json'))
      .sort()) {
      const full = path.join(assembly.directory, file);
      const json = JSON.parse(fs.readFileSync(full, 'utf8')) as { Resources?: Record<string, unknown> };
      templates.push({
        name: file.replace(/\.template\.json$/, ''),
        resources: Object.keys(json.Resources ?? {}).length,
        bytes: fs.statSync(full).size,
      });
    }
    return { recipes: n, nag, loadMs: t1 - t0, constructMs: t2 - t1, synthMs: t3 - t2, templates, note };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function pct(value: number, limit: number): string {
  return `${((100 * value) / limit).toFixed(1)}%`;
}

function report(result: RunResult): string[] {
  const problems: string[] = [];
  const total = (result.loadMs + result.constructMs + result.synthMs) / 1000;
  console.log(
    `\n== ${result.recipes} recipe(s)${result.nag ? ', with the 4 compliance packs' : ', no compliance packs'}: ` +
      `${total.toFixed(1)} s (load ${(result.loadMs / 1000).toFixed(1)} s, construct ${(result.constructMs / 1000).toFixed(1)} s, ` +
      `synth ${(result.synthMs / 1000).toFixed(1)} s)`,
  );
  if (result.note) console.log(`   note: ${result.note}`);
  const width = Math.max(...result.templates.map((t) => t.name.length));
  for (const t of result.templates) {
    console.log(
      `   ${t.name.padEnd(width)}  ${String(t.resources).padStart(4)} resources (${pct(t.resources, RESOURCE_LIMIT).padStart(6)})` +
        `  ${(t.bytes / 1024).toFixed(1).padStart(7)} KiB (${pct(t.bytes, TEMPLATE_LIMIT_BYTES).padStart(6)})`,
    );
    if (t.resources > RESOURCE_LIMIT * BUDGET)
      problems.push(`${result.recipes}: ${t.name} has ${t.resources} resources`);
    if (t.bytes > TEMPLATE_LIMIT_BYTES * BUDGET) problems.push(`${result.recipes}: ${t.name} is ${t.bytes} bytes`);
  }
  if (result.recipes >= 500 && total > GOAL_SECONDS_500)
    problems.push(`${result.recipes}: ${total.toFixed(1)} s > ${GOAL_SECONDS_500} s`);
  return problems;
}

function main(): void {
  const args = process.argv.slice(2);
  const nag = !args.includes('--no-nag');
  const oneIndex = args.indexOf('--one');
  if (oneIndex >= 0) {
    // child mode: one size, result as JSON on the last line.
    console.log(JSON.stringify(runOnce(Number(args[oneIndex + 1]), nag)));
    return;
  }
  const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
  console.log(`synth scale benchmark on ${os.cpus().length} CPU(s), node ${process.version}`);
  const problems: string[] = [];
  for (const n of sizes.length > 0 ? sizes : SIZES) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, __filename, '--one', String(n), ...(nag ? [] : ['--no-nag'])],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (child.status !== 0) {
      console.error(child.stdout, child.stderr);
      throw new Error(`benchmark run with ${n} recipes failed (exit ${child.status})`);
    }
    const lines = child.stdout.trim().split('\n');
    problems.push(...report(JSON.parse(lines[lines.length - 1]) as RunResult));
  }
  if (problems.length > 0) {
    console.log(`\nover budget:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`\nall stacks within ${BUDGET * 100}% of ${RESOURCE_LIMIT} resources and 1 MB`);
  }
}

main();
