/**
 * IAM action lists of the register-and-deploy stage, in the style of aws-cdk-lib's `aws-s3/lib/perms.ts`. Each
 * list names what it is for; the constructs pair it with resource ARNs scoped to this deployment's name prefix.
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html
 */

// ---------------------------------------------------------------------------------------------------------
// REGISTER state machine
// ---------------------------------------------------------------------------------------------------------

/** Find the training job of a pipeline execution (`pipeline/<prefix>-*` executions). */
export const PIPELINE_STEPS_READ_ACTIONS = ['sagemaker:ListPipelineExecutionSteps'];

/** Read the pipeline's training job (SageMaker names them `pipelines-<execution>-<step>-...`). */
export const TRAINING_JOB_DESCRIBE_ACTIONS = ['sagemaker:DescribeTrainingJob'];

/** Create a model package version in one of this deployment's groups. */
export const MODEL_PACKAGE_CREATE_ACTIONS = ['sagemaker:CreateModelPackage'];

/** Read model packages (the deploy machine re-checks the approval status). */
export const MODEL_PACKAGE_DESCRIBE_ACTIONS = ['sagemaker:DescribeModelPackage'];

/** Listing supports no resource-level permissions (Resource must be `*`). */
export const MODEL_PACKAGE_LIST_ACTIONS = ['sagemaker:ListModelPackages'];

// ---------------------------------------------------------------------------------------------------------
// DEPLOY state machine
// ---------------------------------------------------------------------------------------------------------

/** Models and endpoint configs named `<endpoint>-<settings hash>-v<version>`. */
export const MODEL_WRITE_ACTIONS = ['sagemaker:CreateModel', 'sagemaker:DeleteModel', 'sagemaker:AddTags'];
export const ENDPOINT_CONFIG_WRITE_ACTIONS = [
  'sagemaker:CreateEndpointConfig',
  'sagemaker:DeleteEndpointConfig',
  'sagemaker:AddTags',
];

/** Tags on CreateEndpoint are authorized as sagemaker:AddTags on the endpoint. */
export const ENDPOINT_TAG_ACTIONS = ['sagemaker:AddTags'];
export const ENDPOINT_DESCRIBE_ACTIONS = ['sagemaker:DescribeEndpoint'];
export const ENDPOINT_INVOKE_ACTIONS = ['sagemaker:InvokeEndpoint'];

/**
 * Application Auto Scaling of an endpoint variant. Scalable targets and policies have generated ARNs, so
 * these take `*`; SageMaker checks the endpoint actions below on the caller as well.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-prerequisites.html
 */
export const AUTOSCALING_ACTIONS = [
  'application-autoscaling:RegisterScalableTarget',
  'application-autoscaling:DeregisterScalableTarget',
  'application-autoscaling:PutScalingPolicy',
];

/** What registering a SageMaker variant as a scalable target needs on the endpoint. */
export const AUTOSCALING_ENDPOINT_ACTIONS = [
  'sagemaker:DescribeEndpoint',
  'sagemaker:DescribeEndpointConfig',
  'sagemaker:UpdateEndpointWeightsAndCapacities',
];

/** Target tracking creates its alarms under the caller's identity (`TargetTracking-endpoint/<name>/...`). */
export const AUTOSCALING_ALARM_ACTIONS = [
  'cloudwatch:PutMetricAlarm',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:DeleteAlarms',
];

/**
 * A blue/green update with AutoRollbackConfiguration: SageMaker reads the state of the named alarms with the
 * caller's permissions while it bakes the new fleet, so the deploy role needs them on its rollback alarms.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html
 */
export const ROLLBACK_ALARM_READ_ACTIONS = ['cloudwatch:DescribeAlarms'];

/** The first scalable SageMaker variant of an account creates Application Auto Scaling's service-linked role. */
export const AUTOSCALING_SERVICE_LINKED_ROLE_ACTIONS = ['iam:CreateServiceLinkedRole'];

// ---------------------------------------------------------------------------------------------------------
// The endpoint's model execution role (assumed by SageMaker hosting)
// ---------------------------------------------------------------------------------------------------------

/** Read the registered, uncompressed model under `registry/` (SageMaker downloads the prefix to /opt/ml/model). */
export const S3_MODEL_READ_ACTIONS = ['s3:GetObject'];
/** List the model prefix (conditioned on `s3:prefix`). */
export const S3_LIST_ACTIONS = ['s3:ListBucket'];
/** Write endpoint data capture under `data-capture/`. */
export const S3_CAPTURE_WRITE_ACTIONS = ['s3:PutObject'];
/** SSE-KMS objects: decrypt the model, encrypt the captured data. */
export const KMS_READ_WRITE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** Pull the serving image from a private ECR repository. */
export const ECR_PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];
/** ECR's registry login supports no resource-level permissions. */
export const ECR_AUTH_ACTIONS = ['ecr:GetAuthorizationToken'];

/** Endpoint container logs under `/aws/sagemaker/Endpoints/<prefix>-*`. */
export const ENDPOINT_LOG_ACTIONS = [
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'logs:DescribeLogStreams',
];

/** Container metrics (GPU utilisation, ...); PutMetricData supports no resource-level permissions. */
export const ENDPOINT_METRIC_ACTIONS = ['cloudwatch:PutMetricData'];

/**
 * ENIs of a model with `VpcConfig`. Describe* and CreateNetworkInterface on the account's network resources
 * cannot be scoped to a name; the security group and subnets are the grant's resources where IAM allows.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html
 */
export const VPC_ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:CreateNetworkInterfacePermission',
  'ec2:DeleteNetworkInterface',
  'ec2:DeleteNetworkInterfacePermission',
];
export const VPC_DESCRIBE_ACTIONS = [
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeVpcs',
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
];
