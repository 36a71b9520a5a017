import type { LoadedRecipe } from '../config/load-recipes';
import { stringValue } from '../config/recipe-values';
import { DEFAULT_MODEL_REVISION, HUB_REPO_ID, stagedModelPrefix } from '../config/staged-model';
import type { PrimitiveType } from './expressions';

/**
 * The pipeline parameters every recipe pipeline declares (what the Studio "Execute" form shows), by key:
 * their names and types. This is the contract the CLI imports (`run` flags map onto these names), so a
 * parameter is renamed or retyped here and nowhere else.
 */

/** Names of the pipeline parameters. */
export const PIPELINE_PARAMETERS = {
  instanceType: 'TrainingInstanceType',
  instanceCount: 'TrainingInstanceCount',
  datasetS3Uri: 'DatasetS3Uri',
  /** Only in pipelines whose jobs read the base model from S3 (see {@link BaseModelSource}). */
  baseModelS3Uri: 'BaseModelS3Uri',
  maxRuntimeSeconds: 'MaxRuntimeSeconds',
  useSpot: 'UseSpot',
  maxWaitSeconds: 'MaxWaitSeconds',
  numTrainEpochs: 'NumTrainEpochs',
  maxSteps: 'MaxSteps',
} as const;

export type PipelineParameterKey = keyof typeof PIPELINE_PARAMETERS;

/** The type each parameter is declared with (`Parameters[].Type` in the definition). */
export const PIPELINE_PARAMETER_TYPES = {
  instanceType: 'String',
  instanceCount: 'Integer',
  datasetS3Uri: 'String',
  baseModelS3Uri: 'String',
  maxRuntimeSeconds: 'Integer',
  useSpot: 'Boolean',
  maxWaitSeconds: 'Integer',
  numTrainEpochs: 'Float',
  maxSteps: 'Integer',
} as const satisfies Record<PipelineParameterKey, PrimitiveType>;

/**
 * Where a job's base model comes from:
 * - `staged`: the `model` channel, from the `BaseModelS3Uri` parameter (a copy `stage-model` put in S3), with
 *   the Hugging Face Hub offline in the job. The only choice in a VPC without internet egress.
 * - `hub`: the job downloads `model_name_or_path` from the Hub itself; needs a VPC with egress (NAT). No
 *   `model` channel and no `BaseModelS3Uri` parameter.
 */
export type BaseModelSource = 'staged' | 'hub';

/** Name of the input channel that carries the staged base model. */
export const MODEL_CHANNEL = 'model';

/**
 * Job environment variable telling the launcher where the base model must come from (`channel` or `hub`);
 * read by training-code/gpt_oss_train/launcher.py.
 */
export const MODEL_SOURCE_ENV = 'GPT_OSS_MODEL_SOURCE';

/**
 * The environment that keeps the Hugging Face libraries from reaching for the Hub inside a job without egress:
 * transformers, huggingface_hub and datasets each read their own switch.
 * @see https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#hfhuboffline
 * @see https://huggingface.co/docs/datasets/loading#offline
 */
export const HUB_OFFLINE_ENVIRONMENT: Readonly<Record<string, string>> = {
  HF_HUB_OFFLINE: '1',
  HF_DATASETS_OFFLINE: '1',
  TRANSFORMERS_OFFLINE: '1',
};

/**
 * Where `stage-model` puts the recipe's base model: `s3://<artifacts>/base-models/<hub-id>/<revision>/`. A
 * `model_name_or_path` that is no Hub id is the recipe check's `base-model-source` error, so synth never gets here
 * with one.
 */
export function defaultBaseModelS3Uri(recipe: LoadedRecipe, artifactsBucketName: string): string {
  const hubId = stringValue(recipe.document, 'model_name_or_path') ?? '';
  if (!HUB_REPO_ID.test(hubId)) {
    throw new Error(`${recipe.file}: model_name_or_path: found "${hubId}", not a Hub id (rule base-model-source)`);
  }
  const revision = stringValue(recipe.document, 'model_revision') || DEFAULT_MODEL_REVISION;
  return `s3://${artifactsBucketName}/${stagedModelPrefix(hubId, revision)}`;
}
