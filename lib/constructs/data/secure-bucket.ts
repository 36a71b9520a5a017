import * as cdk from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Properties of a {@link SecureBucket}. */
export interface SecureBucketProps {
  /**
   * Customer-managed key for default encryption (SSE-KMS with an S3 Bucket Key).
   * @default - SSE-S3 (AES256). Only for buckets that cannot use KMS, such as the server access log target.
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Bucket that receives this bucket's server access logs, under `<logPrefix>`.
   * @default - no access logging (only for the access log bucket itself)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * Prefix of this bucket's access logs in `serverAccessLogsBucket`.
   * @default - `<construct id>/`
   */
  readonly serverAccessLogsPrefix?: string;
  /**
   * Days after which incomplete multipart uploads are aborted (training jobs that die mid-upload leave them).
   * @default 7
   */
  readonly abortIncompleteMultipartUploadAfterDays?: number;
  /**
   * Days after which a non-current object version is deleted.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Further lifecycle rules (e.g. expiring old checkpoints).
   * @default - none
   */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /**
   * What happens to the bucket when it leaves the stack.
   * @default cdk.RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: cdk.RemovalPolicy;
}

/**
 * An S3 bucket with the platform's non-negotiable settings: all public access blocked, SSL-only bucket
 * policy (every AWS endpoint already requires TLS 1.2+), versioning, bucket-owner-enforced ownership, KMS (or, for the log bucket, SSE-S3) encryption,
 * server access logging, abort of incomplete multipart uploads, expiry of old versions, and RETAIN.
 */
export class SecureBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: SecureBucketProps = {}) {
    super(scope, id, {
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsBucket ? (props.serverAccessLogsPrefix ?? `${id}/`) : undefined,
      removalPolicy: props.removalPolicy ?? cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: cdk.Duration.days(props.abortIncompleteMultipartUploadAfterDays ?? 7),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: cdk.Duration.days(props.noncurrentVersionExpirationDays ?? 90),
        },
        ...(props.lifecycleRules ?? []),
      ],
    });
  }
}
