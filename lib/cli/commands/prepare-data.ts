import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { DATASET_KEYS } from '../../config/artifacts-layout';
import { ConfigError } from '../../config/errors';
import { type LoadedRecipe, loadRecipe } from '../../config/load-recipes';
import { stackName } from '../../config/naming';
import {
  PREPARED_DATASET_MANIFEST,
  type PreparedDatasetManifest,
  preparedDatasetManifestSchema,
} from '../../config/prepared-dataset';
import { addAwsOptions, runCommand } from '../command';
import type { CliContext, CliEnvironment } from '../context';
import { checkOutputName, convertFiles, type DatasetInput } from '../dataset-convert';
import { detectFormat } from '../dataset-reader';
import { awsCall, CliError } from '../errors';
import { estimateRunForData, type DataRunEstimate } from '../estimate';
import { hubAccess } from '../hub';
import { fetchDatasetSplit, PARQUET_CONVERSION_REF } from '../hub-dataset';
import { formatBytes, formatCount, formatDuration, formatUsd } from '../output';
import { defaultDatasetUri, describeRecipePipeline } from '../pipelines';
import { assertBucket, otherObjects, parseS3Uri, type S3Location, s3Uri, uploadFile } from '../s3';
import { hashFile } from '../verified-upload';

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
  /** Read this Hub dataset's Parquet files instead of a local file. */
  readonly fromHub?: string;
  /** With `fromHub`: the split. @default train */
  readonly split?: string;
  /** With `fromHub`: branch, tag or commit. @default main */
  readonly revision?: string;
  readonly token?: string;
  readonly hubUrl?: string;
}

const DEFAULT_NAME = 'train.jsonl';

export interface PrepareDataResult {
  /** The local file, or the Hub dataset id. */
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
  const name = opts.name ?? DEFAULT_NAME;
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

/** Checks the flags that need no file and no AWS call, so a mistake costs nothing. */
function checkOptions(file: string | undefined, opts: PrepareDataOptions): void {
  if (file && opts.fromHub) throw new CliError('give either a file or --from-hub <dataset id>, not both');
  if (!file && !opts.fromHub) throw new CliError('give the dataset: a local file, or --from-hub <dataset id>');
  if (!opts.fromHub && (opts.split || opts.revision)) {
    throw new CliError('--split and --revision choose what --from-hub reads; a local file has neither');
  }
  checkOutputName(opts.name ?? DEFAULT_NAME, '--name');
  if (opts.s3Uri && !opts.s3Uri.endsWith('/')) {
    const key = parseS3Uri(opts.s3Uri, '--s3-uri').key;
    if (key !== '') checkOutputName(key.slice(key.lastIndexOf('/') + 1), '--s3-uri object name');
  }
}

/** The files to read, from the local argument or the Hub, and what the manifest says about their source. */
async function gatherInputs(
  ctx: CliContext,
  file: string | undefined,
  opts: PrepareDataOptions,
  tmp: string,
): Promise<{ inputs: DatasetInput[]; source: PreparedDatasetManifest['source']; describe: string; format: string }> {
  if (file) {
    const input = path.resolve(ctx.environment.cwd, file);
    const format = detectFormat(input);
    if (!fs.existsSync(input)) throw new CliError(`${file}: file not found; check the path`);
    return {
      inputs: [{ file: input, label: '' }],
      source: { type: 'file', name: file, sha256: await hashFile(input) },
      describe: file,
      format,
    };
  }
  const datasetId = opts.fromHub as string;
  const revision = opts.revision ?? 'main';
  const split = opts.split ?? 'train';
  const access = hubAccess(opts, ctx.environment.env);
  const fetched = await fetchDatasetSplit(access, datasetId, revision, split, tmp, ctx.out);
  return {
    inputs: fetched.files.map((f) => ({ file: f.localPath, label: f.path })),
    source: {
      type: 'hub',
      datasetId,
      revision,
      commitSha: fetched.commit,
      split,
      files: fetched.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    },
    describe: `${datasetId} ${split} split at ${fetched.commit.slice(0, 12)}`,
    format: `parquet, ${fetched.files.length} file${fetched.files.length === 1 ? '' : 's'}`,
  };
}

/** Removes the manifest, uploads the data, then writes the manifest, so a half-done upload never looks ready. */
async function uploadWithManifest(
  ctx: CliContext,
  converted: string,
  dest: S3Location,
  manifest: PreparedDatasetManifest,
): Promise<{ bytes: number; parts: number; versionId?: string }> {
  const manifestKey = `${dest.key.slice(0, dest.key.lastIndexOf('/') + 1)}${PREPARED_DATASET_MANIFEST}`;
  const manifestUri = s3Uri({ bucket: dest.bucket, key: manifestKey });
  await awsCall({ action: 's3:DeleteObject', resource: manifestUri, endpointUrl: ctx.endpointUrl }, () =>
    ctx.aws.s3.send(new DeleteObjectCommand({ Bucket: dest.bucket, Key: manifestKey })),
  );
  const uploaded = await uploadFile(ctx.aws.s3, converted, dest, ctx.out, { endpointUrl: ctx.endpointUrl });
  await awsCall({ action: 's3:PutObject', resource: manifestUri, endpointUrl: ctx.endpointUrl }, () =>
    ctx.aws.s3.send(
      new PutObjectCommand({
        Bucket: dest.bucket,
        Key: manifestKey,
        Body: `${JSON.stringify(preparedDatasetManifestSchema.parse(manifest), null, 2)}\n`,
        ContentType: 'application/json',
      }),
    ),
  );
  return uploaded;
}

/**
 * `prepare-data FILE --recipe R` or `prepare-data --from-hub ID --recipe R`: validate, report, convert and
 * upload a fine-tuning dataset, then write its manifest.
 */
export async function prepareData(
  ctx: CliContext,
  file: string | undefined,
  opts: PrepareDataOptions,
): Promise<PrepareDataResult> {
  const out = ctx.out;
  checkOptions(file, opts);
  if (file) detectFormat(path.resolve(ctx.environment.cwd, file));
  const recipe = loadRecipeFor(ctx, opts.recipe);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-oss-data-'));
  const name = opts.name ?? DEFAULT_NAME;
  const converted = path.join(tmp, name);
  try {
    const { inputs, source, describe, format } = await gatherInputs(ctx, file, opts, tmp);
    const { stats, bytes } = await convertFiles(inputs, converted, opts.maxErrors ?? 20, describe);
    const maxLength = typeof recipe.document.max_length === 'number' ? recipe.document.max_length : undefined;
    const longer = maxLength ? stats.countLongerThan(maxLength) : 0;
    const estimate = estimateRunForData(recipe, stats, ctx.config);

    out.line(`dataset     ${describe} (${format}, all ${formatCount(stats.examples)} rows valid)`);
    if (source.type === 'hub') out.line(`commit      ${source.commitSha} (revision ${source.revision})`);
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
      file: file ?? (opts.fromHub as string),
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
    const others = (await otherObjects(ctx.aws.s3, prefix, dest.key)).filter(
      (k) => k !== `${prefix.key}${PREPARED_DATASET_MANIFEST}`,
    );
    if (others.length > 0) {
      out.warn(
        `s3://${prefix.bucket}/${prefix.key} also holds ${others.length} other object(s) (${others.slice(0, 3).join(', ')}` +
          `${others.length > 3 ? ', ...' : ''}); the training job reads every file under the prefix, so remove them ` +
          'or upload with --s3-uri to a prefix of its own',
      );
    }
    const manifest: PreparedDatasetManifest = {
      format: 1,
      recipe: recipe.name,
      preparedAt: new Date().toISOString(),
      file: { path: dest.key.slice(prefix.key.length), size: bytes, sha256: await hashFile(converted) },
      examples: stats.examples,
      source,
    };
    const uploaded = await uploadWithManifest(ctx, converted, dest, manifest);
    out.line(
      `uploaded    ${s3Uri(dest)} (${formatBytes(uploaded.bytes)}, ${uploaded.parts} part${uploaded.parts === 1 ? '' : 's'}` +
        `${uploaded.versionId ? `, version ${uploaded.versionId}` : ''})`,
    );
    out.line(`manifest    ${s3Uri(prefix)}${PREPARED_DATASET_MANIFEST} (written last)`);
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
    .summary('validate a chat dataset (a local file or a Hub dataset), report it, and upload it as training JSONL')
    .description(
      'Reads a JSONL, JSON or Parquet file, or the Parquet files of one split of a Hugging Face Hub dataset ' +
        '(--from-hub, at a pinned commit), in the Multilingual-Thinking schema or plain chat "messages"; checks ' +
        'every row (strict UTF-8, roles, turn order, thinking only on assistant turns, non-empty content), reports ' +
        "examples, languages, estimated tokens and the recipe's estimated run cost, converts it to training JSONL, " +
        `uploads it to the recipe's dataset location and writes ${PREPARED_DATASET_MANIFEST} (source, commit, ` +
        'split, checksums) last. Any bad row stops it before anything is uploaded.',
    )
    .argument('[file]', 'local .jsonl, .json or .parquet file (or use --from-hub)')
    .requiredOption('-r, --recipe <name>', 'recipe the data is for (recipes/<name>.yaml)')
    .option('--from-hub <dataset-id>', 'read a Hub dataset instead, e.g. HuggingFaceH4/Multilingual-Thinking')
    .option('--split <name>', 'with --from-hub: the split to read (default: train)')
    .option('--revision <rev>', `with --from-hub: branch, tag, commit or ${PARQUET_CONVERSION_REF} (default: main)`)
    .option('--token <token>', 'with --from-hub: Hugging Face token for gated or private datasets (default: HF_TOKEN)')
    .option('--hub-url <url>', 'with --from-hub: Hub endpoint (default: HF_ENDPOINT, then https://huggingface.co)')
    .option('--dry-run', 'validate and report only; no AWS calls, nothing uploaded')
    .option(
      '--bucket <bucket>',
      "upload to s3://<bucket>/datasets/<recipe>/ instead of the pipeline's dataset location",
    )
    .option('--s3-uri <uri>', 'upload to exactly this S3 URI (a prefix ending in "/" gets --name appended)')
    .option('--name <file>', 'object name under the dataset prefix (a plain name ending in .jsonl)', DEFAULT_NAME);
  addAwsOptions(cmd);
  return cmd.action(async (file: string | undefined, opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      await prepareData(ctx, file, {
        recipe: opts.recipe as string,
        dryRun: opts.dryRun === true,
        bucket: opts.bucket as string | undefined,
        s3Uri: opts.s3Uri as string | undefined,
        name: opts.name as string | undefined,
        fromHub: opts.fromHub as string | undefined,
        split: opts.split as string | undefined,
        revision: opts.revision as string | undefined,
        token: opts.token as string | undefined,
        hubUrl: opts.hubUrl as string | undefined,
      });
    });
  });
}
