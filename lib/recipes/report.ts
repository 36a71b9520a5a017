import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppConfig } from '../config/app-config';
import { ConfigError } from '../config/errors';
import { listRecipeFiles, recipeNameOf } from '../config/load-recipes';
import { countLevels, type Finding, formatFinding } from './findings';
import {
  GiB,
  ESTIMATOR_ASSUMPTIONS,
  longestFittingSeqLen,
  REFERENCE_GPU_BYTES,
  type TrainingShape,
} from './memory-estimator';
import { type AnalyzedRecipe, type RecipeAnalysis, TIGHT_MEMORY_SHARE } from './recipe-analysis';
import { measuredRatesFor, RUN_ASSUMPTIONS } from './run-estimator';
import { SERVING_ASSUMPTIONS } from './serving-estimator';
import {
  duplicateNameFindings,
  type RecipeValidation,
  toLoadedRecipe,
  validateRecipeFile,
  type ValidateOptions,
} from './validate-recipe';

/**
 * The recipe report: one table row per recipe (model, method, instance, distribution, estimated GPU memory vs
 * available, hours and $ per run, verdict), then every finding, then the assumptions behind the numbers. This is
 * the check a platform team runs on every recipe pull request (`npm run recipes`), and `loadValidatedRecipes`
 * is the same check for `cdk synth`.
 */

type ReportConfig = Pick<AppConfig, 'namePrefix' | 'stage' | 'prices'>;

export interface RecipeReport {
  readonly dir: string;
  readonly recipes: readonly RecipeValidation[];
  /** Every recipe is valid (no schema problem, no error-level finding). */
  readonly ok: boolean;
}

/** Validates every `*.yaml` in `dir`, including cross-file checks (duplicate pipeline names). */
export function buildRecipeReport(dir: string, config: ReportConfig, options: ValidateOptions = {}): RecipeReport {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ConfigError(dir, ['recipes directory not found; pass --dir <directory with one YAML per pipeline>']);
  }
  const validations = listRecipeFiles(dir).map((file) => validateRecipeFile(file, config, options));
  const duplicates = duplicateNameFindings(validations);
  const recipes = validations.map((v) => {
    const extra = duplicates.filter((d) => d.file === v.file);
    return extra.length === 0 ? v : { ...v, findings: [...v.findings, ...extra], valid: false };
  });
  return { dir, recipes, ok: recipes.every((r) => r.valid) };
}

/**
 * Validates only `files` (`npm run recipes -- <file>...`). The duplicate-name check still looks at each file's
 * siblings: a file collides with another `*.yaml`/`*.yml` in its own directory whose name differs only in case or
 * extension, because that directory is what `cdk synth` reads. Siblings are compared by name only, never
 * validated, so a teammate's broken recipe does not fail your check.
 */
export function buildFilesReport(
  files: readonly string[],
  config: ReportConfig,
  options: ValidateOptions = {},
): RecipeReport {
  const cwd = options.cwd ?? process.cwd();
  const missing = files.filter(
    (f) => !fs.existsSync(path.resolve(cwd, f)) || !fs.statSync(path.resolve(cwd, f)).isFile(),
  );
  if (missing.length > 0) {
    throw new ConfigError(missing.join(', '), ['recipe file not found; pass paths like recipes/<name>.yaml']);
  }
  const recipes = files.map((file) => {
    const v = validateRecipeFile(path.resolve(cwd, file), config, options);
    const own = path.resolve(cwd, file);
    const siblings = listRecipeFiles(path.dirname(own)).filter(
      (s) => path.resolve(s) !== own && recipeNameOf(s).toLowerCase() === v.name.toLowerCase(),
    );
    if (siblings.length === 0) return v;
    const others = siblings.map((s) => path.relative(cwd, s) || s);
    const finding: Finding = {
      rule: 'duplicate-recipe-name',
      level: 'error',
      file: v.file,
      keyPath: '(file name)',
      found: JSON.stringify(v.name),
      message: `${[v.file, ...others].join(' and ')} both become pipeline "${v.name.toLowerCase()}"`,
      fix: 'rename or remove one of them',
    };
    return { ...v, findings: [...v.findings, finding], valid: false };
  });
  return { dir: files.join(' '), recipes, ok: recipes.every((r) => r.valid) };
}

/** A recipe that passed the schema and every error-level rule, with its warnings and its analysis. */
export interface ValidatedRecipe extends AnalyzedRecipe {
  readonly warnings: readonly Finding[];
}

/**
 * Loads and checks every recipe in `dir` and returns them with their analysis, or throws one {@link ConfigError}
 * listing every problem of every file (schema and lint errors; warnings do not block). `cdk synth` uses this so
 * that an invalid recipe never becomes a pipeline, and the stacks build from the returned analysis.
 */
export function loadValidatedRecipes(
  dir: string,
  config: ReportConfig,
  options: ValidateOptions = {},
): ValidatedRecipe[] {
  const report = buildRecipeReport(dir, config, options);
  const errors = report.recipes.flatMap((r) => r.findings.filter((f) => f.level === 'error'));
  if (errors.length > 0) throw new ConfigError(dir, errors.map(formatFinding));
  return report.recipes.map((r) => ({
    ...toLoadedRecipe(r),
    warnings: r.findings.filter((f) => f.level === 'warning'),
    analysis: r.analysis as RecipeAnalysis,
  }));
}

/** `$4.12`, `$52`, `$1,234`: cents only where they matter. */
export function formatUsd(usd: number): string {
  return usd < 10 ? `$${usd.toFixed(2)}` : `$${Math.round(usd).toLocaleString('en-US')}`;
}

function verdict(findings: readonly Finding[]): string {
  const { errors, warnings } = countLevels(findings);
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (errors > 0)
    return warnings > 0 ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')}` : plural(errors, 'error');
  return warnings > 0 ? plural(warnings, 'warning') : 'ok';
}

/** One table row per recipe, as strings. */
export function reportRows(report: RecipeReport): string[][] {
  return report.recipes.map((r) => {
    const a = r.analysis;
    const training = r.document?.platform.training;
    const memory =
      a?.memory && a.availableGiB !== undefined
        ? `${a.memory.perGpuGiB.toFixed(1)} / ${a.availableGiB.toFixed(1)}`
        : '-';
    const hours = a?.run ? a.run.totalHours.toFixed(1) : '-';
    const cost = a?.run ? `${formatUsd(a.run.costUsd)}${a.run.spot ? ' spot' : ''}` : '-';
    return [
      r.name,
      a?.model?.shortName ?? '?',
      a?.method ?? '?',
      training ? `${training.instance_type} × ${training.instance_count}` : '-',
      training?.distribution ?? '-',
      memory,
      hours,
      cost,
      verdict(r.findings),
    ];
  });
}

const HEADER = [
  'recipe',
  'model',
  'method',
  'instance × count',
  'distribution',
  'GiB/GPU est/avail',
  'hours',
  '$/run',
  'verdict',
];

function table(rows: string[][]): string {
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The longest context on an 80 GB GPU for the recipe's attention path, and that path's measured rates. */
function attentionPathLines(shape: TrainingShape): string[] {
  const capacity = REFERENCE_GPU_BYTES * TIGHT_MEMORY_SHARE;
  const longest = longestFittingSeqLen(shape, capacity);
  const path = {
    eager: 'eager attention',
    chunked: 'chunked attention (gpt_oss_chunked)',
    'memory-efficient': 'memory-efficient attention (no L×L scores)',
  }[shape.attention];
  const eager =
    shape.attention === 'eager' ? '' : `; eager: ${longestFittingSeqLen({ ...shape, attention: 'eager' }, capacity)}`;
  const rates = measuredRatesFor(shape.model.hubId, shape.method, shape.attention);
  const measured =
    rates.length === 0
      ? 'not measured on a GPU (the run estimate above uses the calibrated eager rate)'
      : rates.map((r) => `${r.tokensPerSecond} tokens/s on ${r.card}, ${r.date} (${r.what}; ${r.source})`).join('; ');
  return [
    `  longest max_length within ${TIGHT_MEMORY_SHARE * 100}% of an 80 GB GPU (${path}, micro-batch ${shape.microBatch}, ` +
      `this distribution): ${longest} tokens${eager}`,
    `  measured rate of this attention path: ${measured}`,
  ];
}

function details(r: RecipeValidation): string[] {
  const a = r.analysis;
  if (!a?.memory) return [];
  const lines = [`${r.name}: per-GPU memory breakdown (${a.memory.perGpuGiB.toFixed(1)} GiB)`];
  for (const c of a.memory.components) {
    if (c.bytes > 0) lines.push(`  ${c.label.padEnd(38)} ${(c.bytes / GiB).toFixed(2).padStart(7)} GiB  ${c.note}`);
  }
  lines.push(
    `  host RAM per instance                  ${(a.memory.hostBytesPerNode / GiB).toFixed(1).padStart(7)} GiB`,
  );
  if (a.run) {
    lines.push(
      `  run: ${(a.run.trainingTokens / 1e6).toFixed(2)} M tokens at ${a.run.tokensPerSecond.toFixed(0)} tokens/s = ` +
        `${a.run.trainingHours.toFixed(2)} h + ${a.run.setupHours.toFixed(2)} h setup; ` +
        `$${a.run.price.usdPerHour.toFixed(2)}/h (${a.run.price.priceSource}, ${a.run.price.priceDate})`,
    );
  }
  if (a.shape) lines.push(...attentionPathLines(a.shape));
  const { estimate: s, instance: servingInstance, fromRecipe } = a.serving;
  if (s && servingInstance) {
    lines.push(
      `  serving on ${servingInstance.instanceType}${fromRecipe ? '' : ' (derived: no platform.serving)'} (TP ${s.tensorParallelDegree}): ` +
        `${(s.requiredPerGpuBytes / GiB).toFixed(1)} GiB/GPU needed of ${(s.vllmBudgetBytes / GiB).toFixed(1)} GiB vLLM budget`,
    );
  }
  return lines;
}

/** The report as text: table, findings, assumptions (and breakdowns with `details`). */
export function renderRecipeReport(report: RecipeReport, options: { details?: boolean } = {}): string {
  const out: string[] = [];
  if (report.recipes.length === 0) {
    out.push(`no recipes in ${report.dir} (add one YAML file per pipeline)`);
    return `${out.join('\n')}\n`;
  }
  out.push(table(reportRows(report)), '');
  const findings = report.recipes.flatMap((r) => r.findings);
  const { errors, warnings } = countLevels(findings);
  const invalid = report.recipes.filter((r) => !r.valid).length;
  out.push(
    `${report.recipes.length} recipe${report.recipes.length === 1 ? '' : 's'}: ${invalid} invalid; ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  if (findings.length > 0) {
    out.push('', 'Findings:');
    for (const f of findings) out.push(`  ${formatFinding(f)}`);
  }
  if (options.details) {
    out.push('');
    for (const r of report.recipes) out.push(...details(r));
  }
  out.push(
    '',
    'Estimates are first-order and indicative (GiB = 2^30 bytes; $ = on-demand, an upper bound for spot runs; prices are',
    'unverified catalog figures unless the app config `prices` overrides them). Run with --details for breakdowns. Assumptions:',
    ...[...ESTIMATOR_ASSUMPTIONS, ...RUN_ASSUMPTIONS, ...SERVING_ASSUMPTIONS].map((s) => `  - ${s}`),
  );
  return `${out.join('\n')}\n`;
}
