/**
 * IAM action lists used by the platform constructs, in one place (aws-s3/lib/perms.ts style). Each list
 * names what it is for; grants pair it with scoped resource ARNs.
 */

// ---------------------------------------------------------------------------------------------------------
// MLflow: managed tracking server (`sagemaker-mlflow:` data plane, scoped to the server ARN)
// @see https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow-create-tracking-server-iam.html
// ---------------------------------------------------------------------------------------------------------

/** What a training job needs to create its experiment and run, and log params, metrics, tags, inputs and models. */
export const MLFLOW_TRACKING_LOGGING_ACTIONS = [
  'sagemaker-mlflow:CreateExperiment',
  'sagemaker-mlflow:GetExperiment',
  'sagemaker-mlflow:GetExperimentByName',
  'sagemaker-mlflow:SearchExperiments',
  'sagemaker-mlflow:CreateRun',
  'sagemaker-mlflow:GetRun',
  'sagemaker-mlflow:UpdateRun',
  'sagemaker-mlflow:SearchRuns',
  'sagemaker-mlflow:LogMetric',
  'sagemaker-mlflow:LogBatch',
  'sagemaker-mlflow:LogParam',
  'sagemaker-mlflow:LogInputs',
  'sagemaker-mlflow:LogOutputs',
  'sagemaker-mlflow:LogModel',
  'sagemaker-mlflow:SetTag',
  'sagemaker-mlflow:SetExperimentTag',
  'sagemaker-mlflow:ListArtifacts',
  'sagemaker-mlflow:GetMetricHistory',
];

/** What a Studio user needs to open the MLflow UI and browse experiments, runs and registered models (no writes). */
export const MLFLOW_TRACKING_READ_ACTIONS = [
  'sagemaker-mlflow:GetExperiment',
  'sagemaker-mlflow:GetExperimentByName',
  'sagemaker-mlflow:SearchExperiments',
  'sagemaker-mlflow:GetRun',
  'sagemaker-mlflow:SearchRuns',
  'sagemaker-mlflow:GetMetricHistory',
  'sagemaker-mlflow:ListArtifacts',
  'sagemaker-mlflow:GetRegisteredModel',
  'sagemaker-mlflow:SearchRegisteredModels',
  'sagemaker-mlflow:GetLatestModelVersions',
  'sagemaker-mlflow:GetModelVersion',
  'sagemaker-mlflow:SearchModelVersions',
  'sagemaker-mlflow:GetModelVersionByAlias',
  'sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts',
];

/** Open the MLflow UI; supports no resource-level permissions (granted on `*`). */
export const MLFLOW_TRACKING_UI_ACTIONS = ['sagemaker-mlflow:AccessUI'];

/** Control-plane reads on one tracking server: open it from Studio (presigned URL) and see its status. */
export const MLFLOW_TRACKING_SERVER_VIEW_ACTIONS = [
  'sagemaker:CreatePresignedMlflowTrackingServerUrl',
  'sagemaker:DescribeMlflowTrackingServer',
];

/** What the tracking server's own role needs for automatic registration to the SageMaker Model Registry. */
export const MLFLOW_MODEL_REGISTRATION_ACTIONS = [
  'sagemaker:CreateModelPackageGroup',
  'sagemaker:DescribeModelPackageGroup',
  'sagemaker:CreateModelPackage',
  'sagemaker:UpdateModelPackage',
];

// ---------------------------------------------------------------------------------------------------------
// MLflow: serverless MLflow App (one data-plane action; logging cannot be separated from reading)
// @see https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow-app-setup-prerequisites-iam.html
// ---------------------------------------------------------------------------------------------------------

/** The MLflow App's whole data plane (log, read, delete alike). */
export const MLFLOW_APP_API_ACTIONS = ['sagemaker:CallMlflowAppApi'];

/** Open an MLflow App from Studio and see its status. */
export const MLFLOW_APP_VIEW_ACTIONS = ['sagemaker:CreatePresignedMlflowAppUrl', 'sagemaker:DescribeMlflowApp'];

// ---------------------------------------------------------------------------------------------------------
// SageMaker Pipelines (scoped to `pipeline/<prefix>-*`)
// ---------------------------------------------------------------------------------------------------------

/** Pipeline-level actions for the Studio "Execute pipeline" flow. */
export const PIPELINE_START_ACTIONS = [
  'sagemaker:DescribePipeline',
  'sagemaker:ListPipelineExecutions',
  'sagemaker:StartPipelineExecution',
];

/** Execution-level actions: watch, stop and retry a run. */
export const PIPELINE_EXECUTION_ACTIONS = [
  'sagemaker:DescribePipelineExecution',
  'sagemaker:DescribePipelineDefinitionForExecution',
  'sagemaker:ListPipelineExecutionSteps',
  'sagemaker:ListPipelineParametersForExecution',
  'sagemaker:StopPipelineExecution',
  'sagemaker:RetryPipelineExecution',
];

/** Read the model packages a pipeline registered (approval itself is not granted to Studio users). */
export const MODEL_PACKAGE_READ_ACTIONS = [
  'sagemaker:DescribeModelPackageGroup',
  'sagemaker:DescribeModelPackage',
  'sagemaker:ListModelPackages',
];

/** Training jobs started by a pipeline (named `pipelines-<execution>-<step>-...` by SageMaker). */
export const TRAINING_JOB_READ_ACTIONS = ['sagemaker:DescribeTrainingJob'];

/**
 * List actions that support no resource-level permissions (Resource must be `*`): the Studio console lists
 * pipelines, tracking servers, model package groups and training jobs to show this project's among them.
 */
export const SAGEMAKER_LIST_ACTIONS = [
  'sagemaker:ListPipelines',
  'sagemaker:ListMlflowTrackingServers',
  'sagemaker:ListModelPackageGroups',
  'sagemaker:ListTrainingJobs',
];

// ---------------------------------------------------------------------------------------------------------
// Studio: what a user's execution role needs inside its own domain (spaces and apps)
// @see https://docs.aws.amazon.com/sagemaker/latest/dg/domain-space-permissions.html
// ---------------------------------------------------------------------------------------------------------

/** Describe the domain and user profiles (the Studio UI reads them on load). */
export const STUDIO_DESCRIBE_ACTIONS = ['sagemaker:DescribeDomain', 'sagemaker:DescribeUserProfile'];

/** Read spaces and apps of the domain, and tag what Studio creates (Studio tags every space and app it creates). */
export const STUDIO_SPACE_ACTIONS = [
  'sagemaker:DescribeSpace',
  'sagemaker:DescribeApp',
  'sagemaker:AddTags',
  'sagemaker:ListTags',
];

/** Create, change and delete spaces: only the caller's own (conditioned on `sagemaker:OwnerUserProfileArn`). */
export const STUDIO_SPACE_OWNER_ACTIONS = ['sagemaker:CreateSpace', 'sagemaker:UpdateSpace', 'sagemaker:DeleteSpace'];

/** Start and stop apps: in the caller's own private spaces, in shared spaces, and the profile's own apps. */
export const STUDIO_APP_ACTIONS = ['sagemaker:CreateApp', 'sagemaker:DeleteApp'];

/** Listing within Studio; these support no resource-level permissions. */
export const STUDIO_LIST_ACTIONS = ['sagemaker:ListApps', 'sagemaker:ListSpaces', 'sagemaker:ListUserProfiles'];

/** The teardown custom resource: find and delete every app and space in the domain. */
export const STUDIO_TEARDOWN_LIST_ACTIONS = ['sagemaker:ListApps', 'sagemaker:ListSpaces'];
/** Deleting apps and spaces (scoped to the domain's app/space ARNs). */
export const STUDIO_TEARDOWN_DELETE_ACTIONS = [
  'sagemaker:DeleteApp',
  'sagemaker:DescribeApp',
  'sagemaker:DeleteSpace',
  'sagemaker:DescribeSpace',
];

// ---------------------------------------------------------------------------------------------------------
// S3 objects and the SSE-KMS bucket key (lib/constructs/data/bucket-grants.ts)
// ---------------------------------------------------------------------------------------------------------

/** Read objects. */
export const S3_OBJECT_READ_ACTIONS = ['s3:GetObject'];
/** Write objects, including multipart uploads (large checkpoints and weights). No delete. */
export const S3_OBJECT_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'];
/** List a bucket (conditioned on a prefix by the grant). */
export const S3_BUCKET_LIST_ACTIONS = ['s3:ListBucket'];
/** Decrypt SSE-KMS objects (through S3 only). */
export const KMS_VIA_S3_READ_ACTIONS = ['kms:Decrypt'];
/** Encrypt new SSE-KMS objects (through S3 only). */
export const KMS_VIA_S3_WRITE_ACTIONS = ['kms:GenerateDataKey'];

// ---------------------------------------------------------------------------------------------------------
// CloudWatch Logs: Studio apps write their logs here
// ---------------------------------------------------------------------------------------------------------

/** Read the logs of this project's training jobs (`/aws/sagemaker/TrainingJobs`). */
export const TRAINING_LOG_READ_ACTIONS = ['logs:GetLogEvents', 'logs:FilterLogEvents', 'logs:DescribeLogStreams'];

/** Studio apps and spaces log to `/aws/sagemaker/studio`. */
export const STUDIO_LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'];

// ---------------------------------------------------------------------------------------------------------
// The model registry prefix of the artifacts bucket (write-once for all but the REGISTER workflow)
// ---------------------------------------------------------------------------------------------------------

/** Every way to create, overwrite, delete or re-permission an object under the registry prefix. */
export const REGISTRY_WRITE_ACTIONS = [
  's3:PutObject',
  's3:PutObjectAcl',
  's3:PutObjectTagging',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:DeleteObjectTagging',
  's3:RestoreObject',
];
