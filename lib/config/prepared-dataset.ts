/**
 * The manifest that proves a dataset prefix holds data `prepare-data` validated and converted. Shared by
 * `prepare-data` (writes it, after the data files) and the `run` preflight (reads it before starting a job).
 *
 * It sits under the dataset prefix next to the data files, so the job's `training` channel carries it too. Its
 * name ends in `.manifest`, a suffix the training code's data reader never takes for data (it reads `.jsonl`,
 * `.json` and `.parquet`; training-code/gpt_oss_train/data.py).
 */
import { z } from 'zod';

export const PREPARED_DATASET_MANIFEST = 'prepared-dataset.manifest';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256');

export const preparedDatasetManifestSchema = z.object({
  format: z.literal(1),
  /** Where the rows came from: a local file, or a Hub dataset at a pinned commit. */
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('file'), path: z.string().min(1) }),
    z.object({
      kind: z.literal('hub'),
      datasetId: z.string().min(1),
      /** The revision asked for (branch, tag or commit). */
      revision: z.string().min(1),
      /** The 40-hex commit the revision resolved to. */
      commitSha: z.string().regex(/^[0-9a-f]{40}$/),
      split: z.string().min(1),
    }),
  ]),
  preparedAt: z.string(),
  /** The data files under the prefix (names relative to it), as uploaded. */
  files: z
    .array(
      z.object({
        name: z.string().min(1),
        bytes: z.number().int().nonnegative(),
        sha256,
        examples: z.number().int().positive(),
      }),
    )
    .min(1),
});
export type PreparedDatasetManifest = z.infer<typeof preparedDatasetManifestSchema>;
