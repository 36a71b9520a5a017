import { BASE_MODELS_PREFIX } from './staged-model';

/**
 * The object layout of the platform's buckets, in one place: the data stack's lifecycle rules and grants, the
 * pipeline builder's channel and output keys, the deploy stage's grants and the CLI's uploads all import it.
 */

/**
 * Key prefixes inside the artifacts bucket. Each ends in `/` so it can be used both as an S3 key prefix and,
 * with `*` appended, in an IAM resource ARN.
 */
export const ARTIFACTS_LAYOUT = {
  /** Spot/resume checkpoints, synced by training jobs; expired by a lifecycle rule. */
  checkpoints: 'checkpoints/',
  /** Base models staged from the Hub by `stage-model` (see ./staged-model.ts); read-only to jobs. */
  baseModels: BASE_MODELS_PREFIX,
  /** Model artifacts written by training jobs (uncompressed, served from the prefix). */
  models: 'models/',
  /**
   * Registered models: the REGISTER workflow copies a job's model here and points the model package at the
   * copy. Write-once for everyone else: the artifacts bucket's policy denies writes here to every principal
   * but the register workflow's role (lib/stacks/data-stack.ts).
   */
  registry: 'registry/',
  /** Content-hashed pipeline definitions. */
  pipelines: 'pipelines/',
  /** Training code and recipe channels. */
  code: 'code/',
  /** The MLflow artifact store. */
  mlflow: 'mlflow/',
  /** Per-recipe settings of the register/deploy state machines, per content-hashed revision. */
  serving: 'serving/',
  /** Endpoint data capture (requests and responses), written by SageMaker. */
  dataCapture: 'data-capture/',
} as const;

export type ArtifactsPrefix = (typeof ARTIFACTS_LAYOUT)[keyof typeof ARTIFACTS_LAYOUT];

/** Object keys below the artifacts bucket's prefixes. Inputs are content-addressed; outputs per recipe and execution. */
export const ARTIFACT_KEYS = {
  /** Everything the jobs read as code or recipe channels. */
  codeRoot: ARTIFACTS_LAYOUT.code,
  /** The training code, extracted, per content hash. */
  code: (codeHash: string): string => `${ARTIFACTS_LAYOUT.code}training/${codeHash}/`,
  /** Recipe channels. */
  recipesRoot: `${ARTIFACTS_LAYOUT.code}recipes/`,
  /** One recipe channel: exactly `<recipe>.yaml` under a per-content prefix. */
  recipePrefix: (recipe: string, recipeHash: string): string =>
    `${ARTIFACTS_LAYOUT.code}recipes/${recipe}/${recipeHash}/`,
  /** Pipeline definitions. */
  pipelinesRoot: ARTIFACTS_LAYOUT.pipelines,
  /** One pipeline definition file. */
  definition: (recipe: string, definitionHash: string): string =>
    `${ARTIFACTS_LAYOUT.pipelines}${recipe}/${definitionHash}.json`,
  /** Model output. */
  modelsRoot: ARTIFACTS_LAYOUT.models,
  /** One recipe's model output root; SageMaker adds `<job-name>/output/model/`. */
  models: (recipe: string): string => `${ARTIFACTS_LAYOUT.models}${recipe}/`,
  /** Registered models. */
  registryRoot: ARTIFACTS_LAYOUT.registry,
  /** One registered model: its files under `model/`, the checksum manifest beside it. */
  registered: (recipe: string, trainingJob: string): string => `${ARTIFACTS_LAYOUT.registry}${recipe}/${trainingJob}/`,
  /** Checkpoints. */
  checkpointsRoot: ARTIFACTS_LAYOUT.checkpoints,
  /** One recipe's checkpoint root; each execution gets `<execution-id>/` below it. */
  checkpoints: (recipe: string): string => `${ARTIFACTS_LAYOUT.checkpoints}${recipe}/`,
} as const;

/** Keys in the datasets bucket: a recipe's default dataset location, where `prepare-data` uploads. */
export const DATASET_KEYS = {
  recipe: (recipe: string): string => `datasets/${recipe}/`,
} as const;
