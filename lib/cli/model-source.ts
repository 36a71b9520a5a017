/**
 * What `stage-model` copies: the files of a model repository (from the Hub or a local copy of it) minus
 * the ones neither training nor serving reads, each with the size and checksums it must have.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from './errors';
import type { HubFile } from './hub';

/** A repository path prefix (or exact path) that is not copied, and why. */
export interface SkipRule {
  readonly prefix: string;
  readonly reason: string;
}

/**
 * The openai/gpt-oss repositories ship the same weights three times: the Hugging Face layout at the top
 * (config.json + model-*.safetensors, what transformers and vLLM load), `original/` (the checkpoint for
 * OpenAI's own reference implementation) and `metal/` (a single-file build for Apple Metal inference).
 * Only the top level is read by the training job and the serving container.
 */
export const SKIP_RULES: readonly SkipRule[] = [
  {
    prefix: 'original/',
    reason: "OpenAI's reference-implementation checkpoint; transformers and vLLM load the top-level safetensors",
  },
  { prefix: 'metal/', reason: 'Apple Metal build for local inference on Macs; not used on GPU instances' },
  { prefix: '.gitattributes', reason: 'git LFS bookkeeping, read by no loader' },
  { prefix: '.cache/', reason: 'the Hub client’s download bookkeeping in a local copy, not part of the model' },
  { prefix: '.git/', reason: 'git history of a local clone, not part of the model' },
];

export function skipReason(file: string): string | undefined {
  return SKIP_RULES.find((r) => (r.prefix.endsWith('/') ? file.startsWith(r.prefix) : file === r.prefix))?.reason;
}

/** Splits the listed files into the ones to copy and the ones skipped (with the reason, once per rule). */
export function selectFiles<T extends { path: string }>(
  files: readonly T[],
): { copy: T[]; skipped: { path: string; reason: string }[] } {
  const copy: T[] = [];
  const counts = new Map<SkipRule, number>();
  for (const f of files) {
    const rule = SKIP_RULES.find((r) => (r.prefix.endsWith('/') ? f.path.startsWith(r.prefix) : f.path === r.prefix));
    if (rule) counts.set(rule, (counts.get(rule) ?? 0) + 1);
    else copy.push(f);
  }
  const skipped = [...counts.entries()].map(([rule, n]) => ({
    path: rule.prefix,
    reason: rule.prefix.endsWith('/') ? `${rule.reason} (${n} file${n === 1 ? '' : 's'})` : rule.reason,
  }));
  return { copy, skipped };
}

/** A file of a local copy: where it is on disk plus what the Hub said about it when it was downloaded. */
export interface LocalModelFile extends HubFile {
  readonly localPath: string;
}

function walk(dir: string, base: string, out: string[]): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = path.relative(base, full).split(path.sep).join('/');
    if (entry.isDirectory()) {
      // skipped trees are not walked (a clone's .git can hold the whole history).
      if (!skipReason(`${rel}/`)) walk(full, base, out);
      else out.push(`${rel}/`);
    } else if (entry.isFile() || entry.isSymbolicLink()) out.push(rel);
  }
}

/**
 * What `hf download --local-dir` recorded for a file: `.cache/huggingface/download/<path>.metadata` holds
 * the commit, the ETag (the SHA-256 for LFS files) and a timestamp, one per line.
 */
function downloadMetadata(dir: string, rel: string): { commit?: string; sha256?: string } {
  const meta = path.join(dir, '.cache', 'huggingface', 'download', `${rel}.metadata`);
  if (!fs.existsSync(meta)) return {};
  const [commit, etag] = fs.readFileSync(meta, 'utf8').split('\n');
  const clean = (etag ?? '').replace(/^W\//, '').replace(/"/g, '');
  return {
    commit: /^[0-9a-f]{40}$/.test(commit ?? '') ? commit : undefined,
    sha256: /^[0-9a-f]{64}$/.test(clean) ? clean : undefined,
  };
}

/**
 * The files of a local copy of a model repository and the commit it was taken from: `--revision` when it
 * is a commit id, else the commit `hf download --local-dir` recorded, else a Hub cache snapshot's folder
 * name (`snapshots/<commit>`).
 */
export function readLocalModel(
  dir: string,
  revision: string | undefined,
): { commit: string; files: LocalModelFile[]; skipped: { path: string; reason: string }[] } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new CliError(`--from-dir ${dir}: no such folder; give the folder that holds config.json`);
  }
  const found: string[] = [];
  walk(dir, dir, found);
  const skipped = found.flatMap((p) => {
    const reason = skipReason(p);
    return reason ? [{ path: p, reason }] : [];
  });
  const paths = found.filter((p) => skipReason(p) === undefined);
  if (!paths.includes('config.json')) {
    throw new CliError(`--from-dir ${dir}: has no config.json; give the folder of the model repository itself`);
  }
  const commits = new Set<string>();
  const files = paths.sort().map((rel) => {
    const localPath = path.join(dir, ...rel.split('/'));
    const meta = downloadMetadata(dir, rel);
    if (meta.commit) commits.add(meta.commit);
    return { path: rel, localPath, size: fs.statSync(localPath).size, sha256: meta.sha256 };
  });
  let commit: string | undefined;
  if (revision && /^[0-9a-f]{40}$/.test(revision)) commit = revision;
  else if (commits.size === 1) commit = [...commits][0];
  else if (/^[0-9a-f]{40}$/.test(path.basename(path.resolve(dir)))) commit = path.basename(path.resolve(dir));
  if (!commit) {
    const why =
      commits.size > 1
        ? `its files were downloaded from ${commits.size} different commits (${[...commits].map((c) => c.slice(0, 12)).join(', ')})`
        : 'it records no commit (no .cache/huggingface/download metadata, not a Hub cache snapshot folder)';
    throw new CliError(
      `--from-dir ${dir}: cannot tell which commit this copy is, because ${why}; pass --revision <40-character commit id>`,
    );
  }
  return { commit, files, skipped };
}
