import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Command } from 'commander';
import {
  BASE_MODELS_PREFIX,
  DEFAULT_MODEL_REVISION,
  STAGED_MODEL_MANIFEST,
  type StagedModelManifest,
  stagedModelManifestSchema,
  stagedModelPrefix,
} from '../../config/staged-model';
import { PIPELINE_PARAMETERS } from '../../pipeline/parameters';
import { addAwsOptions, runCommand } from '../command';
import type { CliContext, CliEnvironment } from '../context';
import { awsCall, CliError, isNotFound } from '../errors';
import {
  checkRepoId,
  type HubAccess,
  hubAccess,
  type HubRepo,
  listRepoFiles,
  openRepoFile,
  resolveCommit,
} from '../hub';
import { readLocalModel, selectFiles } from '../model-source';
import { formatBytes, formatDuration } from '../output';
import { describeRecipePipeline } from '../pipelines';
import { assertBucket, parseS3Uri, type S3Location, s3Uri } from '../s3';
import { TransferProgress } from '../transfer-progress';
import { alreadyStored, type ExpectedContent, hashFile, uploadVerified } from '../verified-upload';

/** The pipeline parameter whose default names the staged copy (the builder's contract). */
export const BASE_MODEL_PARAMETER = PIPELINE_PARAMETERS.baseModelS3Uri;

export interface StageModelOptions {
  /** Bucket to stage into (the platform's artifacts bucket). */
  readonly bucket?: string;
  /** Recipe whose pipeline's BaseModelS3Uri parameter names the bucket. */
  readonly recipe?: string;
  /** Branch, tag or commit. @default main */
  readonly revision?: string;
  readonly token?: string;
  readonly hubUrl?: string;
  /** Copy from this local copy of the repository instead of the Hub. */
  readonly fromDir?: string;
}

export interface StageModelResult {
  readonly destination: string;
  readonly manifest: StagedModelManifest;
  /** Files already in S3 with the right checksum, not copied again. */
  readonly reused: string[];
  readonly copied: string[];
}

interface SourceFile extends ExpectedContent {
  readonly path: string;
  open(): Promise<Readable>;
}

/**
 * The bucket and the revision to stage: `--bucket` with `--revision` (default main), or the location the
 * recipe's pipeline reads (its BaseModelS3Uri default, which names the model and the revision).
 */
async function destination(
  ctx: CliContext,
  hubId: string,
  opts: StageModelOptions,
): Promise<{ bucket: string; revision: string }> {
  if (opts.bucket) return { bucket: opts.bucket, revision: opts.revision ?? DEFAULT_MODEL_REVISION };
  if (!opts.recipe) {
    throw new CliError(
      'stage-model needs a destination: pass --recipe <name> (its pipeline names the artifacts bucket) or ' +
        '--bucket <artifacts bucket>',
    );
  }
  const pipeline = await describeRecipePipeline(ctx, opts.recipe);
  const param = pipeline.parameters.find((p) => p.Name === BASE_MODEL_PARAMETER);
  if (typeof param?.DefaultValue !== 'string') {
    throw new CliError(
      `pipeline ${pipeline.pipelineName} has no ${BASE_MODEL_PARAMETER} parameter (deployed before base models were ` +
        'staged to S3); redeploy the training stack, or pass --bucket <artifacts bucket>',
    );
  }
  const loc = parseS3Uri(param.DefaultValue, `pipeline ${pipeline.pipelineName} ${BASE_MODEL_PARAMETER}`);
  const ours = `${BASE_MODELS_PREFIX}${hubId}/`;
  const revision = loc.key.startsWith(ours) ? loc.key.slice(ours.length).replace(/\/$/, '') : '';
  if (!revision || (opts.revision !== undefined && opts.revision !== revision)) {
    throw new CliError(
      `pipeline ${pipeline.pipelineName} reads its base model from ${param.DefaultValue}, not ` +
        `s3://${loc.bucket}/${stagedModelPrefix(hubId, opts.revision ?? '<revision>')}; stage the recipe's ` +
        'model_name_or_path at its model_revision (leave out --revision), or pass --bucket to stage elsewhere',
    );
  }
  return { bucket: loc.bucket, revision };
}

async function readManifest(ctx: CliContext, loc: S3Location): Promise<StagedModelManifest | undefined> {
  try {
    const obj = await ctx.aws.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    const parsed = stagedModelManifestSchema.safeParse(JSON.parse((await obj.Body?.transformToString()) ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch (e) {
    if (isNotFound(e) || e instanceof SyntaxError) return undefined;
    throw await awsCall({ action: 's3:GetObject', resource: s3Uri(loc) }, () => Promise.reject(e));
  }
}

async function listKeys(ctx: CliContext, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await awsCall(
      { action: 's3:ListBucket', resource: `s3://${bucket}/${prefix}` },
      () => ctx.aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

async function deleteKeys(ctx: CliContext, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    await awsCall({ action: 's3:DeleteObject', resource: `s3://${bucket}/${batch[0]}` }, () =>
      ctx.aws.s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      ),
    );
  }
}

/** The files to copy and their source, from the Hub or from a local copy. */
async function collectSource(
  hubId: string,
  opts: StageModelOptions,
  access: HubAccess | undefined,
  revision: string,
  cwd: string,
): Promise<{
  commit: string;
  files: SourceFile[];
  skipped: { path: string; reason: string }[];
  source: 'hub' | 'dir';
}> {
  if (opts.fromDir) {
    const dir = path.resolve(cwd, opts.fromDir);
    const local = readLocalModel(dir, revision);
    const files: SourceFile[] = [];
    for (const f of local.files) {
      // a local copy's SHA-256 is computed before the copy (to find it already in S3), then checked again
      // while streaming, and against the Hub's value where the download recorded one.
      const sha256 = await hashFile(f.localPath);
      if (f.sha256 && f.sha256 !== sha256) {
        throw new CliError(
          `${f.localPath}: SHA-256 ${sha256} differs from ${f.sha256}, which the Hub published for ${f.path} at ` +
            `${local.commit.slice(0, 12)}; the local copy is damaged: download it again`,
        );
      }
      files.push({ path: f.path, size: f.size, sha256, open: async () => fs.createReadStream(f.localPath) });
    }
    return { commit: local.commit, files, skipped: local.skipped, source: 'dir' };
  }
  const repo: HubRepo = { type: 'model', name: hubId };
  const hub = access as HubAccess;
  const commit = await resolveCommit(hub, repo, revision);
  const { copy, skipped } = selectFiles(await listRepoFiles(hub, repo, commit));
  const files = copy.map((f) => ({ ...f, open: () => openRepoFile(hub, repo, commit, f.path) }));
  return { commit, files, skipped, source: 'hub' };
}

/**
 * `stage-model <hub-id>`: copies a model repository at a pinned commit into
 * `s3://<bucket>/base-models/<hub-id>/<revision>/`, checking every file, and writes the manifest last.
 */
export async function stageModel(ctx: CliContext, hubId: string, opts: StageModelOptions): Promise<StageModelResult> {
  const out = ctx.out;
  checkRepoId(hubId, 'model id');
  if (opts.revision !== undefined && !/^[\w.-]+(\/[\w.-]+)*$/.test(opts.revision)) {
    throw new CliError(`--revision "${opts.revision}" is not a branch, tag or commit id`);
  }
  if (opts.revision?.split('/').includes('..')) throw new CliError(`--revision "${opts.revision}" may not hold ".."`);
  const access = opts.fromDir ? undefined : hubAccess(opts, ctx.environment.env);
  const { bucket, revision } = await destination(ctx, hubId, opts);
  const prefix = stagedModelPrefix(hubId, revision);
  await assertBucket(
    ctx.aws.s3,
    bucket,
    'deploy the platform first, or pass --bucket with the artifacts bucket',
    ctx.endpointUrl,
  );
  const { commit, files, skipped, source } = await collectSource(hubId, opts, access, revision, ctx.environment.cwd);
  if (files.length === 0) throw new CliError(`${hubId} at ${commit.slice(0, 12)} has no files to stage`);
  const dest = `s3://${bucket}/${prefix}`;
  const manifestLoc = { bucket, key: `${prefix}${STAGED_MODEL_MANIFEST}` };
  out.line(`model       ${hubId} at ${revision} = commit ${commit}`);
  out.line(`to          ${dest}`);
  for (const s of skipped) out.line(`skipped     ${s.path}: ${s.reason}`);

  const previous = await readManifest(ctx, manifestLoc);
  const existing = await listKeys(ctx, bucket, prefix);
  // whatever changes below, the prefix must not look staged until the new manifest is written.
  if (existing.includes(manifestLoc.key)) await deleteKeys(ctx, bucket, [manifestLoc.key]);
  if (previous && previous.commitSha !== commit) {
    out.line(`replacing   the copy of commit ${previous.commitSha.slice(0, 12)} staged ${previous.stagedAt}`);
  }
  const wanted = new Set(files.map((f) => `${prefix}${f.path}`));
  const stale = existing.filter((k) => k !== manifestLoc.key && !wanted.has(k));
  if (stale.length > 0) {
    // the training job reads every object under the prefix; files of another commit must go.
    await deleteKeys(ctx, bucket, stale);
    out.line(`removed     ${stale.length} object(s) not in this commit (${stale.slice(0, 3).join(', ')})`);
  }

  const reused: string[] = [];
  const toCopy: SourceFile[] = [];
  const sha = new Map<string, string>();
  for (const f of files) {
    const have = existing.includes(`${prefix}${f.path}`)
      ? await alreadyStored(ctx.aws.s3, { bucket, key: `${prefix}${f.path}` }, f)
      : undefined;
    if (have) {
      reused.push(f.path);
      sha.set(f.path, have);
    } else toCopy.push(f);
  }
  const total = toCopy.reduce((n, f) => n + f.size, 0);
  out.line(
    `files       ${files.length} (${formatBytes(files.reduce((n, f) => n + f.size, 0))}); ` +
      `${reused.length} already staged and verified, ${toCopy.length} to copy (${formatBytes(total)})`,
  );
  const progress = new TransferProgress(out, total);
  const started = Date.now();
  for (const f of toCopy) {
    progress.note(`copying ${f.path} (${formatBytes(f.size)})`);
    const digest = await uploadVerified(ctx.aws.s3, await f.open(), { bucket, key: `${prefix}${f.path}` }, f, {
      label: `${source === 'hub' ? `${hubId}@${commit.slice(0, 12)}` : opts.fromDir}/${f.path}`,
      onBytes: (n) => progress.add(n),
      endpointUrl: ctx.endpointUrl,
    });
    sha.set(f.path, digest);
  }
  const rate = progress.finish();

  const manifest = stagedModelManifestSchema.parse({
    format: 1,
    repoId: hubId,
    revision,
    commitSha: commit,
    source,
    stagedAt: new Date().toISOString(),
    files: files.map((f) => ({ path: f.path, size: f.size, sha256: sha.get(f.path) ?? '' })),
    skipped,
  });
  await awsCall({ action: 's3:PutObject', resource: s3Uri(manifestLoc), endpointUrl: ctx.endpointUrl }, () =>
    ctx.aws.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: manifestLoc.key,
        Body: `${JSON.stringify(manifest, null, 2)}\n`,
        ContentType: 'application/json',
      }),
    ),
  );
  out.line(
    `copied      ${toCopy.length} file(s), ${formatBytes(total)} in ${formatDuration(Date.now() - started)}` +
      `${total > 0 ? ` (${formatBytes(rate)}/s)` : ''}`,
  );
  out.line(`staged      ${dest} (manifest ${STAGED_MODEL_MANIFEST} written last)`);
  return { destination: dest, manifest, reused, copied: toCopy.map((f) => f.path) };
}

export function stageModelCommand(environment: CliEnvironment): Command {
  const cmd = new Command('stage-model')
    .summary('copy a base model from the Hugging Face Hub (or a local copy) to S3 for the training jobs')
    .description(
      'Resolves the revision to a commit, lists the repository at that commit and streams every file the jobs ' +
        'need into s3://<bucket>/base-models/<hub-id>/<revision>/ (multipart, parts in parallel, no local copy), ' +
        "checking each file's size and SHA-256 against the Hub's LFS metadata. Files already there with the " +
        'right checksum are kept, so an interrupted copy resumes. original/ and metal/ (other formats of the same ' +
        `weights) are skipped. ${STAGED_MODEL_MANIFEST} is written last: a prefix without it is never used.`,
    )
    .argument('<hub-id>', 'model repository, e.g. openai/gpt-oss-20b')
    .option('-r, --recipe <name>', "stage where this recipe's pipeline reads its base model (BaseModelS3Uri)")
    .option('--bucket <bucket>', 'stage into this bucket (the platform artifacts bucket)')
    .option(
      '--revision <rev>',
      "branch, tag or commit to stage; the commit it resolves to is recorded (default: the recipe's, else main)",
    )
    .option('--token <token>', 'Hugging Face token for gated or private repositories (default: HF_TOKEN)')
    .option('--hub-url <url>', 'Hub endpoint (default: HF_ENDPOINT, then https://huggingface.co)')
    .option('--from-dir <dir>', 'copy from a local copy of the repository (e.g. from "hf download --local-dir")');
  addAwsOptions(cmd);
  return cmd.action(async (hubId: string, opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      await stageModel(ctx, hubId, {
        bucket: opts.bucket as string | undefined,
        recipe: opts.recipe as string | undefined,
        revision: opts.revision as string | undefined,
        token: opts.token as string | undefined,
        hubUrl: opts.hubUrl as string | undefined,
        fromDir: opts.fromDir as string | undefined,
      });
    });
  });
}
