import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { loadRecipe } from '../config/load-recipes';
import {
  PREPARED_DATASET_MANIFEST,
  type PreparedDatasetManifest,
  preparedDatasetManifestSchema,
} from '../config/prepared-dataset';
import {
  BASE_MODELS_PREFIX,
  DEFAULT_MODEL_REVISION,
  STAGED_MODEL_MANIFEST,
  type StagedModelManifest,
  stagedModelManifestSchema,
} from '../config/staged-model';
import type { CliContext } from './context';
import { awsCall, CliError, isNotFound } from './errors';
import { formatCount } from './output';
import { findParameter, type Overridable, type RecipePipeline } from './pipelines';
import { parseS3Uri, type S3Location, s3Uri } from './s3';

/**
 * What `run` checks before it starts a pipeline, so that no GPU is started to find out: the base model is
 * staged where the job's `model` channel points (its manifest, written last by `stage-model`, is there) and
 * the dataset prefix holds data `prepare-data` validated (its manifest, and every file it lists). Each failure
 * is one line with the command that fixes it.
 */

/** The model a recipe names, for the `stage-model` command in a message. */
export interface ExpectedModel {
  readonly hubId?: string;
  readonly revision?: string;
}

/** `npm run cli -- stage-model <hub-id> --revision <rev>`. */
export function stageModelCommand(model: ExpectedModel): string {
  return `npm run cli -- stage-model ${model.hubId ?? '<hub-id>'} --revision ${model.revision ?? DEFAULT_MODEL_REVISION}`;
}

/** `<hub-id>` and `<revision>` of a URI in the staged layout (`.../base-models/<hub-id>/<revision>/`). */
export function modelFromStagedUri(uri: string): ExpectedModel | undefined {
  const key = parseS3Uri(uri).key;
  if (!key.startsWith(BASE_MODELS_PREFIX)) return undefined;
  const parts = key.slice(BASE_MODELS_PREFIX.length).replace(/\/+$/, '').split('/');
  if (parts.length < 2) return undefined;
  return { hubId: parts.slice(0, -1).join('/'), revision: parts[parts.length - 1] };
}

/** The object's text, or undefined when there is no such key. */
async function readText(s3: S3Client, loc: S3Location, endpointUrl?: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    return (await out.Body?.transformToString('utf-8')) ?? '';
  } catch (e) {
    if (isNotFound(e) && (e as { name?: string }).name !== 'NoSuchBucket') return undefined;
    // anything else (no bucket, access denied, network) gets the CLI's usual sentence.
    return awsCall({ action: 's3:GetObject', resource: s3Uri(loc), endpointUrl }, () => Promise.reject(e));
  }
}

function parseManifest<T>(text: string, schema: z.ZodType<T>, where: string, fix: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${where} is not JSON; ${fix}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${where}: ${issue.path.join('.') || '(top)'}: ${issue.message}; ${fix}`);
  }
  return parsed.data;
}

/** A prefix URI ends in `/`, as the pipeline's S3Prefix channels are written. */
function asPrefix(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** The staged model's manifest at `baseModelS3Uri`, or a one-line error with the `stage-model` command. */
export async function checkStagedModel(
  s3: S3Client,
  baseModelS3Uri: string,
  recipeModel: ExpectedModel,
  endpointUrl?: string,
): Promise<StagedModelManifest> {
  const prefix = parseS3Uri(asPrefix(baseModelS3Uri), 'BaseModelS3Uri');
  const model = modelFromStagedUri(s3Uri(prefix)) ?? recipeModel;
  const fix = `run "${stageModelCommand(model)}" first`;
  const loc = { bucket: prefix.bucket, key: `${prefix.key}${STAGED_MODEL_MANIFEST}` };
  const text = await readText(s3, loc, endpointUrl);
  if (text === undefined) {
    throw new CliError(
      `the base model is not staged at ${s3Uri(prefix)} (no ${STAGED_MODEL_MANIFEST}, which stage-model writes ` +
        `last); ${fix}, or pass --base-model-s3-uri with a staged copy; nothing was started`,
    );
  }
  const manifest = parseManifest(text, stagedModelManifestSchema, s3Uri(loc), `${fix}; nothing was started`);
  if (model.hubId !== undefined && (manifest.repoId !== model.hubId || manifest.revision !== model.revision)) {
    throw new CliError(
      `${s3Uri(loc)} holds ${manifest.repoId} at ${manifest.revision}, not ${model.hubId} at ${model.revision}; ` +
        `${fix}; nothing was started`,
    );
  }
  return manifest;
}

/** `npm run cli -- prepare-data ...` for a recipe, from the Hub dataset it names or a local file. */
export function prepareDataCommand(recipe: string, hubDataset?: string): string {
  return hubDataset
    ? `npm run cli -- prepare-data --from-hub ${hubDataset} --recipe ${recipe}`
    : `npm run cli -- prepare-data <file> --recipe ${recipe}`;
}

/**
 * The prepared-dataset manifest of the dataset at `datasetS3Uri` (a prefix, or the one file whose folder holds the
 * manifest), after checking that the file it describes is there with its size.
 */
export async function checkPreparedDataset(
  s3: S3Client,
  datasetS3Uri: string,
  fixCommand: string,
  endpointUrl?: string,
): Promise<PreparedDatasetManifest> {
  const given = parseS3Uri(datasetS3Uri, 'DatasetS3Uri');
  const folder =
    given.key === '' || given.key.endsWith('/') ? given.key : given.key.slice(0, given.key.lastIndexOf('/') + 1);
  const prefix = { bucket: given.bucket, key: folder };
  const fix = `run "${fixCommand}" first; nothing was started`;
  const loc = { bucket: prefix.bucket, key: `${prefix.key}${PREPARED_DATASET_MANIFEST}` };
  const text = await readText(s3, loc, endpointUrl);
  if (text === undefined) {
    throw new CliError(
      `${s3Uri(prefix)} holds no dataset prepared by prepare-data (no ${PREPARED_DATASET_MANIFEST}); ${fix}`,
    );
  }
  const manifest = parseManifest(text, preparedDatasetManifestSchema, s3Uri(loc), fix);
  const file = `${prefix.key}${manifest.file.path}`;
  const listed = await awsCall({ action: 's3:ListBucket', resource: s3Uri(prefix), endpointUrl }, () =>
    s3.send(new ListObjectsV2Command({ Bucket: prefix.bucket, Prefix: file, MaxKeys: 10 })),
  );
  const size = (listed.Contents ?? []).find((o) => o.Key === file)?.Size;
  if (size !== manifest.file.size) {
    const found = size === undefined ? 'is missing' : `has ${size} bytes`;
    throw new CliError(`s3://${prefix.bucket}/${file} ${found}, ${s3Uri(loc)} says ${manifest.file.size}; ${fix}`);
  }
  if (given.key !== folder && given.key !== file) {
    throw new CliError(`${datasetS3Uri} is not the file ${s3Uri(loc)} describes (${manifest.file.path}); ${fix}`);
  }
  return manifest;
}

/** Model and dataset names from the checkout's recipe file, for the fix commands (none when it is absent). */
function recipeHints(ctx: CliContext, recipe: string): { model: ExpectedModel; hubDataset?: string } {
  const file = ctx.recipeFile(recipe);
  if (!file) return { model: {} };
  try {
    const doc = loadRecipe(file, ctx.projectDir).document as Record<string, unknown>;
    const text = (key: string) => (typeof doc[key] === 'string' && doc[key] !== '' ? (doc[key] as string) : undefined);
    return {
      model: { hubId: text('model_name_or_path'), revision: text('model_revision') ?? DEFAULT_MODEL_REVISION },
      hubDataset: text('dataset_name'),
    };
  } catch {
    return { model: {} }; // an invalid local recipe only costs the hint; the deployed pipeline is what runs.
  }
}

/**
 * Before `run` starts an execution: the staged model at the BaseModelS3Uri in effect (when the pipeline has that
 * parameter: pipelines of a VPC with egress read the Hub) and the prepared dataset at the DatasetS3Uri in effect.
 * Throws a one-line {@link CliError} naming the command that fixes it.
 */
export async function runPreflight(
  ctx: CliContext,
  pipeline: RecipePipeline,
  overrides: readonly { Name: string; Value: string }[],
  print: boolean,
): Promise<void> {
  const inEffect = (kind: Overridable): { value?: string; overridden: boolean } => {
    const param = findParameter(pipeline.parameters, kind);
    if (!param) return { overridden: false };
    const override = overrides.find((o) => o.Name === param.Name);
    if (override) return { value: override.Value, overridden: true };
    return { value: typeof param.DefaultValue === 'string' ? param.DefaultValue : undefined, overridden: false };
  };
  const hints = recipeHints(ctx, pipeline.recipe);
  const s3 = ctx.aws.s3;

  const model = inEffect('baseModel');
  if (model.value !== undefined) {
    const manifest = await checkStagedModel(s3, model.value, hints.model, ctx.endpointUrl);
    if (print) {
      ctx.out.line(
        `model       ${manifest.repoId} at ${manifest.revision} (commit ${manifest.commitSha.slice(0, 12)}), ` +
          `staged at ${asPrefix(model.value)}`,
      );
    }
  }

  const dataset = inEffect('dataset');
  if (dataset.value === undefined) {
    ctx.out.warn(`pipeline ${pipeline.pipelineName} has no dataset parameter; the dataset was not checked`);
    return;
  }
  const fix = `${prepareDataCommand(pipeline.recipe, hints.hubDataset)}${dataset.overridden ? ` --s3-uri ${dataset.value}` : ''}`;
  const prepared = await checkPreparedDataset(s3, dataset.value, fix, ctx.endpointUrl);
  if (print) {
    const source =
      prepared.source.type === 'hub'
        ? `${prepared.source.datasetId} ${prepared.source.split} at ${prepared.source.commitSha.slice(0, 12)}`
        : prepared.source.name;
    ctx.out.line(`dataset     ${formatCount(prepared.examples)} examples prepared from ${source}, at ${dataset.value}`);
  }
}
