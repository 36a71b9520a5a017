/**
 * The manifest `prepare-data` writes next to the training data it uploads: which file it describes (size,
 * SHA-256, rows), for which recipe, and where the rows came from (a local file, or a Hub dataset at a
 * pinned commit and split). Written last, after the data, and removed before new data is uploaded, so a
 * prefix whose manifest matches its data file holds a dataset that passed validation. Read by the `run`
 * preflight; the dataset id and commit are the data's provenance.
 *
 * The name ends in `.manifest`, not `.json`: the training job reads every `.jsonl`, `.json` and `.parquet`
 * file under its data channel (training-code/gpt_oss_train/data.py), and must not take this for data.
 */
import { z } from 'zod';

export const PREPARED_DATASET_MANIFEST = 'prepared-dataset.manifest';

const fileEntry = z.object({ path: z.string().min(1), size: z.number().int().nonnegative(), sha256: z.string() });

export const preparedDatasetManifestSchema = z.object({
  format: z.literal(1),
  recipe: z.string().min(1),
  preparedAt: z.string(),
  /** The converted training file, relative to the manifest's prefix. */
  file: fileEntry,
  examples: z.number().int().positive(),
  source: z.discriminatedUnion('type', [
    /** A local file, by the name it was given on the command line. */
    z.object({ type: z.literal('file'), name: z.string().min(1), sha256: z.string() }),
    z.object({
      type: z.literal('hub'),
      datasetId: z.string().min(1),
      /** The revision asked for (branch, tag or commit). */
      revision: z.string().min(1),
      /** The 40-hex commit it resolved to. */
      commitSha: z.string().regex(/^[0-9a-f]{40}$/),
      split: z.string().min(1),
      /** The Parquet files read, as in the dataset repository. */
      files: z.array(fileEntry).min(1),
    }),
  ]),
});
export type PreparedDatasetManifest = z.infer<typeof preparedDatasetManifestSchema>;
