import * as cdk from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { FileDeploymentSupport } from './file-deployment-support';

/** Properties of a {@link PipelineFileDeployment}. */
export interface PipelineFileDeploymentProps {
  /** Destination: the artifacts bucket (its key also encrypts the handler's log group). */
  readonly artifactsBucket: s3.IBucket;
  /** @default - none yet; add them with `addSource` */
  readonly sources?: s3deploy.ISource[];
  /** @default - the bucket root (keys carry their own prefixes) */
  readonly destinationKeyPrefix?: string;
}

/**
 * Uploads pipeline files (definitions, recipe channels, code) into the artifacts bucket with CDK's
 * BucketDeployment, substituting deploy-time values. Keys are content-addressed, so nothing is pruned:
 * older objects stay for rollbacks and for the jobs that used them. All deployments of a stack share one
 * handler, one role and one KMS-encrypted log group. The handler's role gets exact grants (read the staged
 * sources, list and write the artifacts bucket, the key through S3) instead of BucketDeployment's broad ones.
 */
export class PipelineFileDeployment extends s3deploy.BucketDeployment {
  private readonly support: FileDeploymentSupport;

  constructor(scope: Construct, id: string, props: PipelineFileDeploymentProps) {
    const support = FileDeploymentSupport.of(cdk.Stack.of(scope), props.artifactsBucket);
    super(scope, id, {
      destinationBucket: props.artifactsBucket,
      destinationKeyPrefix: props.destinationKeyPrefix,
      sources: (props.sources ?? []).map((source) => support.granting(source)),
      prune: false,
      retainOnDelete: true,
      outputObjectKeys: false,
      // BucketDeployment's own grants go nowhere; FileDeploymentSupport grants exactly what the copy needs.
      role: support.role.withoutPolicyUpdates(),
      logGroup: support.logGroup,
    });
    this.support = support;
  }

  public addSource(source: s3deploy.ISource): void {
    super.addSource(this.support.granting(source));
  }
}
