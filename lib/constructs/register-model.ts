import * as cdk from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { type NamingContext, resourcePrefix, stateMachineName } from '../config/naming';
import { DEFAULT_VLLM_IMAGE, servingImageUri } from '../recipes/serving-plan';
import { acknowledgeWildcardResources } from './compliance';
import {
  MODEL_PACKAGE_CREATE_ACTIONS,
  MODEL_PACKAGE_LIST_ACTIONS,
  PIPELINE_STEPS_READ_ACTIONS,
  TRAINING_JOB_DESCRIBE_ACTIONS,
} from './deploy-perms';
import type { ServingSettings } from './serving-settings';
import {
  catchAsFailure,
  FAILURE_PATH,
  membershipCheck,
  notify,
  ObservedStateMachine,
  recordCaughtFailure,
  recordFailure,
  grantWatch,
  startOnSageMakerEvent,
} from './workflow-support';

/** EventBridge detail-type of a finished SageMaker pipeline execution. */
export const PIPELINE_EXECUTION_STATUS_CHANGE = 'SageMaker Model Building Pipeline Execution Status Change';

/** Props of {@link RegisterModel}. */
export interface RegisterModelProps {
  /** Name prefix and stage: every ARN the machine may touch starts with `<prefix>-<stage>-`. */
  readonly naming: NamingContext;
  /**
   * The per-recipe settings objects (group, serving container, approval mode), read by pipeline name at run
   * time; the machine gets read access to them and waits for their deployment.
   */
  readonly settings: ServingSettings;
  /** Receives "model X v N awaits approval" and failure notices. */
  readonly topic: sns.ITopic;
  /** Encrypts the execution log group. */
  readonly logKey: kms.IKey;
  /**
   * Where events that could not start an execution go (after EventBridge's retries).
   * @default - no dead-letter queue
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * The state machine's name.
   * @default `<prefix>-<stage>-register`
   */
  readonly stateMachineName?: string;
}

/**
 * The REGISTER stage: when one of this deployment's SageMaker pipelines succeeds, find its training job,
 * create a model package version in the recipe's group (vLLM serving container, uncompressed model prefix,
 * provenance metadata, the recipe's approval status) and notify SNS. Duplicate events register once.
 *
 * Flow: parse event → read the recipe's settings object (none: not ours) → skip if a package already names
 * this execution → list steps → describe the training job → model prefix + metadata → CreateModelPackage
 * (ClientToken = MD5 of the execution ARN) → SNS. Any failure → SNS notice naming the step → Fail.
 *
 * Output of a registration: `{ ModelPackageArn, ModelPackageVersion, ModelPackageGroupName,
 * ModelApprovalStatus, PipelineExecutionArn, Recipe }` (what the CLI's `watch` follows).
 */
export class RegisterModel extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly rule: events.Rule;
  /** Alarm on failed executions (wired to the topic). */
  public readonly failedExecutionsAlarm: cdk.aws_cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RegisterModelProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const prefix = resourcePrefix(props.naming);
    const arn = (service: string, resource: string, resourceName: string, sep = cdk.ArnFormat.SLASH_RESOURCE_NAME) =>
      stack.formatArn({ service, resource, resourceName, arnFormat: sep });

    const failed = new sfn.Fail(this, 'Registration failed', {
      errorPath: `${FAILURE_PATH}.error`,
      causePath: `${FAILURE_PATH}.cause`,
    });
    const notifyFailure = notify(
      this,
      'Notify registration failure',
      props.topic,
      sfn.JsonPath.format('Registration failed for pipeline {}', sfn.JsonPath.stringAt('$.run.pipelineName')),
      sfn.JsonPath.format(
        'Registering the model of pipeline execution {} failed at step "{}": {}: {}. No model package was created. Execution: {}',
        sfn.JsonPath.stringAt('$.detail.pipelineExecutionArn'),
        sfn.JsonPath.stringAt(`${FAILURE_PATH}.step`),
        sfn.JsonPath.stringAt(`${FAILURE_PATH}.error`),
        sfn.JsonPath.stringAt(`${FAILURE_PATH}.cause`),
        sfn.JsonPath.executionId,
      ),
    ).next(failed);

    // ---------------------------------------------------------------- event → recipe
    const parse = new sfn.Pass(this, 'Parse event', {
      comment: 'pipelineArn is arn:...:pipeline/<name>; names are lowercase (naming.ts).',
      parameters: {
        pipelineArn: sfn.JsonPath.stringAt('$.detail.pipelineArn'),
        executionArn: sfn.JsonPath.stringAt('$.detail.pipelineExecutionArn'),
        pipelineName: sfn.JsonPath.arrayGetItem(
          sfn.JsonPath.stringSplit(sfn.JsonPath.stringAt('$.detail.pipelineArn'), '/'),
          1,
        ),
      },
      resultPath: '$.run',
    });

    // ---------------------------------------------------------------- idempotency
    const ids = new sfn.Pass(this, 'Derive package identity', {
      comment:
        'The description names the execution (what the duplicate check matches); the ClientToken makes ' +
        'concurrent CreateModelPackage calls for the same execution idempotent on the SageMaker side.',
      parameters: {
        description: sfn.JsonPath.format(
          '{} fine-tuned by SageMaker pipeline execution {}',
          sfn.JsonPath.stringAt('$.recipe.recipe'),
          sfn.JsonPath.stringAt('$.run.executionArn'),
        ),
        clientToken: sfn.JsonPath.hash(sfn.JsonPath.stringAt('$.run.executionArn'), 'MD5'),
      },
      resultPath: '$.ids',
    });
    const listPackages = tasks.CallAwsService.jsonPath(this, 'List recent packages', {
      service: 'sagemaker',
      action: 'listModelPackages',
      parameters: {
        ModelPackageGroupName: sfn.JsonPath.stringAt('$.recipe.groupName'),
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 100,
      },
      // ListModelPackages supports no resource-level permissions.
      iamResources: ['*'],
      iamAction: MODEL_PACKAGE_LIST_ACTIONS[0],
      resultSelector: { summaries: sfn.JsonPath.listAt('$.ModelPackageSummaryList') },
      resultPath: '$.existing',
    });
    const alreadyRegistered = new sfn.Pass(this, 'Duplicate result', {
      comment: "The output names the run only: the listed packages of the group are not this run's.",
      parameters: {
        AlreadyRegistered: true,
        ModelPackageGroupName: sfn.JsonPath.stringAt('$.recipe.groupName'),
        PipelineExecutionArn: sfn.JsonPath.stringAt('$.run.executionArn'),
        Recipe: sfn.JsonPath.stringAt('$.recipe.recipe'),
      },
    }).next(
      new sfn.Succeed(this, 'Already registered', {
        comment: 'A model package for this pipeline execution exists: a duplicate event, nothing to do.',
      }),
    );

    // ---------------------------------------------------------------- training job
    const listSteps = tasks.CallAwsService.jsonPath(this, 'List pipeline steps', {
      service: 'sagemaker',
      action: 'listPipelineExecutionSteps',
      parameters: {
        PipelineExecutionArn: sfn.JsonPath.stringAt('$.run.executionArn'),
        SortOrder: 'Ascending',
        MaxResults: 100,
      },
      iamResources: [arn('sagemaker', 'pipeline', `${prefix}-*/execution/*`)],
      iamAction: PIPELINE_STEPS_READ_ACTIONS[0],
      resultSelector: { list: sfn.JsonPath.listAt('$.PipelineExecutionSteps') },
      resultPath: '$.steps',
    });
    const renderSteps = new sfn.Pass(this, 'Render steps', {
      comment: 'A filter that matches nothing is a States.Runtime error, so look for a training job first.',
      parameters: { json: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt('$.steps.list')) },
      resultPath: '$.stepsJson',
    });
    const selectJob = new sfn.Pass(this, 'Select training job', {
      parameters: {
        arns: sfn.JsonPath.listAt('$.steps.list[?(@.Metadata.TrainingJob)].Metadata.TrainingJob.Arn'),
      },
      resultPath: '$.trainingJob',
    });
    const noTrainingJob = recordFailure(this, 'No training job', {
      step: 'List pipeline steps',
      error: 'NoTrainingJob',
      cause: 'the pipeline execution has no step with a training job',
    });
    const jobName = new sfn.Pass(this, 'Training job name', {
      parameters: {
        name: sfn.JsonPath.arrayGetItem(
          sfn.JsonPath.stringSplit(sfn.JsonPath.arrayGetItem(sfn.JsonPath.listAt('$.trainingJob.arns'), 0), '/'),
          1,
        ),
      },
      resultPath: '$.trainingJob',
    });
    const describeJob = tasks.CallAwsService.jsonPath(this, 'Describe training job', {
      service: 'sagemaker',
      action: 'describeTrainingJob',
      parameters: { TrainingJobName: sfn.JsonPath.stringAt('$.trainingJob.name') },
      // SageMaker Pipelines names its jobs "pipelines-<execution id>-<step>-<suffix>"; no recipe name to scope by.
      iamResources: [arn('sagemaker', 'training-job', 'pipelines-*')],
      iamAction: TRAINING_JOB_DESCRIBE_ACTIONS[0],
      resultPath: '$.job',
    });

    // ---------------------------------------------------------------- provenance
    const mergeEnvironment = new sfn.Pass(this, 'Read job environment', {
      comment: 'The job environment (RECIPE_HASH, GIT_SHA, DATASET_URI, MLFLOW_*) over the synthesized defaults.',
      parameters: {
        env: sfn.JsonPath.jsonMerge(
          sfn.JsonPath.objectAt('$.recipe.defaultEnvironment'),
          sfn.JsonPath.objectAt('$.job.Environment'),
        ),
      },
      resultPath: '$.provenance',
    });
    const defaultEnvironment = new sfn.Pass(this, 'Use default environment', {
      parameters: { env: sfn.JsonPath.objectAt('$.recipe.defaultEnvironment') },
      resultPath: '$.provenance',
    });
    const renderMetrics = new sfn.Pass(this, 'Render metrics', {
      parameters: { json: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt('$.job.FinalMetricDataList')) },
      resultPath: '$.metricsJson',
    });
    const selectEvalLoss = new sfn.Pass(this, 'Select eval loss', {
      parameters: {
        values: sfn.JsonPath.listAt("$.job.FinalMetricDataList[?(@.MetricName == 'eval_loss')].Value"),
      },
      resultPath: '$.evalLoss',
    });
    const formatEvalLoss = new sfn.Pass(this, 'Format eval loss', {
      parameters: {
        text: sfn.JsonPath.format('{}', sfn.JsonPath.arrayGetItem(sfn.JsonPath.listAt('$.evalLoss.values'), 0)),
      },
      resultPath: '$.evalLoss',
    });
    const noEvalLoss = new sfn.Pass(this, 'No eval loss', {
      result: sfn.Result.fromObject({ text: 'not reported' }),
      resultPath: '$.evalLoss',
    });

    // ---------------------------------------------------------------- model prefix (training-job contract)
    const compressed = recordFailure(this, 'Compressed model output', {
      step: 'Describe training job',
      error: 'CompressedModelOutput',
      cause:
        'the training job did not set OutputDataConfig.CompressionType NONE; the vLLM container serves an uncompressed S3 prefix',
    });
    const prefixFromArtifacts = new sfn.Pass(this, 'Model prefix from artifacts', {
      parameters: { prefix: sfn.JsonPath.stringAt('$.job.ModelArtifacts.S3ModelArtifacts') },
      resultPath: '$.model',
    });
    const prefixFromOutputSlash = new sfn.Pass(this, 'Model prefix from output path', {
      parameters: {
        prefix: sfn.JsonPath.format(
          '{}{}/output/model/',
          sfn.JsonPath.stringAt('$.job.OutputDataConfig.S3OutputPath'),
          sfn.JsonPath.stringAt('$.job.TrainingJobName'),
        ),
      },
      resultPath: '$.model',
    });
    const prefixFromOutput = new sfn.Pass(this, 'Model prefix from output path without slash', {
      parameters: {
        prefix: sfn.JsonPath.format(
          '{}/{}/output/model/',
          sfn.JsonPath.stringAt('$.job.OutputDataConfig.S3OutputPath'),
          sfn.JsonPath.stringAt('$.job.TrainingJobName'),
        ),
      },
      resultPath: '$.model',
    });

    // ---------------------------------------------------------------- create the package
    const createPackage = tasks.CallAwsService.jsonPath(this, 'Create model package', {
      service: 'sagemaker',
      action: 'createModelPackage',
      parameters: {
        ModelPackageGroupName: sfn.JsonPath.stringAt('$.recipe.groupName'),
        ModelPackageDescription: sfn.JsonPath.stringAt('$.ids.description'),
        ClientToken: sfn.JsonPath.stringAt('$.ids.clientToken'),
        ModelApprovalStatus: sfn.JsonPath.stringAt('$.recipe.approvalStatus'),
        Domain: 'NATURAL_LANGUAGE_PROCESSING',
        Task: 'TEXT_GENERATION',
        InferenceSpecification: {
          Containers: [
            {
              Image: sfn.JsonPath.stringAt('$.recipe.image'),
              ModelDataSource: {
                S3DataSource: {
                  S3Uri: sfn.JsonPath.stringAt('$.model.prefix'),
                  S3DataType: 'S3Prefix',
                  CompressionType: 'None',
                },
              },
              Environment: sfn.JsonPath.objectAt('$.recipe.environment'),
            },
          ],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
          SupportedRealtimeInferenceInstanceTypes: sfn.JsonPath.listAt('$.recipe.instanceTypes'),
        },
        MetadataProperties: {
          GeneratedBy: sfn.JsonPath.stringAt('$.run.executionArn'),
          CommitId: sfn.JsonPath.stringAt('$.provenance.env.GIT_SHA'),
        },
        ModelMetrics: {
          ModelQuality: {
            Statistics: {
              ContentType: 'application/json',
              S3Uri: sfn.JsonPath.format('{}evaluation.json', sfn.JsonPath.stringAt('$.model.prefix')),
            },
          },
        },
        CustomerMetadataProperties: {
          recipe: sfn.JsonPath.stringAt('$.recipe.recipe'),
          recipe_hash: sfn.JsonPath.stringAt('$.provenance.env.RECIPE_HASH'),
          git_sha: sfn.JsonPath.stringAt('$.provenance.env.GIT_SHA'),
          dataset_uri: sfn.JsonPath.stringAt('$.provenance.env.DATASET_URI'),
          eval_loss: sfn.JsonPath.stringAt('$.evalLoss.text'),
          mlflow_tracking_arn: sfn.JsonPath.stringAt('$.provenance.env.MLFLOW_TRACKING_ARN'),
          mlflow_experiment: sfn.JsonPath.stringAt('$.provenance.env.MLFLOW_EXPERIMENT_NAME'),
          mlflow_run_name: sfn.JsonPath.stringAt('$.job.TrainingJobName'),
          training_job: sfn.JsonPath.stringAt('$.job.TrainingJobName'),
          pipeline_execution_arn: sfn.JsonPath.stringAt('$.run.executionArn'),
        },
        Tags: [{ Key: 'recipe', Value: sfn.JsonPath.stringAt('$.recipe.recipe') }],
      },
      iamResources: [
        arn('sagemaker', 'model-package', `${prefix}-*/*`),
        arn('sagemaker', 'model-package-group', `${prefix}-*`),
      ],
      iamAction: MODEL_PACKAGE_CREATE_ACTIONS[0],
      // tags on create are authorized as sagemaker:AddTags on the new version.
      additionalIamStatements: [
        new iam.PolicyStatement({
          actions: ['sagemaker:AddTags'],
          resources: [arn('sagemaker', 'model-package', `${prefix}-*/*`)],
        }),
      ],
      resultSelector: { arn: sfn.JsonPath.stringAt('$.ModelPackageArn') },
      resultPath: '$.package',
    });
    const version = new sfn.Pass(this, 'Package version', {
      comment: 'arn:...:model-package/<group>/<version>',
      parameters: {
        arn: sfn.JsonPath.stringAt('$.package.arn'),
        version: sfn.JsonPath.arrayGetItem(sfn.JsonPath.stringSplit(sfn.JsonPath.stringAt('$.package.arn'), '/'), 2),
      },
      resultPath: '$.package',
    });
    const notifyPending = notify(
      this,
      'Notify awaiting approval',
      props.topic,
      sfn.JsonPath.format(
        'Model {} v{} awaits approval',
        sfn.JsonPath.stringAt('$.recipe.recipe'),
        sfn.JsonPath.stringAt('$.package.version'),
      ),
      sfn.JsonPath.format(
        'Model {} v{} awaits approval. Package: {} (eval_loss {}, pipeline execution {}). Approve in SageMaker ' +
          'Studio (Models, group {}, version {}, Update status) or with: aws sagemaker update-model-package ' +
          '--model-package-arn {} --model-approval-status Approved. Approval deploys it to endpoint {}.',
        sfn.JsonPath.stringAt('$.recipe.recipe'),
        sfn.JsonPath.stringAt('$.package.version'),
        sfn.JsonPath.stringAt('$.package.arn'),
        sfn.JsonPath.stringAt('$.evalLoss.text'),
        sfn.JsonPath.stringAt('$.run.executionArn'),
        sfn.JsonPath.stringAt('$.recipe.groupName'),
        sfn.JsonPath.stringAt('$.package.version'),
        sfn.JsonPath.stringAt('$.package.arn'),
        sfn.JsonPath.stringAt('$.recipe.endpointName'),
      ),
    );
    const notifyApproved = notify(
      this,
      'Notify auto-approved',
      props.topic,
      sfn.JsonPath.format(
        'Model {} v{} registered and approved',
        sfn.JsonPath.stringAt('$.recipe.recipe'),
        sfn.JsonPath.stringAt('$.package.version'),
      ),
      sfn.JsonPath.format(
        'Model {} v{} was registered as Approved (recipe approval: auto). Package: {} (eval_loss {}). ' +
          'Deployment to endpoint {} starts now.',
        sfn.JsonPath.stringAt('$.recipe.recipe'),
        sfn.JsonPath.stringAt('$.package.version'),
        sfn.JsonPath.stringAt('$.package.arn'),
        sfn.JsonPath.stringAt('$.evalLoss.text'),
        sfn.JsonPath.stringAt('$.recipe.endpointName'),
      ),
    );
    const registered = new sfn.Pass(this, 'Registration result', {
      comment: 'The output names the package and the run, and nothing else (the CLI follows the ARNs in it).',
      parameters: {
        ModelPackageArn: sfn.JsonPath.stringAt('$.package.arn'),
        ModelPackageVersion: sfn.JsonPath.stringAt('$.package.version'),
        ModelPackageGroupName: sfn.JsonPath.stringAt('$.recipe.groupName'),
        ModelApprovalStatus: sfn.JsonPath.stringAt('$.recipe.approvalStatus'),
        PipelineExecutionArn: sfn.JsonPath.stringAt('$.run.executionArn'),
        Recipe: sfn.JsonPath.stringAt('$.recipe.recipe'),
      },
    }).next(new sfn.Succeed(this, 'Registered'));
    notifyPending.next(registered);
    notifyApproved.next(registered);

    for (const [task, step] of [
      [listPackages, 'List recent packages'],
      [listSteps, 'List pipeline steps'],
      [describeJob, 'Describe training job'],
      [createPackage, 'Create model package'],
    ] as const) {
      catchAsFailure(this, task, step, notifyFailure);
    }
    // a notice that cannot be sent must not hide the registration that succeeded.
    for (const task of [notifyPending, notifyApproved]) {
      task.addRetry({ errors: [sfn.Errors.ALL], maxAttempts: 3 });
    }

    // ---------------------------------------------------------------- wiring
    const outputChoice = new sfn.Choice(this, 'Model output uncompressed?')
      .when(
        sfn.Condition.or(
          sfn.Condition.not(sfn.Condition.isPresent('$.job.OutputDataConfig.CompressionType')),
          sfn.Condition.not(sfn.Condition.stringEquals('$.job.OutputDataConfig.CompressionType', 'NONE')),
        ),
        compressed.next(notifyFailure),
      )
      .when(sfn.Condition.stringMatches('$.job.ModelArtifacts.S3ModelArtifacts', '*/'), prefixFromArtifacts)
      .when(sfn.Condition.stringMatches('$.job.OutputDataConfig.S3OutputPath', '*/'), prefixFromOutputSlash)
      .otherwise(prefixFromOutput);
    for (const pass of [prefixFromArtifacts, prefixFromOutputSlash, prefixFromOutput]) pass.next(createPackage);
    createPackage
      .next(version)
      .next(
        new sfn.Choice(this, 'Auto-approved?')
          .when(sfn.Condition.stringEquals('$.recipe.approvalStatus', 'Approved'), notifyApproved)
          .otherwise(notifyPending),
      );

    const evalChoice = new sfn.Choice(this, 'Eval loss reported?')
      .when(
        sfn.Condition.stringMatches('$.metricsJson.json', '*"MetricName":"eval_loss"*'),
        selectEvalLoss.next(formatEvalLoss),
      )
      .otherwise(noEvalLoss);
    formatEvalLoss.next(outputChoice);
    noEvalLoss.next(outputChoice);
    const metricsChoice = new sfn.Choice(this, 'Final metrics reported?')
      .when(sfn.Condition.isPresent('$.job.FinalMetricDataList'), renderMetrics.next(evalChoice))
      .otherwise(noEvalLoss);
    mergeEnvironment.next(metricsChoice);
    defaultEnvironment.next(metricsChoice);
    jobName
      .next(describeJob)
      .next(
        new sfn.Choice(this, 'Job environment set?')
          .when(sfn.Condition.isPresent('$.job.Environment'), mergeEnvironment)
          .otherwise(defaultEnvironment),
      );

    listSteps
      .next(renderSteps)
      .next(
        new sfn.Choice(this, 'Training job found?')
          .when(sfn.Condition.stringMatches('$.stepsJson.json', '*"TrainingJob":{*'), selectJob.next(jobName))
          .otherwise(noTrainingJob.next(notifyFailure)),
      );
    const afterLookup = ids.next(listPackages).next(
      membershipCheck(this, {
        id: 'Package for this execution?',
        listPath: '$.existing.summaries',
        field: 'ModelPackageDescription',
        valuePath: '$.ids.description',
        resultPath: '$.duplicate',
        next: new sfn.Choice(this, 'Duplicate event?')
          .when(sfn.Condition.booleanEquals('$.duplicate.exists', true), alreadyRegistered)
          .otherwise(listSteps),
      }),
    );

    // the vLLM DLC's URI depends on the region, so the settings objects name only custom images.
    const defaultImage = new sfn.Pass(this, 'Use the vLLM DLC', {
      result: sfn.Result.fromString(
        servingImageUri({ kind: 'dlc', ...DEFAULT_VLLM_IMAGE }, stack.region, stack.urlSuffix),
      ),
      resultPath: '$.recipe.image',
    });
    defaultImage.next(afterLookup);
    const definition = parse.next(
      props.settings.lookup(this, {
        namePath: '$.run.pipelineName',
        section: 'register',
        resultPath: '$.recipe',
        next: new sfn.Choice(this, 'Custom serving image?')
          .when(sfn.Condition.isPresent('$.recipe.image'), afterLookup)
          .otherwise(defaultImage),
        otherwise: new sfn.Succeed(this, 'Not a recipe pipeline', {
          comment: 'The name has this deployment prefix but no recipe (removed, or another stage); nothing to do.',
        }),
        onError: (step) => recordCaughtFailure(this, step).next(notifyFailure),
      }),
    );

    const observed = new ObservedStateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName ?? stateMachineName(props.naming, 'register'),
      definition,
      logKey: props.logKey,
      alarmTopic: props.topic,
      timeout: cdk.Duration.minutes(30),
      comment: 'Registers the model of a succeeded fine-tuning pipeline execution as a model package version.',
    });
    this.stateMachine = observed.stateMachine;
    this.failedExecutionsAlarm = observed.failedExecutionsAlarm;
    props.topic.grantPublish(this.stateMachine);
    props.settings.bindTo(this.stateMachine);
    acknowledgeWildcardResources(
      this.stateMachine.role,
      [
        arn('sagemaker', 'pipeline', `${prefix}-*/execution/*`),
        arn('sagemaker', 'training-job', 'pipelines-*'),
        arn('sagemaker', 'model-package', `${prefix}-*/*`),
        arn('sagemaker', 'model-package-group', `${prefix}-*`),
      ],
      "Pipeline executions, the training jobs SageMaker Pipelines names 'pipelines-<execution>-...', and model package versions are created at run time; every pattern is limited to this deployment's name prefix (one group and pipeline per recipe).",
    );

    this.rule = startOnSageMakerEvent(this, 'PipelineSucceeded', {
      description: `${prefix}: a fine-tuning pipeline execution succeeded; register its model`,
      detailType: PIPELINE_EXECUTION_STATUS_CHANGE,
      detail: {
        currentPipelineExecutionStatus: ['Succeeded'],
        pipelineArn: [{ prefix: arn('sagemaker', 'pipeline', `${prefix}-`) }],
      },
      stateMachine: this.stateMachine,
      deadLetterQueue: props.deadLetterQueue,
    });
  }

  /** Lets `grantee` start executions and read their history (the CLI's `watch`). */
  public grantWatch(grantee: iam.IGrantable): iam.Grant {
    return grantWatch(this.stateMachine, grantee);
  }
}
