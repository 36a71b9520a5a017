import * as cdk from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { TrainingDeployValues } from '../pipeline';
import { PipelineFileDeployment } from './pipeline-file-deployment';

/**
 * Recipes whose files one BucketDeployment uploads. Its custom resource request carries every deploy-time
 * value of those files (about 2.5 KB per recipe), and Lambda caps an asynchronous invocation at 256 KB.
 */
export const RECIPES_PER_FILE_DEPLOYMENT = 25;

/** Properties of a {@link PipelinesNestedStack}. */
export interface PipelinesNestedStackProps extends cdk.NestedStackProps {
  /** The deploy-time values, resolved in the parent; passed in as this stack's parameters. */
  readonly values: TrainingDeployValues;
}

/**
 * One shard of recipe pipelines. The deploy-time values enter as stack parameters, so each occurrence in a
 * definition is a short `Ref` rather than a cross-stack expression (this keeps templates and the file
 * deployments' requests small).
 */
export class PipelinesNestedStack extends cdk.NestedStack {
  /** The deploy-time values as this stack's parameters (each declared on first use). */
  public readonly values: TrainingDeployValues;
  /** The artifacts bucket, imported from this stack's parameters. */
  public readonly artifactsBucket: s3.IBucket;
  private readonly deployments: PipelineFileDeployment[] = [];

  constructor(scope: Construct, id: string, props: PipelinesNestedStackProps) {
    super(scope, id, props);
    const v = props.values;
    // a parameter is declared (and passed by the parent) only when a definition uses it: no unused parameters.
    const lazy = (name: string, value: string): (() => string) => {
      let ref: string | undefined;
      return () => {
        if (ref === undefined) {
          ref = new cdk.CfnParameter(this, name, { type: 'String' }).valueAsString;
          this.setParameter(name, value);
        }
        return ref;
      };
    };
    const roleArn = lazy('TrainingJobRoleArn', v.roleArn);
    const kmsKeyArn = lazy('KmsKeyArn', v.kmsKeyArn);
    const artifactsBucketName = lazy('ArtifactsBucketName', v.artifactsBucketName);
    const datasetsBucketName = lazy('DatasetsBucketName', v.datasetsBucketName);
    const subnetIds = v.subnetIds.map((id, i) => lazy(`SubnetId${i + 1}`, id));
    const securityGroupIds = v.securityGroupIds.map((id, i) => lazy(`SecurityGroupId${i + 1}`, id));
    const defaultImageUri = lazy('DefaultImageUri', v.defaultImageUri);
    const codeS3Uri = lazy('CodeS3Uri', v.codeS3Uri);
    const mlflowTrackingArn =
      v.mlflowTrackingArn !== undefined ? lazy('MlflowTrackingArn', v.mlflowTrackingArn) : undefined;
    const executionCheckFunctionArn =
      v.executionCheckFunctionArn !== undefined
        ? lazy('ExecutionCheckFunctionArn', v.executionCheckFunctionArn)
        : undefined;
    this.values = {
      get roleArn() {
        return roleArn();
      },
      get kmsKeyArn() {
        return kmsKeyArn();
      },
      get artifactsBucketName() {
        return artifactsBucketName();
      },
      get datasetsBucketName() {
        return datasetsBucketName();
      },
      get subnetIds() {
        return subnetIds.map((f) => f());
      },
      get securityGroupIds() {
        return securityGroupIds.map((f) => f());
      },
      get defaultImageUri() {
        return defaultImageUri();
      },
      get codeS3Uri() {
        return codeS3Uri();
      },
      get mlflowTrackingArn() {
        return mlflowTrackingArn?.();
      },
      get executionCheckFunctionArn() {
        return executionCheckFunctionArn?.();
      },
    };
    this.artifactsBucket = s3.Bucket.fromBucketAttributes(this, 'ArtifactsBucket', {
      bucketName: this.values.artifactsBucketName,
      encryptionKey: kms.Key.fromKeyArn(this, 'Key', this.values.kmsKeyArn),
    });
  }

  /** The n-th file deployment of this stack (created on first use). */
  public fileDeployment(n: number): PipelineFileDeployment {
    while (this.deployments.length <= n) {
      this.deployments.push(
        new PipelineFileDeployment(this, `PipelineFiles${this.deployments.length + 1}`, {
          artifactsBucket: this.artifactsBucket,
        }),
      );
    }
    return this.deployments[n];
  }
}
