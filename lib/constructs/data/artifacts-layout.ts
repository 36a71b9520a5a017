import { BASE_MODELS_PREFIX } from '../../config/staged-model';

/**
 * Key prefixes inside the artifacts bucket, shared by every stack that reads or writes it. Each ends in
 * `/` so it can be used both as an S3 key prefix and, with `*` appended, in an IAM resource ARN.
 */
export const ARTIFACTS_LAYOUT = {
  /** Spot/resume checkpoints, synced by training jobs; expired by a lifecycle rule. */
  checkpoints: 'checkpoints/',
  /** Base models staged from the Hub by `stage-model` (see lib/config/staged-model.ts); read-only to jobs. */
  baseModels: BASE_MODELS_PREFIX,
  /** Model artifacts written by training jobs (uncompressed, served from the prefix). */
  models: 'models/',
  /** Content-hashed pipeline definitions. */
  pipelines: 'pipelines/',
  /** Training code and recipe channels. */
  code: 'code/',
  /** The MLflow artifact store. */
  mlflow: 'mlflow/',
  /** Per-recipe settings of the register/deploy state machines, per content-hashed revision. */
  serving: 'serving/',
} as const;

export type ArtifactsPrefix = (typeof ARTIFACTS_LAYOUT)[keyof typeof ARTIFACTS_LAYOUT];
