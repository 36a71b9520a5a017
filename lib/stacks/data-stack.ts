import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import { ARTIFACTS_LAYOUT } from '../config/artifacts-layout';
import { registerRoleName, resourcePrefix } from '../config/naming';
import { grantObjectsRead, grantObjectsReadWrite } from '../constructs/data/bucket-grants';
import { SecureBucket } from '../constructs/data/secure-bucket';
import { allowCloudWatchLogs } from '../constructs/logs-key-policy';
import { REGISTRY_WRITE_ACTIONS } from '../iam/perms';

export interface DataStackProps extends cdk.StackProps {
  readonly config: AppConfig;
  /**
   * Days after which objects under `checkpoints/` in the artifacts bucket expire. Checkpoints only matter
   * while a (spot) job may resume; the final model is written under `models/`.
   * @default 30
   */
  readonly checkpointRetentionDays?: number;
  /**
   * Days after which server access logs expire.
   * @default 365
   */
  readonly accessLogRetentionDays?: number;
}

/**
 * Stateful resources: the platform's customer-managed KMS key and its three buckets. Termination protection
 * is on and everything is retained on delete, so removing the stack never removes data.
 */
export class DataStack extends cdk.Stack {
  /** Customer-managed key (rotation on) encrypting the buckets, the Studio domain's volumes and log groups. */
  public readonly key: kms.IKey;
  /** Training and evaluation datasets (read by jobs and Studio users). */
  public readonly datasetsBucket: s3.IBucket;
  /** Model artifacts, checkpoints, pipeline definitions, code channels and the MLflow artifact store. */
  public readonly artifactsBucket: s3.IBucket;
  /** Server access logs of the other buckets (SSE-S3: the only encryption S3 log delivery supports). */
  public readonly logsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    const prefix = resourcePrefix(props.config);

    const key = new kms.Key(this, 'Key', {
      alias: `alias/${prefix}`,
      description: `${prefix}: encrypts datasets, artifacts, Studio volumes and log groups`,
      enableKeyRotation: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    allowCloudWatchLogs(key);
    this.key = key;

    const logsBucket = new SecureBucket(this, 'AccessLogs', {
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: cdk.Duration.days(props.accessLogRetentionDays ?? 365) },
      ],
    });
    cdk.Validations.of(logsBucket).acknowledge(
      {
        id: 'AwsSolutions-S1',
        reason:
          'This is the server access log target; logging it into itself would loop. Its own access is covered by CloudTrail data events.',
      },
      {
        id: 'NIST.800.53.R5-S3BucketLoggingEnabled',
        reason: 'This is the server access log target; logging it into itself would loop.',
      },
      {
        id: 'HIPAA.Security-S3BucketLoggingEnabled',
        reason: 'This is the server access log target; logging it into itself would loop.',
      },
      {
        id: 'PCI.DSS.321-S3BucketLoggingEnabled',
        reason: 'This is the server access log target; logging it into itself would loop.',
      },
      {
        id: 'NIST.800.53.R5-S3DefaultEncryptionKMS',
        reason: 'S3 server access log delivery only supports SSE-S3 (AES256) on the target bucket, not SSE-KMS.',
      },
      {
        id: 'HIPAA.Security-S3DefaultEncryptionKMS',
        reason: 'S3 server access log delivery only supports SSE-S3 (AES256) on the target bucket, not SSE-KMS.',
      },
      {
        id: 'PCI.DSS.321-S3DefaultEncryptionKMS',
        reason: 'S3 server access log delivery only supports SSE-S3 (AES256) on the target bucket, not SSE-KMS.',
      },
    );
    this.logsBucket = logsBucket;

    this.datasetsBucket = new SecureBucket(this, 'Datasets', {
      encryptionKey: key,
      serverAccessLogsBucket: logsBucket,
      serverAccessLogsPrefix: 'datasets/',
    });

    this.artifactsBucket = new SecureBucket(this, 'Artifacts', {
      encryptionKey: key,
      serverAccessLogsBucket: logsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      // model weights are 40-240 GB: keep overwritten versions for a shorter time than the default.
      noncurrentVersionExpirationDays: 30,
      lifecycleRules: [
        {
          id: 'expire-old-checkpoints',
          prefix: ARTIFACTS_LAYOUT.checkpoints,
          expiration: cdk.Duration.days(props.checkpointRetentionDays ?? 30),
          noncurrentVersionExpiration: cdk.Duration.days(1),
        },
      ],
    });

    this.protectRegistry(registerRoleName(props.config));

    for (const bucket of [logsBucket, this.datasetsBucket, this.artifactsBucket]) {
      cdk.Validations.of(bucket).acknowledge(
        {
          id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
          reason:
            'Single-region platform: data is versioned and retained; cross-region copies of 40-240 GB checkpoints are a cost the operator opts into.',
        },
        {
          id: 'HIPAA.Security-S3BucketReplicationEnabled',
          reason:
            'Single-region platform: data is versioned and retained; cross-region copies of 40-240 GB checkpoints are a cost the operator opts into.',
        },
        {
          id: 'PCI.DSS.321-S3BucketReplicationEnabled',
          reason:
            'Single-region platform: data is versioned and retained; cross-region copies of 40-240 GB checkpoints are a cost the operator opts into.',
        },
      );
    }
  }

  /**
   * The model registry prefix is write-once for everyone but the REGISTER workflow: writes and deletes
   * there are denied to every other principal (training, Studio and pipeline roles included). The account
   * root stays exempt as the break-glass identity, and the bucket policy itself stays manageable, so
   * CloudFormation and administrators are never locked out of the bucket. The role is named, not
   * referenced, so this stack does not depend on the deployment stack (lib/config/naming.ts).
   */
  private protectRegistry(registerRole: string): void {
    const registry = this.artifactsBucket.arnForObjects(`${ARTIFACTS_LAYOUT.registry}*`);
    this.artifactsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'RegistryWritesOnlyByRegisterWorkflow',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: REGISTRY_WRITE_ACTIONS,
        resources: [registry],
        conditions: {
          ArnNotEquals: {
            'aws:PrincipalArn': [
              this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: registerRole }),
              this.formatArn({ service: 'iam', region: '', resource: 'root' }),
            ],
          },
        },
      }),
    );
  }

  /** Read access to (a prefix of) the datasets bucket: objects and listing, decrypting through S3. */
  public grantDatasetsRead(grantee: iam.IGrantable, prefix: string = ''): iam.Grant {
    return grantObjectsRead(this.datasetsBucket, grantee, prefix);
  }

  /** Read/write access (no delete) to one prefix of the artifacts bucket, e.g. `ARTIFACTS_LAYOUT.checkpoints`. */
  public grantArtifactsReadWrite(grantee: iam.IGrantable, prefix: string): iam.Grant {
    return grantObjectsReadWrite(this.artifactsBucket, grantee, prefix);
  }
}
