import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { DATASET_KEYS } from '../../config/artifacts-layout';
import { ConfigError } from '../../config/errors';
import { type LoadedRecipe, loadRecipe } from '../../config/load-recipes';
import { stackName } from '../../config/naming';
import { addAwsOptions, runCommand } from '../command';
import type { CliContext, CliEnvironment } from '../context';
import { convertRow, DatasetStats, type RowProblem } from '../dataset';
import { detectFormat, readRows } from '../dataset-reader';
import { CliError } from '../errors';
import { estimateRunForData, type DataRunEstimate } from '../estimate';
import { formatBytes, formatCount, formatDuration, formatUsd } from '../output';
import { defaultDatasetUri, describeRecipePipeline } from '../pipelines';
import { assertBucket, otherObjects, parseS3Uri, type S3Location, s3Uri, uploadFile } from '../s3';

export interface PrepareDataOptions {
  /** Recipe the data is for (`recipes/<recipe>.yaml`); decides the destination and the cost estimate. */
  readonly recipe: string;
  /** Validate and report only; no AWS call, nothing uploaded. */
  readonly dryRun?: boolean;
  /** Upload to this bucket under `datasets/<recipe>/` instead of the pipeline's dataset location. */
  readonly bucket?: string;
  /** Upload to exactly this S3 URI (a prefix ending in `/` gets `--name` appended). */
  readonly s3Uri?: string;
  /** Object name under the prefix. @default train.jsonl */
  readonly name?: string;
  /** How many bad rows to list before "and N more". @default 20 */
  readonly maxErrors?: number;
}

export interface PrepareDataResult {
  readonly file: string;
  readonly examples: number;
  readonly withReasoning: number;
  readonly languages: Record<string, number>;
  readonly estimatedTokens: { readonly total: number; readonly average: number; readonly max: number };
  readonly longerThanMaxLength?: { readonly maxLength: number; readonly examples: number };
  readonly estimate?: DataRunEstimate;
  /** Where the data went (or would go); undefined on a dry run without --bucket/--s3-uri. */
  readonly destination?: string;
  readonly uploaded: boolean;
  readonly bytes: number;
}

/** Reads, validates and converts every row into a temporary JSONL; throws listing the bad rows. */
async function convertFile(
  file: string,
  target: string,
  maxErrors: number,
): Promise<{ stats: DatasetStats; bytes: number }> {
  const stats = new DatasetStats();
  const problems: RowProblem[] = [];
  let problemCount = 0;
  const outStream = fs.createWriteStream(target, 'utf8');
  const closed = new Promise<void>((resolve, reject) => {
    outStream.on('finish', resolve);
    outStream.on('error', reject);
  });
  try {
    for await (const raw of readRows(file)) {
      const result = 'parseError' in raw ? { ok: false as const, reason: raw.parseError } : convertRow(raw.value);
      if (!result.ok) {
        problemCount += 1;
        if (problems.length < maxErrors) problems.push({ where: raw.where, reason: result.reason });
        continue;
      }
      stats.add(result.info);
      if (problemCount === 0 && !outStream.write(`${JSON.stringify(result.info.row)}\n`)) {
        await new Promise<void>((resolve) => outStream.once('drain', () => resolve()));
      }
    }
  } finally {
    outStream.end();
    await closed;
  }
  if (problemCount > 0) {
    const more = problemCount > problems.length ? `\n  ... and ${problemCount - problems.length} more` : '';
    throw new CliError(
      `${file}: ${problemCount} invalid row${problemCount === 1 ? '' : 's'} out of ${problemCount + stats.examples}; ` +
        `nothing was uploaded; fix ${problemCount === 1 ? 'it' : 'them'} and run again:\n` +
        problems.map((p) => `  ${p.where}: ${p.reason}`).join('\n') +
        more,
    );
  }
  if (stats.examples === 0) throw new CliError(`${file}: has no examples; nothing was uploaded`);
  return { stats, bytes: fs.statSync(target).size };
}

function loadRecipeFor(ctx: CliContext, recipe: string): LoadedRecipe {
  const file = ctx.recipeFile(recipe);
  if (!file) {
    const known = ctx.localRecipeNames();
    throw new CliError(
      `unknown recipe "${recipe}": there is no recipes/${recipe}.yaml in ${ctx.projectDir}; ` +
        `known recipes: ${known.length > 0 ? known.join(', ') : 'none'}`,
    );
  }
  try {
    return loadRecipe(file, ctx.projectDir);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`recipe "${recipe}" is invalid; fix it first:\n${e.message}`);
    throw e;
  }
}

/** Where the converted file goes, in order: --s3-uri, --bucket, the pipeline's dataset parameter, the recipe. */
async function resolveDestination(
  ctx: CliContext,
  recipe: LoadedRecipe,
  opts: PrepareDataOptions,
): Promise<{ loc: S3Location; pipelineDefault: boolean }> {
  const name = opts.name ?? 'train.jsonl';
  const withName = (loc: S3Location): S3Location =>
    loc.key === '' || loc.key.endsWith('/') ? { bucket: loc.bucket, key: `${loc.key}${name}` } : loc;
  if (opts.s3Uri) return { loc: withName(parseS3Uri(opts.s3Uri, '--s3-uri')), pipelineDefault: false };
  if (opts.bucket)
    return { loc: { bucket: opts.bucket, key: `${DATASET_KEYS.recipe(recipe.name)}${name}` }, pipelineDefault: false };
  const pipeline = await describeRecipePipeline(ctx, recipe.name);
  const fromPipeline = defaultDatasetUri(pipeline.parameters);
  if (fromPipeline) {
    const loc = withName(parseS3Uri(fromPipeline, `pipeline ${pipeline.pipelineName} dataset parameter`));
    return { loc, pipelineDefault: true };
  }
  const fromRecipe = recipe.document.platform.data.s3_uri;
  if (fromRecipe)
    return { loc: withName(parseS3Uri(fromRecipe, `${recipe.file} platform.data.s3_uri`)), pipelineDefault: false };
  throw new CliError(
    `cannot tell where recipe "${recipe.name}" reads its data: pipeline ${pipeline.pipelineName} has no dataset ` +
      `parameter and ${recipe.file} sets no platform.data.s3_uri; pass --bucket <datasets bucket> or --s3-uri s3://...`,
  );
}

/** `prepare-data FILE --recipe R`: validate, report, convert and upload a fine-tuning dataset. */
export async function prepareData(ctx: CliContext, file: string, opts: PrepareDataOptions): Promise<PrepareDataResult> {
  const out = ctx.out;
  const input = path.resolve(ctx.environment.cwd, file);
  detectFormat(input);
  const recipe = loadRecipeFor(ctx, opts.recipe);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-oss-data-'));
  const converted = path.join(tmp, opts.name ?? 'train.jsonl');
  try {
    const { stats, bytes } = await convertFile(input, converted, opts.maxErrors ?? 20);
    const maxLength = typeof recipe.document.max_length === 'number' ? recipe.document.max_length : undefined;
    const longer = maxLength ? stats.countLongerThan(maxLength) : 0;
    const estimate = estimateRunForData(recipe, stats, ctx.config);

    out.line(`dataset     ${file} (${detectFormat(input)}, all ${formatCount(stats.examples)} rows valid)`);
    out.line(`examples    ${formatCount(stats.examples)} (${formatCount(stats.withReasoning)} with reasoning)`);
    out.line(
      `languages   ${stats
        .languageCounts()
        .map(([l, n]) => `${l} ${formatCount(n)}`)
        .join(', ')}`,
    );
    out.line(
      `tokens      ~${formatCount(stats.totalTokens)} total, ~${formatCount(stats.averageTokens)} per example, ` +
        `~${formatCount(stats.maxTokens)} max (estimate: ~4 characters per token)`,
    );
    if (maxLength && longer > 0) {
      out.warn(
        `${formatCount(longer)} example(s) are longer than max_length ${maxLength} in ${recipe.file} and will be ` +
          'truncated; raise max_length or shorten them',
      );
    }
    if (estimate) {
      out.line(
        `estimate    ${estimate.summary}: ~${formatDuration(estimate.hours * 3600_000)} on ${estimate.instances}, ` +
          `~${formatUsd(estimate.usd)} per run${estimate.spot ? ' on demand (less with spot)' : ''}`,
      );
      if (estimate.note) out.line(`            ${estimate.note}`);
    }
    out.line(`converted   ${formatBytes(bytes)} of training JSONL ({"messages": [...]} per line)`);

    const base = {
      file,
      examples: stats.examples,
      withReasoning: stats.withReasoning,
      languages: Object.fromEntries(stats.languageCounts()),
      estimatedTokens: { total: stats.totalTokens, average: stats.averageTokens, max: stats.maxTokens },
      longerThanMaxLength: maxLength ? { maxLength, examples: longer } : undefined,
      estimate,
      bytes,
    };

    if (opts.dryRun) {
      const dest = opts.s3Uri || opts.bucket ? s3Uri((await resolveDestination(ctx, recipe, opts)).loc) : undefined;
      out.line(`dry run     nothing uploaded${dest ? `; would upload to ${dest}` : ''}`);
      return { ...base, destination: dest, uploaded: false };
    }

    const { loc: dest, pipelineDefault } = await resolveDestination(ctx, recipe, opts);
    await assertBucket(
      ctx.aws.s3,
      dest.bucket,
      `deploy the data stack ("npx cdk deploy ${stackName(ctx.naming, 'data')}") or pass --bucket with the datasets bucket`,
      ctx.endpointUrl,
    );
    const prefix = { bucket: dest.bucket, key: dest.key.slice(0, dest.key.lastIndexOf('/') + 1) };
    const others = await otherObjects(ctx.aws.s3, prefix, dest.key);
    if (others.length > 0) {
      out.warn(
        `s3://${prefix.bucket}/${prefix.key} also holds ${others.length} other object(s) (${others.slice(0, 3).join(', ')}` +
          `${others.length > 3 ? ', ...' : ''}); the training job reads every file under the prefix, so remove them ` +
          'or upload with --s3-uri to a prefix of its own',
      );
    }
    const uploaded = await uploadFile(ctx.aws.s3, converted, dest, out, { endpointUrl: ctx.endpointUrl });
    out.line(
      `uploaded    ${s3Uri(dest)} (${formatBytes(uploaded.bytes)}, ${uploaded.parts} part${uploaded.parts === 1 ? '' : 's'}` +
        `${uploaded.versionId ? `, version ${uploaded.versionId}` : ''})`,
    );
    const prefixUri = `s3://${prefix.bucket}/${prefix.key}`;
    // the pipeline reads its default location already; elsewhere, the run must be told.
    out.line(`next        npm run cli -- run ${recipe.name}${pipelineDefault ? '' : ` --dataset ${prefixUri}`}`);
    return { ...base, destination: s3Uri(dest), uploaded: true };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function prepareDataCommand(environment: CliEnvironment): Command {
  const cmd = new Command('prepare-data')
    .summary('validate a chat dataset, report it, and upload it as training JSONL')
    .description(
      'Reads a JSONL, JSON or Parquet file in the Multilingual-Thinking schema or plain chat "messages", checks ' +
        'every row (roles, turn order, thinking only on assistant turns, non-empty content), reports examples, ' +
        "languages, estimated tokens and the recipe's estimated run cost, converts it to training JSONL and uploads " +
        "it to the recipe's dataset location. Any bad row stops it before anything is uploaded.",
    )
    .argument('<file>', 'local .jsonl, .json or .parquet file')
    .requiredOption('-r, --recipe <name>', 'recipe the data is for (recipes/<name>.yaml)')
    .option('--dry-run', 'validate and report only; no AWS calls, nothing uploaded')
    .option(
      '--bucket <bucket>',
      "upload to s3://<bucket>/datasets/<recipe>/ instead of the pipeline's dataset location",
    )
    .option('--s3-uri <uri>', 'upload to exactly this S3 URI (a prefix ending in "/" gets --name appended)')
    .option('--name <file>', 'object name under the dataset prefix', 'train.jsonl');
  addAwsOptions(cmd);
  return cmd.action(async (file: string, opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      await prepareData(ctx, file, {
        recipe: opts.recipe as string,
        dryRun: opts.dryRun === true,
        bucket: opts.bucket as string | undefined,
        s3Uri: opts.s3Uri as string | undefined,
        name: opts.name as string | undefined,
      });
    });
  });
}
