/**
 * Fetches one split of a Hub dataset as the Parquet files its repository holds, at a pinned commit, each
 * checked against the Hub's size and SHA-256 on the way to a temporary folder (the Parquet reader needs
 * random access, so these files are downloaded; models never are).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CliError } from './errors';
import {
  checkRepoId,
  type HubAccess,
  type HubFile,
  type HubRepo,
  listRepoFiles,
  openRepoFile,
  repoPage,
  resolveCommit,
} from './hub';
import { formatBytes, type Output } from './output';
import { VerifyingStream } from './verified-upload';

/** The Hub's automatic Parquet conversion of a dataset, kept on this ref of the dataset repository. */
export const PARQUET_CONVERSION_REF = 'refs/convert/parquet';

/**
 * The split a Parquet file of a dataset repository belongs to, from the Hub's naming conventions:
 * `data/train-00000-of-00003.parquet`, `train.parquet`, `<config>/train/0000.parquet` (the Parquet
 * conversion) and `<config>/<name>-train.parquet` (older conversions).
 */
export function splitOf(file: string): string {
  const parts = file.split('/');
  const stem = (parts[parts.length - 1] ?? '').replace(/\.parquet$/i, '');
  if (/^\d+$/.test(stem) && parts.length >= 2) return parts[parts.length - 2];
  const sharded = /^(.+?)-\d+-of-\d+$/.exec(stem);
  if (sharded) return sharded[1];
  return stem.includes('-') ? stem.slice(stem.lastIndexOf('-') + 1) : stem;
}

export interface FetchedParquet extends HubFile {
  readonly sha256: string;
  readonly localPath: string;
}

/** Downloads the split's Parquet files; returns the commit and the files in repository order. */
export async function fetchDatasetSplit(
  access: HubAccess,
  datasetId: string,
  revision: string,
  split: string,
  dir: string,
  out: Output,
): Promise<{ commit: string; files: FetchedParquet[] }> {
  checkRepoId(datasetId, 'dataset id');
  const repo: HubRepo = { type: 'dataset', name: datasetId };
  const commit = await resolveCommit(access, repo, revision);
  const all = (await listRepoFiles(access, repo, commit)).filter((f) => f.path.toLowerCase().endsWith('.parquet'));
  const chosen = all.filter((f) => splitOf(f.path) === split);
  if (chosen.length === 0) {
    const splits = [...new Set(all.map((f) => splitOf(f.path)))].sort();
    throw new CliError(
      all.length === 0
        ? `dataset ${datasetId} has no Parquet files at ${revision} (${commit.slice(0, 12)}); the Hub keeps a Parquet ` +
            `conversion of most datasets: pass --revision ${PARQUET_CONVERSION_REF} (see ${repoPage(access, repo)})`
        : `dataset ${datasetId} has no Parquet files for split "${split}" at ${revision}; its splits: ${splits.join(', ')}; ` +
            'pass --split <one of them>',
    );
  }
  const configs = new Set(chosen.map((f) => (f.path.includes('/') ? f.path.split('/')[0] : '')));
  if (revision === PARQUET_CONVERSION_REF && configs.size > 1) {
    throw new CliError(
      `dataset ${datasetId} has ${configs.size} configurations with a "${split}" split (${[...configs].join(', ')}); ` +
        'preparing one configuration is not supported yet: download its files and run prepare-data on them',
    );
  }
  const files: FetchedParquet[] = [];
  for (const [i, f] of chosen.entries()) {
    out.info(`fetching ${datasetId}/${f.path} (${formatBytes(f.size)})`);
    const localPath = path.join(dir, `${String(i).padStart(5, '0')}-${path.basename(f.path)}`);
    const check = new VerifyingStream(`${datasetId}@${commit.slice(0, 12)}/${f.path}`, f);
    await pipeline(await openRepoFile(access, repo, commit, f.path), check, fs.createWriteStream(localPath)).catch(
      (e: unknown) => {
        if (e instanceof CliError) throw e;
        throw new CliError(
          `${datasetId}/${f.path}: the download broke off (${(e as Error).message}); nothing was uploaded; run again`,
        );
      },
    );
    files.push({ ...f, sha256: check.digest ?? '', localPath });
  }
  return { commit, files };
}
