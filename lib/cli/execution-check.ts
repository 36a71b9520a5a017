import { parseDocument } from 'yaml';
import { readRecipeSource } from '../config/load-recipes';
import { explicitTags, tagMessage } from '../config/yaml-tags';
import { checkExecution, type ExecutionCheck, type ParameterValue } from '../recipes/execute-check';
import { formatFinding } from '../recipes/findings';
import type { CliContext } from './context';
import { CliError } from './errors';
import { formatUsd } from './output';
import type { RecipePipeline } from './pipelines';

/**
 * `run`'s check of an execution before anything starts: the checkout's recipe with the execution's values
 * (the deployed defaults, then the flags) through the recipe rules (lib/recipes/execute-check.ts).
 */

/** The values an execution runs with: each deployed parameter's default, replaced by the given overrides. */
export function executionValues(
  pipeline: Pick<RecipePipeline, 'parameters'>,
  overrides: readonly { Name: string; Value: string }[],
): Record<string, ParameterValue> {
  const values: Record<string, ParameterValue> = {};
  for (const p of pipeline.parameters) if (p.DefaultValue !== undefined) values[p.Name] = p.DefaultValue;
  for (const o of overrides) values[o.Name] = o.Value;
  return values;
}

/**
 * Checks the execution against `recipes/<recipe>.yaml` of the checkout; throws a CliError listing every error
 * (nothing started). Undefined when the checkout has no such file (the pipeline's first step still checks).
 */
export function checkRunExecution(
  ctx: CliContext,
  pipeline: RecipePipeline,
  overrides: readonly { Name: string; Value: string }[],
): ExecutionCheck | undefined {
  const file = ctx.recipeFile(pipeline.recipe);
  if (!file) {
    ctx.out.warn(
      `no recipes/${pipeline.recipe}.yaml in this checkout: the execution is checked by the pipeline's first step only`,
    );
    return undefined;
  }
  const source = readRecipeSource(file, ctx.projectDir);
  const doc = parseDocument(source.source);
  const tags = explicitTags(doc, source.source);
  if (doc.errors.length > 0 || tags.length > 0) {
    const problems = [...doc.errors.map((e) => e.message.split('\n')[0]), ...tags.map(tagMessage)];
    throw new CliError(`${source.file}: ${problems.join('; ')}; nothing was started`);
  }
  const check = checkExecution(
    source,
    (doc.toJS() ?? {}) as Record<string, unknown>,
    executionValues(pipeline, overrides),
    ctx.config,
    { cwd: ctx.projectDir },
  );
  const errors = check.findings.filter((f) => f.level === 'error');
  if (errors.length > 0) {
    throw new CliError(
      `the execution of ${pipeline.pipelineName} does not pass the recipe check; nothing was started:\n` +
        errors.map((f) => `  ${formatFinding(f)}`).join('\n'),
    );
  }
  return check;
}

/** The `run --dry-run` plan: what would run, on what, for how long and at what estimated cost. */
export function planLines(
  pipeline: RecipePipeline,
  values: Readonly<Record<string, ParameterValue>>,
  check: ExecutionCheck | undefined,
): string[] {
  const lines = [`plan        ${pipeline.pipelineName} (recipe ${pipeline.recipe}); dry run, nothing started`];
  for (const [name, value] of Object.entries(values)) lines.push(`  ${name.padEnd(22)} ${String(value)}`);
  const run = check?.analysis?.run;
  if (run) {
    lines.push(
      `estimate    ~${run.totalHours.toFixed(1)} h, ~${formatUsd(run.costUsd)} on demand` +
        `${run.spot ? ' (an upper bound with spot)' : ''}; price ${run.price.priceSource}`,
    );
  } else if (check) {
    lines.push('estimate    none (the estimator cannot price this model or instance)');
  }
  for (const f of check?.findings ?? []) lines.push(`  ${formatFinding(f)}`);
  return lines;
}
