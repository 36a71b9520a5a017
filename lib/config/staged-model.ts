/**
 * Where a base model staged from the Hugging Face Hub lives in the artifacts bucket, and the manifest that
 * proves a staging finished. Shared by `stage-model` (writes), the pipeline's `BaseModelS3Uri` default and the
 * `run` preflight (read), and mirrored by the training launcher (training-code/gpt_oss_train) which checks the
 * `model` channel.
 *
 * Layout: `base-models/<hub-id>/<revision>/<files as in the repo>` plus `STAGED_MODEL_MANIFEST`, written last, so
 * a prefix without the manifest is a half-finished copy and is never used. `<revision>` is the recipe's
 * `model_revision` as written (a branch, tag or commit); the manifest records the commit it resolved to.
 * Base models sit outside `models/`, the prefix training jobs write their outputs to.
 */
import { z } from 'zod';

export const BASE_MODELS_PREFIX = 'base-models/';
export const STAGED_MODEL_MANIFEST = 'staging-manifest.json';
/** TRL's ModelConfig default for `model_revision`. */
export const DEFAULT_MODEL_REVISION = 'main';

/** A Hub repo id: `name` or `owner/name` (letters, digits, `-`, `_`, `.`), the only thing `stage-model` copies. */
export const HUB_REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** Key prefix (ending in `/`) of one staged model revision. */
export function stagedModelPrefix(hubId: string, revision: string = DEFAULT_MODEL_REVISION): string {
  return `${BASE_MODELS_PREFIX}${hubId}/${revision}/`;
}

export const stagedModelManifestSchema = z.object({
  format: z.literal(1),
  repoId: z.string().min(1),
  /** The revision asked for (branch, tag or commit). */
  revision: z.string().min(1),
  /** The 40-hex commit the revision resolved to when staged. */
  commitSha: z.string().regex(/^[0-9a-f]{40}$/),
  source: z.enum(['hub', 'dir']),
  stagedAt: z.string(),
  files: z.array(z.object({ path: z.string().min(1), size: z.number().int().nonnegative(), sha256: z.string() })),
  /** Repository files deliberately not copied, with the reason (e.g. `original/`, `metal/`). */
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});
export type StagedModelManifest = z.infer<typeof stagedModelManifestSchema>;
