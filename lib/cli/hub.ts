/**
 * The Hugging Face Hub as the CLI reads it, through the `@huggingface/hub` client: resolve a revision to
 * its commit, list a repository's files at that commit (with Git LFS size and SHA-256), and stream one
 * file. Everything after the first call uses the commit, so the files listed are the files read even if
 * the branch moves meanwhile. Errors become one sentence that says what to do (token, licence, network).
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CliError } from './errors';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Where the Hub is and who asks. */
export interface HubAccess {
  /** `--hub-url`, else HF_ENDPOINT (the variable the Hub's own tools read), else huggingface.co. */
  readonly hubUrl: string;
  /** `--token`, else HF_TOKEN; needed for gated or private repositories. */
  readonly token?: string;
}

export type HubRepoType = 'model' | 'dataset';

export interface HubRepo {
  readonly type: HubRepoType;
  readonly name: string;
}

/** One file of a repository at a commit. */
export interface HubFile {
  readonly path: string;
  readonly size: number;
  /** Git blob id (SHA-1 of `blob <size>\0<bytes>`), for files kept in git itself. */
  readonly gitOid?: string;
  /** SHA-256 of the content, for files kept in Git LFS (the LFS pointer's oid). */
  readonly sha256?: string;
}

/** The access settings from the command's flags and the environment. */
export function hubAccess(
  opts: { hubUrl?: string; token?: string },
  env: Readonly<Record<string, string | undefined>>,
): HubAccess {
  const hubUrl = (opts.hubUrl ?? env.HF_ENDPOINT ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  const token = opts.token ?? env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (token !== undefined && !token.startsWith('hf_')) {
    throw new CliError(
      'the Hugging Face token does not start with "hf_"; copy a User Access Token from https://huggingface.co/settings/tokens ' +
        'into --token or HF_TOKEN',
    );
  }
  return { hubUrl, token: token || undefined };
}

/** `https://huggingface.co/<id>` or `.../datasets/<id>`, for messages. */
export function repoPage(access: HubAccess, repo: HubRepo): string {
  return `${access.hubUrl}/${repo.type === 'dataset' ? 'datasets/' : ''}${repo.name}`;
}

/** Validates a Hub id (`owner/name`); the S3 layout uses it as two key segments. */
export function checkRepoId(id: string, what: string): void {
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(id) || id.includes('..')) {
    throw new CliError(`${what} "${id}" is not a Hub id; write it as owner/name, e.g. openai/gpt-oss-20b`);
  }
}

async function hubTranslate(e: unknown, access: HubAccess, repo: HubRepo, what: string): Promise<CliError> {
  if (e instanceof CliError) return e;
  const err = e as { statusCode?: number; message?: string; cause?: { code?: string; message?: string } };
  const page = repoPage(access, repo);
  const detail = (err.message ?? String(e)).split('. URL:')[0];
  if (err.statusCode === 401 || err.statusCode === 403) {
    return new CliError(
      `the Hub refused ${what} for ${repo.name} (HTTP ${err.statusCode}: ${detail}); the repository is gated or ` +
        `private: accept its terms at ${page} and pass a token with read access via --token or HF_TOKEN`,
    );
  }
  if (err.statusCode === 404) {
    return new CliError(
      `the Hub has no ${what} for ${repo.type} ${repo.name} (HTTP 404: ${detail}); check the id and --revision ` +
        `at ${page}${access.token ? '' : ' (a private repository also answers 404 without a token)'}`,
    );
  }
  if (err.statusCode !== undefined) {
    return new CliError(`the Hub answered HTTP ${err.statusCode} to ${what} for ${repo.name}: ${detail}; try again`);
  }
  const cause = err.cause?.code ?? err.cause?.message ?? detail;
  return new CliError(
    `could not reach the Hub at ${access.hubUrl} for ${what} (${cause}); check the network or HF_ENDPOINT, or copy ` +
      'the files from a machine that can reach it (stage-model --from-dir)',
  );
}

/** Runs one Hub call and turns its failure into a {@link CliError}. */
export async function hubCall<T>(access: HubAccess, repo: HubRepo, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw await hubTranslate(e, access, repo, what);
  }
}

function credentials(access: HubAccess) {
  return { hubUrl: access.hubUrl, ...(access.token ? { accessToken: access.token } : {}) };
}

/** The 40-hex commit a branch, tag or commit of the repository points at now. */
export async function resolveCommit(access: HubAccess, repo: HubRepo, revision: string): Promise<string> {
  // the client library is loaded on demand so the other commands start without it.
  const hub = await import('@huggingface/hub');
  const info = await hubCall(access, repo, `revision "${revision}"`, () =>
    repo.type === 'model'
      ? hub.modelInfo({ name: repo.name, revision, additionalFields: ['sha'], ...credentials(access) })
      : hub.datasetInfo({ name: repo.name, revision, additionalFields: ['sha'], ...credentials(access) }),
  );
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) {
    throw new CliError(
      `the Hub did not give a commit for ${repo.name} at revision "${revision}" (found ${JSON.stringify(sha)}); ` +
        'pass --revision with a 40-character commit id',
    );
  }
  return sha;
}

/** Every file of the repository at `commit`, recursively, with sizes and checksums. */
export async function listRepoFiles(access: HubAccess, repo: HubRepo, commit: string): Promise<HubFile[]> {
  const hub = await import('@huggingface/hub');
  return hubCall(access, repo, `the file list at ${commit.slice(0, 12)}`, async () => {
    const files: HubFile[] = [];
    for await (const entry of hub.listFiles({
      repo: { type: repo.type, name: repo.name },
      revision: commit,
      recursive: true,
      ...credentials(access),
    })) {
      if (entry.type !== 'file') continue;
      files.push({
        path: entry.path,
        size: entry.lfs?.size ?? entry.size,
        // a file in LFS or Xet storage is listed with the git id of its pointer, not of its bytes.
        gitOid: entry.lfs || entry.xetHash ? undefined : entry.oid,
        sha256: entry.lfs?.oid,
      });
    }
    return files.sort((a, b) => a.path.localeCompare(b.path));
  });
}

/** A stream of one file's bytes at `commit` (Git LFS and Xet storage resolved by the client). */
export async function openRepoFile(access: HubAccess, repo: HubRepo, commit: string, path: string): Promise<Readable> {
  const hub = await import('@huggingface/hub');
  const blob = await hubCall(access, repo, `file ${path}`, () =>
    hub.downloadFile({ repo: { type: repo.type, name: repo.name }, path, revision: commit, ...credentials(access) }),
  );
  if (!blob) throw await hubTranslate({ statusCode: 404, message: `${path} not found` }, access, repo, `file ${path}`);
  return Readable.fromWeb(blob.stream() as unknown as WebReadableStream<Uint8Array>);
}
