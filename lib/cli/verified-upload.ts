/**
 * Streams bytes into S3 while checking them: the size, the SHA-256 and (for files kept in git) the git
 * blob id are computed on the way through, and a mismatch fails the stream before its end, so the managed
 * upload never completes and no object appears (lib-storage aborts the multipart upload).
 *
 * The SHA-256 is stored as user metadata (`x-amz-meta-sha256`). S3's own `ChecksumSHA256` cannot serve:
 * for a multipart upload it is a checksum of the parts' checksums, not of the file, so it could not be
 * compared with the Hub's LFS SHA-256. User metadata behaves the same on S3 and on moto.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsCall, CliError, isNotFound } from './errors';
import { partSizeFor, type S3Location, s3Uri } from './s3';

export const SHA256_METADATA = 'sha256';
export const GIT_OID_METADATA = 'git-oid';

/** What a file must be. `sha256` or `gitOid` (or both) must be known. */
export interface ExpectedContent {
  readonly size: number;
  readonly sha256?: string;
  readonly gitOid?: string;
}

/** Thrown when the bytes read are not the bytes expected. */
export class ContentMismatchError extends CliError {}

/** A pass-through stream that checks size and checksums at the end and reports bytes as they pass. */
export class VerifyingStream extends Transform {
  private readonly sha256 = createHash('sha256');
  private readonly gitSha1 = createHash('sha1');
  private bytes = 0;
  /** The SHA-256 of what passed, once the stream has ended cleanly. */
  digest: string | undefined;

  constructor(
    private readonly label: string,
    private readonly expected: ExpectedContent,
    private readonly onBytes: (n: number) => void = () => {},
  ) {
    super();
    // a git blob id is the SHA-1 of a header with the size, then the bytes.
    this.gitSha1.update(`blob ${expected.size}\0`);
  }

  /** Bytes that have passed so far. */
  get bytesRead(): number {
    return this.bytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected.size) {
      done(this.mismatch(`more than the ${this.expected.size} bytes expected`));
      return;
    }
    this.sha256.update(chunk);
    this.gitSha1.update(chunk);
    this.onBytes(chunk.length);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes !== this.expected.size) {
      done(this.mismatch(`${this.bytes} bytes where ${this.expected.size} were expected`));
      return;
    }
    const sha = this.sha256.digest('hex');
    if (this.expected.sha256 && sha !== this.expected.sha256) {
      done(this.mismatch(`SHA-256 ${sha} where ${this.expected.sha256} was expected`));
      return;
    }
    const oid = this.gitSha1.digest('hex');
    if (this.expected.gitOid && oid !== this.expected.gitOid) {
      done(this.mismatch(`git blob id ${oid} where ${this.expected.gitOid} was expected`));
      return;
    }
    this.digest = sha;
    done();
  }

  private mismatch(what: string): ContentMismatchError {
    return new ContentMismatchError(
      `${this.label}: read ${what}; the copy was stopped and nothing was stored for this file; run the command again ` +
        '(a corrupted download is fetched anew), and if it repeats, the source differs from its published checksum',
    );
  }
}

/** True when the object exists with this size and the recorded checksum the expected content has. */
export async function alreadyStored(
  s3: S3Client,
  dest: S3Location,
  expected: ExpectedContent,
): Promise<string | undefined> {
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: dest.bucket, Key: dest.key }));
  } catch (e) {
    if (isNotFound(e)) return undefined;
    return awsCall({ action: 's3:GetObject', resource: s3Uri(dest) }, () => Promise.reject(e));
  }
  const sha = head.Metadata?.[SHA256_METADATA];
  if (head.ContentLength !== expected.size || !sha) return undefined;
  if (expected.sha256 && sha !== expected.sha256) return undefined;
  if (!expected.sha256 && (!expected.gitOid || head.Metadata?.[GIT_OID_METADATA] !== expected.gitOid)) return undefined;
  return sha;
}

/**
 * Copies a stream into S3, checking it against `expected`. Files whose SHA-256 is known beforehand stream
 * through lib-storage's managed upload (parts in parallel); files kept in git itself, whose SHA-256 is only
 * known once read, are small (the Hub stores large files with LFS or Xet), so they are read whole (up to
 * 64 MiB) and stored with one PUT. See docs/hub-staging.md.
 * Returns the SHA-256.
 */
export async function uploadVerified(
  s3: S3Client,
  source: Readable,
  dest: S3Location,
  expected: ExpectedContent,
  options: { label: string; onBytes?: (n: number) => void; endpointUrl?: string },
): Promise<string> {
  const check = new VerifyingStream(options.label, expected, options.onBytes);
  let sourceError: Error | undefined;
  const failed = (e: unknown) => {
    if (check.errored instanceof ContentMismatchError) return check.errored;
    if (sourceError) {
      return new CliError(
        `${options.label}: reading the source broke off after ${check.bytesRead} of ${expected.size} bytes ` +
          `(${sourceError.message}); nothing was stored for this file; run the command again: the files already ` +
          'copied and verified are kept and not read again',
      );
    }
    return e;
  };
  const call = { action: 's3:PutObject', resource: s3Uri(dest), endpointUrl: options.endpointUrl };
  source.on('error', (e) => {
    sourceError = e;
    check.destroy(e);
  });
  const piped = source.pipe(check);
  if (!expected.sha256) {
    const MAX_IN_MEMORY = 64 * 1024 * 1024;
    if (expected.size > MAX_IN_MEMORY) {
      throw new CliError(
        `${options.label}: the source publishes no SHA-256 for these ${expected.size} bytes, so the copy cannot be ` +
          'verified; download the repository (hf download --local-dir) and stage it with --from-dir',
      );
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of piped) chunks.push(chunk as Buffer);
    } catch (e) {
      throw failed(e);
    }
    const sha = check.digest ?? '';
    await awsCall(call, () =>
      s3.send(
        new PutObjectCommand({
          Bucket: dest.bucket,
          Key: dest.key,
          Body: Buffer.concat(chunks),
          Metadata: { [SHA256_METADATA]: sha, ...(expected.gitOid ? { [GIT_OID_METADATA]: expected.gitOid } : {}) },
        }),
      ),
    );
    return sha;
  }
  const upload = new Upload({
    client: s3,
    queueSize: 4,
    partSize: partSizeFor(expected.size),
    leavePartsOnError: false,
    params: {
      Bucket: dest.bucket,
      Key: dest.key,
      Body: piped,
      ContentType: 'application/octet-stream',
      Metadata: {
        [SHA256_METADATA]: expected.sha256,
        ...(expected.gitOid ? { [GIT_OID_METADATA]: expected.gitOid } : {}),
      },
    },
  });
  try {
    await awsCall(call, () => upload.done());
  } catch (e) {
    throw failed(e);
  }
  if (check.digest !== expected.sha256) {
    // the upload completed without the stream's final check passing; never keep such an object.
    await awsCall({ ...call, action: 's3:DeleteObject' }, () =>
      s3.send(new DeleteObjectCommand({ Bucket: dest.bucket, Key: dest.key })),
    );
    throw new ContentMismatchError(`${options.label}: the upload finished before the SHA-256 check; run again`);
  }
  return check.digest;
}

/** SHA-256 of a local file, read as a stream. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
