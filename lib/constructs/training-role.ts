import * as cdk from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { denyApproval } from '../iam/approval';
import {
  KMS_CREATE_GRANT_ACTIONS,
  TRAINING_KMS_ACTIONS,
  TRAINING_LOG_ACTIONS,
  TRAINING_METRIC_ACTIONS,
  TRAINING_S3_DELETE_ACTIONS,
  VPC_CREATE_ENI_ACTIONS,
  VPC_DESCRIBE_ACTIONS,
  VPC_MANAGE_ENI_ACTIONS,
} from '../iam/training-perms';
import { acknowledgeGrantPolicy, acknowledgeWildcardResources } from './compliance';
import { grantObjectsRead, grantObjectsReadWrite } from './data/bucket-grants';

/** Something that can grant MLflow logging (the platform's managed MLflow). */
export interface IMlflowLogging {
  /** Tracking server or MLflow App ARN. */
  readonly arn: string;
  grantLogging(grantee: iam.IGrantable): iam.Grant;
}

/** An S3 location a job may read datasets from, outside the datasets bucket. */
export interface S3Location {
  readonly bucketName: string;
  /** Key prefix without a leading `/`; empty for the whole bucket. */
  readonly prefix: string;
}

/** Parses `s3://bucket/prefix/` into a {@link S3Location}. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!match) throw new Error(`"${uri}" is not an S3 URI; write "s3://<bucket>/<prefix>/"`);
  return { bucketName: match[1], prefix: match[2] ?? '' };
}

/** Properties of a {@link TrainingJobRole}. */
export interface TrainingJobRoleProps {
  /** The platform key: S3 objects, model output and (where the instance allows) the training volume. */
  readonly key: kms.IKey;
  /** Artifacts bucket: the job reads the code and recipe prefixes and writes models and checkpoints. */
  readonly artifactsBucket: s3.IBucket;
  /** Prefixes of the artifacts bucket, each ending in `/`. */
  readonly artifactPrefixes: {
    /** Read: the code and recipe channels. */
    readonly inputs: readonly string[];
    /** Read and write: model output. */
    readonly models: string;
    /** Read, write and delete: checkpoint sync. */
    readonly checkpoints: string;
  };
  /** Datasets bucket, read in full (the dataset parameter may point anywhere in it). */
  readonly datasetsBucket: s3.IBucket;
  /**
   * Dataset locations outside the datasets bucket (recipes' `platform.data.s3_uri`), read only. Their
   * bucket's own policy and key must also allow this role.
   * @default - none
   */
  readonly extraDatasetLocations?: readonly S3Location[];
  /** The VPC the jobs run in. */
  readonly vpc: ec2.IVpc;
  /** Subnets of the jobs' network interfaces. */
  readonly subnets: ec2.SubnetSelection;
  /** Security groups of the jobs' network interfaces. */
  readonly securityGroups: readonly ec2.ISecurityGroup[];
  /**
   * MLflow to log to.
   * @default - no MLflow permissions (jobs log to TensorBoard only)
   */
  readonly mlflow?: IMlflowLogging;
}

/** SageMaker publishes training job metrics in this CloudWatch namespace. */
export const TRAINING_METRIC_NAMESPACE = '/aws/sagemaker/TrainingJobs';
/** SageMaker writes training job logs to this log group. */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

/**
 * The execution role of the platform's training jobs, least privilege: its prefixes of the artifacts bucket,
 * the datasets, the platform key, ECR pull (granted by the image), its log group and metric namespace, the
 * network interfaces of a VPC job, and MLflow logging. No managed policies.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createtrainingjob-perms
 */
export class TrainingJobRole extends Construct implements iam.IGrantable {
  public readonly role: iam.Role;
  public readonly roleArn: string;
  public readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: TrainingJobRoleProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    this.role = new iam.Role(this, 'Resource', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
      description: 'Execution role of the fine-tuning training jobs started by the recipe pipelines',
    });
    this.roleArn = this.role.roleArn;
    this.grantPrincipal = this.role;
    denyApproval(this.role);
    const allow = (actions: readonly string[], resources: readonly string[], conditions?: Record<string, unknown>) =>
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...actions], resources: [...resources], conditions }),
      );

    // ------------------------------------------------------------------
    // S3: input channels, model output, checkpoints, datasets (the key only through S3)
    // ------------------------------------------------------------------
    const artifacts = props.artifactsBucket;
    const { inputs, models, checkpoints } = props.artifactPrefixes;
    inputs.forEach((prefix) => grantObjectsRead(artifacts, this.role, prefix));
    grantObjectsReadWrite(artifacts, this.role, models);
    grantObjectsReadWrite(artifacts, this.role, checkpoints);
    // checkpoint sync mirrors the trainer deleting old checkpoints (save_total_limit).
    allow(TRAINING_S3_DELETE_ACTIONS, [artifacts.arnForObjects(`${checkpoints}*`)]);
    grantObjectsRead(props.datasetsBucket, this.role);
    (props.extraDatasetLocations ?? []).forEach((location, i) =>
      grantObjectsRead(
        s3.Bucket.fromBucketName(this, `ExtraDatasetBucket${i + 1}`, location.bucketName),
        this.role,
        location.prefix,
      ),
    );

    // ------------------------------------------------------------------
    // KMS: SageMaker encrypts the training volume with the key through a grant
    // ------------------------------------------------------------------
    props.key.grant(this.role, ...TRAINING_KMS_ACTIONS);
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: KMS_CREATE_GRANT_ACTIONS,
      resourceArns: [props.key.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    });

    // ------------------------------------------------------------------
    // CloudWatch: the training jobs' log group and metric namespace
    // ------------------------------------------------------------------
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: TRAINING_LOG_GROUP,
      arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
    });
    allow(TRAINING_LOG_ACTIONS, [logGroupArn, `${logGroupArn}:log-stream:*`]);
    // PutMetricData has no resource type; the namespace condition is its only scope.
    allow(TRAINING_METRIC_ACTIONS, ['*'], { StringEquals: { 'cloudwatch:namespace': TRAINING_METRIC_NAMESPACE } });

    // ------------------------------------------------------------------
    // VPC: the job's network interfaces
    // ------------------------------------------------------------------
    // Describe* calls support no resource-level permissions.
    allow(VPC_DESCRIBE_ACTIONS, ['*']);
    const ec2Arn = (resource: string, name: string) =>
      stack.formatArn({ service: 'ec2', resource, resourceName: name });
    const eniArn = ec2Arn('network-interface', '*');
    const subnetIds = props.vpc.selectSubnets(props.subnets).subnetIds;
    allow(VPC_CREATE_ENI_ACTIONS, [
      // interface ids are assigned when the job starts.
      eniArn,
      ...subnetIds.map((id) => ec2Arn('subnet', id)),
      ...props.securityGroups.map((sg) => ec2Arn('security-group', sg.securityGroupId)),
    ]);
    allow(VPC_MANAGE_ENI_ACTIONS, [eniArn]);

    // ------------------------------------------------------------------
    // MLflow
    // ------------------------------------------------------------------
    props.mlflow?.grantLogging(this.role);

    acknowledgeGrantPolicy(this.role, 'the fine-tuning training jobs');
    acknowledgeWildcardResources(
      this.role,
      [`${logGroupArn}:log-stream:*`],
      'SageMaker names one log stream per job and host (<job-name>/algo-<n>-<time>) when the job starts; the grant is limited to the training job log group.',
    );
    acknowledgeWildcardResources(
      this.role,
      [eniArn],
      'SageMaker creates the network interfaces of a VPC job when it starts, so their ids are unknown before; creation is limited to the platform subnets and security group.',
    );
    acknowledgeWildcardResources(
      this.role,
      ['*'],
      'ec2:Describe* and cloudwatch:PutMetricData support no resource-level permissions; PutMetricData is limited to the SageMaker training namespace by condition.',
    );
  }

  /**
   * Lets `grantee` (the pipeline's role) pass this role to SageMaker, and only to SageMaker.
   */
  public grantPassRole(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    });
  }
}
