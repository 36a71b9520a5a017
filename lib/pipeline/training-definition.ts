import { ARTIFACT_KEYS, DATASET_KEYS } from '../config/artifacts-layout';
import type { LoadedRecipe } from '../config/load-recipes';
import { maxWaitSecondsOf, requiredNumberValue } from '../config/recipe-values';
import { hasLocalInstanceStorage } from '../recipes/instance-catalog';
import { PipelineDefinition } from './definition';
import { type ExecutionCheckOptions, executionCheckSteps } from './execution-check-step';
import { ExecutionVariable, Join, Parameter, type StringValue } from './expressions';
import {
  type BaseModelSource,
  defaultBaseModelS3Uri,
  HUB_OFFLINE_ENVIRONMENT,
  MODEL_CHANNEL,
  MODEL_SOURCE_ENV,
  PIPELINE_PARAMETER_TYPES,
  PIPELINE_PARAMETERS,
  type PipelineParameterKey,
} from './parameters';
import {
  Condition,
  ConditionStep,
  FailStep,
  type MetricDefinition,
  type RetryPolicy,
  type Step,
  type TrainingChannel,
  type TrainingJobArguments,
  TrainingStep,
} from './steps';

/**
 * One recipe's pipeline: parameters pre-filled from the recipe, a capacity switch between a spot and an
 * on-demand Training step, and a quality gate on the final eval loss. Pure: every AWS-side value comes in
 * through {@link TrainingDeployValues}, as CDK tokens in the stack and as concrete strings in tests.
 */

/** Step names; the register stage finds the training job of an execution by these. */
export const PIPELINE_STEPS = {
  capacity: 'SpotOrOnDemand',
  trainSpot: 'TrainSpot',
  trainOnDemand: 'TrainOnDemand',
  gateSpot: 'QualityGateSpot',
  gateOnDemand: 'QualityGateOnDemand',
  failSpot: 'EvalLossTooHighSpot',
  failOnDemand: 'EvalLossTooHighOnDemand',
} as const;

/** The Training steps of every pipeline; exactly one of them runs per execution. */
export const TRAINING_STEP_NAMES: readonly string[] = [PIPELINE_STEPS.trainSpot, PIPELINE_STEPS.trainOnDemand];

/** The metric the quality gate reads (must be in training-code/metric_definitions.json). */
export const QUALITY_GATE_METRIC = 'eval_loss';

/** Where the job sees its checkpoints (synced to S3 by CheckpointConfig). */
export const CHECKPOINT_LOCAL_PATH = '/opt/ml/checkpoints';

/** The training-job contract's entrypoint: the launcher in the code channel. */
export const CONTAINER_ENTRYPOINT: readonly string[] = ['python3', '/opt/ml/input/data/code/launch.py'];

/** Values that exist only once the platform is deployed (tokens at synth, strings in tests). */
export interface TrainingDeployValues {
  /** Execution role of the training job. */
  readonly roleArn: string;
  /** KMS key for model output and (where allowed) the training volume. */
  readonly kmsKeyArn: string;
  readonly artifactsBucketName: string;
  readonly datasetsBucketName: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** Training image used when the recipe sets no `platform.training.image_uri`. */
  readonly defaultImageUri: string;
  /** `s3://.../code/<hash>/`: the extracted training-code directory. */
  readonly codeS3Uri: string;
  /** MLflow tracking server or app ARN; absent means TensorBoard only. */
  readonly mlflowTrackingArn?: string;
  /** The execution check function (lib/constructs/execution-check); with options.executionCheckConfig, the first step. */
  readonly executionCheckFunctionArn?: string;
}

export interface TrainingPipelineOptions {
  /** `training-code/metric_definitions.json`. */
  readonly metricDefinitions: readonly MetricDefinition[];
  /** EBS volume per instance, from the recipe or the estimator. */
  readonly volumeSizeGb: number;
  /** Commit of the deployed checkout, recorded on every job. */
  readonly gitSha: string;
  /**
   * Where the jobs get the base model: `staged` (the `model` channel, Hub offline) or `hub` (download, needs
   * a VPC with internet egress).
   * @default 'staged'
   */
  readonly baseModelSource?: BaseModelSource;
  /**
   * Run the recipe rules on each execution's values first and train only when they pass
   * (lib/pipeline/execution-check-step.ts).
   * @default - no check step
   */
  readonly executionCheck?: ExecutionCheckOptions;
  /**
   * The config the execution check reads; with values.executionCheckFunctionArn it adds the check step (the
   * stacks' way; `executionCheck` names both directly).
   * @default - no check step
   */
  readonly executionCheckConfig?: ExecutionCheckOptions['config'];
}

/** Whether SageMaker rejects `VolumeKmsKeyId` for this instance type (lib/recipes/instance-catalog.ts). */
export { hasLocalInstanceStorage };

/** Capacity errors (no instances available now) retry the whole step: 5 more tries over ~2.6 hours. */
export const CAPACITY_RETRY_POLICY: RetryPolicy = {
  exceptionTypes: ['SageMaker.CAPACITY_ERROR'],
  intervalSeconds: 300,
  backoffRate: 2,
  maxAttempts: 5,
};

/** SageMaker-side internal errors restart the job itself, up to this many times. */
export const JOB_INTERNAL_ERROR_RETRIES = 2;

function recipeError(recipe: LoadedRecipe, key: string, message: string): Error {
  return new Error(`${recipe.file}: ${key}: ${message}`);
}

/** Every declared parameter has the type the exported contract ({@link PIPELINE_PARAMETER_TYPES}) gives it. */
function assertParameterTypes(parameters: readonly Parameter[]): void {
  const byName = new Map(Object.entries(PIPELINE_PARAMETERS).map(([key, name]) => [name as string, key]));
  for (const p of parameters) {
    const key = byName.get(p.name) as PipelineParameterKey | undefined;
    if (key === undefined || PIPELINE_PARAMETER_TYPES[key] !== p.valueType) {
      throw new Error(`pipeline parameter ${p.name} (${p.valueType}) is not declared so in lib/pipeline/parameters.ts`);
    }
  }
}

/**
 * Builds the pipeline definition of one recipe that passed the recipe check (lib/recipes/report.ts): what
 * the recipe could get wrong (e.g. a max wait below the max runtime) is a rule there, not a check here.
 */
export function buildTrainingPipeline(
  recipe: LoadedRecipe,
  values: TrainingDeployValues,
  options: TrainingPipelineOptions,
): PipelineDefinition {
  const training = recipe.document.platform.training;
  const data = recipe.document.platform.data;
  const gate = recipe.document.platform.quality_gate;

  if (!Number.isInteger(options.volumeSizeGb) || options.volumeSizeGb < 1 || options.volumeSizeGb > 16384) {
    throw recipeError(recipe, 'platform.training.volume_size_gb', `found ${options.volumeSizeGb}; write 1 to 16384`);
  }
  if (values.subnetIds.length === 0 || values.securityGroupIds.length === 0) {
    throw new Error(`${recipe.file}: training jobs run in the VPC; no subnets or security groups were given`);
  }

  // ------------------------------------------------------------------
  // Parameters (pre-filled from the recipe, editable at "Execute")
  // ------------------------------------------------------------------
  const P = PIPELINE_PARAMETERS;
  const instanceType = Parameter.string(P.instanceType, {
    defaultValue: training.instance_type,
    description: 'SageMaker training instance type (platform.training.instance_type)',
  });
  const instanceCount = Parameter.integer(P.instanceCount, {
    defaultValue: training.instance_count,
    description: 'Number of instances; more than 1 runs multi-node (platform.training.instance_count)',
  });
  const datasetS3Uri = Parameter.string(P.datasetS3Uri, {
    defaultValue: data.s3_uri ?? `s3://${values.datasetsBucketName}/${DATASET_KEYS.recipe(recipe.name)}`,
    description: 'S3 prefix of the training data: JSONL, JSON or Parquet files (platform.data.s3_uri)',
  });
  const maxRuntime = Parameter.integer(P.maxRuntimeSeconds, {
    defaultValue: training.max_runtime_seconds,
    description: 'Stop the job after this many seconds of training (platform.training.max_runtime_seconds)',
  });
  const useSpot = Parameter.boolean(P.useSpot, {
    defaultValue: training.spot,
    description: 'Managed spot training: cheaper, may wait for capacity and be interrupted; resumes from checkpoints',
  });
  const maxWaitSeconds = Parameter.integer(P.maxWaitSeconds, {
    defaultValue: maxWaitSecondsOf(training),
    description: 'Spot only: total seconds including waiting for capacity; at least MaxRuntimeSeconds',
  });
  const numTrainEpochs = Parameter.float(P.numTrainEpochs, {
    defaultValue: requiredNumberValue(recipe.document, 'num_train_epochs'),
    description: 'Training epochs (num_train_epochs); ignored when MaxSteps is above 0',
  });
  const maxSteps = Parameter.integer(P.maxSteps, {
    defaultValue: requiredNumberValue(recipe.document, 'max_steps'),
    description: 'Stop after this many optimizer steps (max_steps); -1 trains for NumTrainEpochs',
  });
  const baseModelSource = options.baseModelSource ?? 'staged';
  const baseModelS3Uri =
    baseModelSource === 'staged'
      ? Parameter.string(P.baseModelS3Uri, {
          defaultValue: defaultBaseModelS3Uri(recipe, values.artifactsBucketName),
          description:
            'S3 prefix of the base model staged by `npm run cli -- stage-model` (model_name_or_path at model_revision)',
        })
      : undefined;
  const parameters = [
    instanceType,
    instanceCount,
    datasetS3Uri,
    ...(baseModelS3Uri ? [baseModelS3Uri] : []),
    maxRuntime,
    useSpot,
    maxWaitSeconds,
    numTrainEpochs,
    maxSteps,
  ];
  assertParameterTypes(parameters);

  // ------------------------------------------------------------------
  // The CreateTrainingJob request shared by both capacity branches
  // ------------------------------------------------------------------
  const artifacts = `s3://${values.artifactsBucketName}/`;
  const channel = (name: string, uri: StringValue): TrainingChannel => ({
    ChannelName: name,
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri, S3DataDistributionType: 'FullyReplicated' } },
    InputMode: 'File',
  });
  const environment: Record<string, StringValue> = {
    ...(values.mlflowTrackingArn !== undefined ? { MLFLOW_TRACKING_ARN: values.mlflowTrackingArn } : {}),
    MLFLOW_EXPERIMENT_NAME: recipe.name,
    RECIPE_NAME: recipe.name,
    RECIPE_HASH: recipe.hash,
    GIT_SHA: options.gitSha,
    DATASET_URI: datasetS3Uri,
    // without egress nothing may wait on the Hub: the model comes from the `model` channel, the data from `training`.
    [MODEL_SOURCE_ENV]: baseModelS3Uri ? 'channel' : 'hub',
    ...(baseModelS3Uri ? HUB_OFFLINE_ENVIRONMENT : {}),
  };
  const checkpointConfig = training.checkpoints
    ? {
        S3Uri: Join.of('', [
          `${artifacts}${ARTIFACT_KEYS.checkpoints(recipe.name)}`,
          ExecutionVariable.PIPELINE_EXECUTION_ID,
          '/',
        ]),
        LocalPath: CHECKPOINT_LOCAL_PATH,
      }
    : undefined;
  const volumeKmsKeyId = hasLocalInstanceStorage(training.instance_type) ? undefined : values.kmsKeyArn;
  const common = {
    AlgorithmSpecification: {
      TrainingImage: training.image_uri ?? values.defaultImageUri,
      TrainingInputMode: 'File',
      ContainerEntrypoint: CONTAINER_ENTRYPOINT,
      MetricDefinitions: options.metricDefinitions,
      EnableSageMakerMetricsTimeSeries: true,
    },
    HyperParameters: { num_train_epochs: numTrainEpochs.asString(), max_steps: maxSteps.asString() },
    RoleArn: values.roleArn,
    InputDataConfig: [
      channel('code', values.codeS3Uri),
      channel('recipe', `${artifacts}${ARTIFACT_KEYS.recipePrefix(recipe.name, recipe.hash)}`),
      channel('training', datasetS3Uri),
      ...(baseModelS3Uri ? [channel(MODEL_CHANNEL, baseModelS3Uri)] : []),
    ],
    OutputDataConfig: {
      S3OutputPath: `${artifacts}${ARTIFACT_KEYS.models(recipe.name)}`,
      KmsKeyId: values.kmsKeyArn,
      CompressionType: 'NONE',
    },
    VpcConfig: { SecurityGroupIds: values.securityGroupIds, Subnets: values.subnetIds },
    CheckpointConfig: checkpointConfig,
    Environment: environment,
    RetryStrategy: { MaximumRetryAttempts: JOB_INTERNAL_ERROR_RETRIES },
    Tags: [
      { Key: 'gpt-oss:recipe', Value: recipe.name },
      { Key: 'gpt-oss:recipe-hash', Value: recipe.hash },
    ],
  } satisfies Omit<TrainingJobArguments, 'ResourceConfig' | 'StoppingCondition'>;
  const resources = { InstanceType: instanceType, InstanceCount: instanceCount, VolumeSizeInGB: options.volumeSizeGb };

  // ------------------------------------------------------------------
  // Capacity: a Boolean parameter cannot add or remove MaxWaitTimeInSeconds (CreateTrainingJob rejects it
  // without spot), so a Condition step picks one of two Training steps.
  // ------------------------------------------------------------------
  const S = PIPELINE_STEPS;
  const trainSpot = new TrainingStep(
    S.trainSpot,
    {
      ...common,
      // warm pools are not available for managed spot training, so no KeepAlivePeriodInSeconds here.
      ResourceConfig: { ...resources, VolumeKmsKeyId: volumeKmsKeyId },
      StoppingCondition: { MaxRuntimeInSeconds: maxRuntime, MaxWaitTimeInSeconds: maxWaitSeconds },
      EnableManagedSpotTraining: true,
    },
    { displayName: 'Train (spot)', retryPolicies: [CAPACITY_RETRY_POLICY] },
  );
  const trainOnDemand = new TrainingStep(
    S.trainOnDemand,
    {
      ...common,
      ResourceConfig: {
        ...resources,
        VolumeKmsKeyId: volumeKmsKeyId,
        KeepAlivePeriodInSeconds: training.keep_alive_seconds > 0 ? training.keep_alive_seconds : undefined,
      },
      StoppingCondition: { MaxRuntimeInSeconds: maxRuntime },
      EnableManagedSpotTraining: false,
    },
    { displayName: 'Train (on-demand)', retryPolicies: [CAPACITY_RETRY_POLICY] },
  );
  const capacity = new ConditionStep(
    S.capacity,
    { conditions: [Condition.equals(useSpot, true)], ifSteps: [trainSpot], elseSteps: [trainOnDemand] },
    { displayName: 'Spot or on-demand', description: 'Runs TrainSpot when UseSpot is true, else TrainOnDemand' },
  );

  // ------------------------------------------------------------------
  // Quality gate: one per branch (a step that depends on a skipped branch is skipped too)
  // ------------------------------------------------------------------
  const steps: Step[] = [];
  const checkOptions =
    options.executionCheck ??
    (values.executionCheckFunctionArn !== undefined && options.executionCheckConfig
      ? { functionArn: values.executionCheckFunctionArn, config: options.executionCheckConfig }
      : undefined);
  if (checkOptions) {
    const { check, gate } = executionCheckSteps(recipe, parameters, checkOptions, [capacity]);
    steps.push(check, gate);
  } else {
    steps.push(capacity);
  }
  if (gate) {
    const gateFor = (train: TrainingStep, gateName: string, failName: string): ConditionStep => {
      const evalLoss = train.finalMetricValue(QUALITY_GATE_METRIC);
      const fail = new FailStep(
        failName,
        Join.of('', [
          `final ${QUALITY_GATE_METRIC} `,
          evalLoss,
          ' is above the quality gate max_eval_loss ',
          String(gate.max_eval_loss),
          ` (${recipe.file}: platform.quality_gate.max_eval_loss); the model is not registered`,
        ]),
        { displayName: 'Eval loss too high' },
      );
      return new ConditionStep(
        gateName,
        { conditions: [Condition.lessThanOrEqualTo(evalLoss, gate.max_eval_loss)], elseSteps: [fail] },
        { displayName: 'Quality gate', description: `${QUALITY_GATE_METRIC} <= ${gate.max_eval_loss}` },
      );
    };
    steps.push(gateFor(trainSpot, S.gateSpot, S.failSpot), gateFor(trainOnDemand, S.gateOnDemand, S.failOnDemand));
  }

  return new PipelineDefinition({ parameters, steps });
}
