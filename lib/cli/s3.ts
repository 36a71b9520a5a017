import * as fs from 'node:fs';
import { HeadBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsCall, CliError } from './errors';
import { type Output, ProgressBar } from './output';

/** An `s3://bucket/key` location. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** Parses `s3://bucket/prefix`; the key may be empty. */
export function parseS3Uri(uri: string, what = 'S3 URI'): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!match) throw new CliError(`${what} "${uri}" is not an S3 URI; write it as s3://bucket/prefix/`);
  return { bucket: match[1], key: match[2] ?? '' };
}

export function s3Uri(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

/** Part size for multipart uploads: 16 MiB, grown so a file never needs more than 10,000 parts. */
export function partSizeFor(bytes: number): number {
  const MIN = 16 * 1024 * 1024;
  return Math.max(MIN, Math.ceil(bytes / 9000));
}

/** Fails with a clear sentence when the bucket does not exist or is not reachable with these credentials. */
export async function assertBucket(s3: S3Client, bucket: string, hint: string, endpointUrl?: string): Promise<void> {
  await awsCall(
    {
      action: 's3:ListBucket',
      resource: `bucket ${bucket}`,
      endpointUrl,
      onNotFound: () => `bucket "${bucket}" does not exist; ${hint}`,
    },
    () => s3.send(new HeadBucketCommand({ Bucket: bucket })),
  );
}

/** Keys under a prefix other than `except` (the training channel reads every object under its prefix). */
export async function otherObjects(s3: S3Client, loc: S3Location, except: string, limit = 20): Promise<string[]> {
  const prefix = loc.key;
  const out = await awsCall({ action: 's3:ListBucket', resource: `s3://${loc.bucket}/${prefix}` }, () =>
    s3.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, MaxKeys: limit + 1 })),
  );
  return (out.Contents ?? [])
    .map((o) => o.Key ?? '')
    .filter((k) => k !== except && !k.endsWith('/'))
    .slice(0, limit);
}

/**
 * Uploads a local file with lib-storage's managed upload (multipart above one part, parts in parallel),
 * drawing a progress bar on stderr. Server-side encryption is left to the bucket's default (the
 * platform's KMS key), so no key id is needed here.
 */
export async function uploadFile(
  s3: S3Client,
  file: string,
  dest: S3Location,
  out: Output,
  options: { contentType?: string; endpointUrl?: string } = {},
): Promise<{ bytes: number; etag?: string; versionId?: string; parts: number }> {
  const bytes = fs.statSync(file).size;
  const partSize = partSizeFor(bytes);
  const bar = new ProgressBar(out, `uploading ${s3Uri(dest)}`, bytes);
  const upload = new Upload({
    client: s3,
    queueSize: 4,
    partSize,
    leavePartsOnError: false,
    params: {
      Bucket: dest.bucket,
      Key: dest.key,
      Body: fs.createReadStream(file),
      ContentType: options.contentType ?? 'application/jsonl',
    },
  });
  upload.on('httpUploadProgress', (p) => bar.update(p.loaded ?? 0));
  const result = await awsCall(
    {
      action: 's3:PutObject',
      resource: s3Uri(dest),
      endpointUrl: options.endpointUrl,
      onNotFound: () => `bucket "${dest.bucket}" does not exist; check --bucket or deploy the data stack`,
    },
    () => upload.done(),
  );
  bar.finish();
  return {
    bytes,
    etag: result.ETag,
    versionId: result.VersionId,
    parts: Math.max(1, Math.ceil(bytes / partSize)),
  };
}
