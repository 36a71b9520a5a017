import * as cdk from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { type NamingContext, resourcePrefix, stateMachineName } from '../config/naming';
import { SERVING_VARIANT_NAME } from '../recipes/serving-plan';
import { acknowledgeWildcardResources } from './compliance';
import {
  AUTOSCALING_ACTIONS,
  AUTOSCALING_ALARM_ACTIONS,
  AUTOSCALING_ENDPOINT_ACTIONS,
  AUTOSCALING_SERVICE_LINKED_ROLE_ACTIONS,
  ENDPOINT_CONFIG_WRITE_ACTIONS,
  ENDPOINT_DESCRIBE_ACTIONS,
  ENDPOINT_INVOKE_ACTIONS,
  ENDPOINT_TAG_ACTIONS,
  MODEL_PACKAGE_DESCRIBE_ACTIONS,
  MODEL_WRITE_ACTIONS,
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

/** EventBridge detail-type of a model package change (creation and approval updates). */
export const MODEL_PACKAGE_STATE_CHANGE = 'SageMaker Model Package State Change';

/** The smoke-test request: an OpenAI chat completion with a GPT-OSS "reasoning language" system prompt. */
export const SMOKE_TEST_REQUEST = {
  messages: [
    { role: 'system', content: 'reasoning language: German' },
    { role: 'user', content: 'What is the capital of Australia? Answer in one sentence.' },
  ],
  max_tokens: 512,
  temperature: 0,
};

/** Thresholds of the per-endpoint rollback alarms the deploy machine puts before create/update. */
export interface EndpointAlarmSettings {
  /**
   * `Invocation5XXErrors` (Sum per minute) at or above which a minute breaches.
   * @default 5
   */
  readonly errorsPerMinute?: number;
  /**
   * `ModelLatency` p90 at or above which a minute breaches (LLM generation is slow: a full answer takes seconds).
   * @default cdk.Duration.seconds(60)
   */
  readonly p90Latency?: cdk.Duration;
}

/** Props of {@link DeployModel}. */
export interface DeployModelProps {
  /** Name prefix and stage: every resource the machine creates or touches starts with `<prefix>-<stage>-`. */
  readonly naming: NamingContext;
  /**
   * The per-recipe settings objects (endpoint name, instance type, engine settings, scaling), read by model
   * package group name at run time; the machine gets read access to them and waits for their deployment.
   */
  readonly settings: ServingSettings;
  /** Receives success and failure notices, and the rollback alarms' actions. */
  readonly topic: sns.ITopic;
  /** Encrypts the execution log group. */
  readonly logKey: kms.IKey;
  /** SageMaker assumes it to serve the model (see ServingModelRole). */
  readonly modelRole: iam.IRole;
  /** Data capture destination (`s3://<bucket>/<dataCapturePrefix><endpoint>/`), encrypted with its key. */
  readonly artifactsBucket: s3.IBucket;
  /** Key prefix of endpoint data capture in the artifacts bucket. */
  readonly dataCapturePrefix: string;
  /** Subnets of the model's VpcConfig. */
  readonly subnets: readonly ec2.ISubnet[];
  /** Security group of the model's VpcConfig. */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * Rollback alarm thresholds.
   * @default - 5 errors per minute; p90 model latency 60 s
   */
  readonly alarms?: EndpointAlarmSettings;
  /**
   * Time between two DescribeEndpoint polls.
   * @default cdk.Duration.minutes(1)
   */
  readonly pollInterval?: cdk.Duration;
  /**
   * Polls before the deployment is reported as timed out (120 × 1 min: a 234 GB model loads slowly).
   * @default 120
   */
  readonly maxPolls?: number;
  /**
   * Blue/green baking period: the new fleet takes all traffic while the rollback alarms are watched.
   * @default cdk.Duration.minutes(10)
   */
  readonly bakeTime?: cdk.Duration;
  /**
   * Target-tracking value: invocations per instance per minute (LLM requests are long; keep it low).
   * @default 10
   */
  readonly targetInvocationsPerInstance?: number;
  /**
   * Where events that could not start an execution go.
   * @default - no dead-letter queue
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * The state machine's name.
   * @default `<prefix>-<stage>-deploy`
   */
  readonly stateMachineName?: string;
}

/**
 * The DEPLOY stage: when a model package of this deployment is Approved, create the Model (vLLM container,
 * uncompressed S3 prefix, recipe engine settings) and EndpointConfig, create the endpoint or update it
 * blue/green with CloudWatch-alarm auto-rollback, wait for InService (bounded polling), smoke-test it with a
 * chat request, register autoscaling, and notify SNS. On failure the previously serving endpoint keeps
 * serving, what this execution created is deleted, and SNS says what failed and where.
 *
 * Names are deterministic (`<endpoint>-<settings hash>-v<version>`), so a duplicate event finds the
 * endpoint already serving (or updating to) its config and stops.
 */
export class DeployModel extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly rule: events.Rule;
  public readonly failedExecutionsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DeployModelProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const prefix = resourcePrefix(props.naming);
    const sm = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName });
    const modelArns = [sm('model', `${prefix}-*`)];
    const configArns = [sm('endpoint-config', `${prefix}-*`)];
    const endpointArns = [sm('endpoint', `${prefix}-*`)];
    const alarmArns = [
      stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: `${prefix}-*`,
        arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
      }),
    ];
    const pollInterval = props.pollInterval ?? cdk.Duration.minutes(1);
    const maxPolls = props.maxPolls ?? 120;
    const bakeSeconds = (props.bakeTime ?? cdk.Duration.minutes(10)).toSeconds();
    const errorsPerMinute = props.alarms?.errorsPerMinute ?? 5;
    const p90LatencyMicros = (props.alarms?.p90Latency ?? cdk.Duration.seconds(60)).toMilliseconds() * 1000;
    const s = (path: string) => sfn.JsonPath.stringAt(path);
    const n = (path: string) => sfn.JsonPath.numberAt(path);
    const call = (
      id: string,
      service: string,
      action: string,
      parameters: Record<string, unknown>,
      iamResources: string[],
      extra: Partial<tasks.CallAwsServiceJsonPathProps> = {},
    ) =>
      tasks.CallAwsService.jsonPath(this, id, {
        service,
        action,
        parameters,
        iamResources,
        resultPath: sfn.JsonPath.DISCARD,
        ...extra,
      });
    // SageMaker's List* name filters support no resource-level permissions, hence `*`; the result lands in
    // `$.lookup.list` for the membership check that follows.
    const findByName = (id: string, action: string, resultList: string, namePath: string) =>
      call(id, 'sagemaker', action, { NameContains: s(namePath), MaxResults: 100 }, ['*'], {
        iamAction: `sagemaker:${action.charAt(0).toUpperCase()}${action.slice(1)}`,
        resultSelector: { list: sfn.JsonPath.listAt(`$.${resultList}`) },
        resultPath: '$.lookup',
      });

    // ================================================================ terminal states and notices
    const failed = new sfn.Fail(this, 'Deployment failed', {
      errorPath: `${FAILURE_PATH}.error`,
      causePath: `${FAILURE_PATH}.cause`,
    });
    const notifyFailure = notify(
      this,
      'Notify deployment failure',
      props.topic,
      sfn.JsonPath.format(
        'Deploy of {} v{} failed',
        s('$.settings.recipe'),
        sfn.JsonPath.stringAt('$.detail.ModelPackageVersion'),
      ),
      sfn.JsonPath.format(
        'Deploying model package {} to endpoint {} failed at step "{}": {}: {}. {} Execution: {}',
        s('$.detail.ModelPackageArn'),
        s('$.settings.endpointName'),
        s(`${FAILURE_PATH}.step`),
        s(`${FAILURE_PATH}.error`),
        s(`${FAILURE_PATH}.cause`),
        s('$.outcome.text'),
        sfn.JsonPath.executionId,
      ),
    );
    notifyFailure.addRetry({ errors: [sfn.Errors.ALL], maxAttempts: 3 });
    notifyFailure.next(failed);

    // ================================================================ cleanup (what this execution created)
    const restoreScaling = this.scalingTasks('Restore autoscaling', props);
    const cleanupDone = new sfn.Choice(this, 'Restore autoscaling?')
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.mode', 'update'),
          sfn.Condition.numberGreaterThanJsonPath('$.settings.maxInstances', '$.settings.minInstances'),
        ),
        restoreScaling.first,
      )
      .otherwise(notifyFailure);
    restoreScaling.last.next(notifyFailure);
    restoreScaling.catchTo(notifyFailure);

    const deleteModel = call(
      'Delete new model',
      'sagemaker',
      'deleteModel',
      { ModelName: s('$.names.model') },
      modelArns,
    );
    deleteModel.addCatch(cleanupDone, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    deleteModel.next(cleanupDone);
    const modelChoice = new sfn.Choice(this, 'Delete new model?')
      .when(sfn.Condition.isPresent('$.created.model'), deleteModel)
      .otherwise(cleanupDone);

    const deleteConfig = call(
      'Delete new endpoint config',
      'sagemaker',
      'deleteEndpointConfig',
      { EndpointConfigName: s('$.names.model') },
      configArns,
    );
    deleteConfig.addCatch(modelChoice, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    deleteConfig.next(modelChoice);
    const configChoice = new sfn.Choice(this, 'Delete new endpoint config?')
      .when(sfn.Condition.isPresent('$.created.config'), deleteConfig)
      .otherwise(modelChoice);

    const deleteAlarms = call(
      'Delete alarms of new endpoint',
      'cloudwatch',
      'deleteAlarms',
      { AlarmNames: sfn.JsonPath.array(s('$.names.alarm5xx'), s('$.names.alarmLatency')) },
      alarmArns,
      { iamAction: 'cloudwatch:DeleteAlarms' },
    );
    deleteAlarms.addCatch(configChoice, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    deleteAlarms.next(configChoice);
    const deleteEndpoint = call(
      'Delete new endpoint',
      'sagemaker',
      'deleteEndpoint',
      { EndpointName: s('$.settings.endpointName') },
      endpointArns,
    );
    deleteEndpoint.addCatch(deleteAlarms, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    deleteEndpoint.next(deleteAlarms);
    const cleanup = new sfn.Choice(this, 'Delete new endpoint?', {
      comment: 'Only an endpoint this execution created; an updated endpoint keeps (or was rolled back to) its config.',
    })
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.mode', 'create'),
          sfn.Condition.isPresent('$.created.endpoint'),
        ),
        deleteEndpoint,
      )
      .otherwise(configChoice);

    // ================================================================ event → recipe → package
    const initialize = new sfn.Pass(this, 'Initialize', {
      comment: 'mode: none | create | update; created: what this execution made (and deletes on failure).',
      parameters: {
        detail: sfn.JsonPath.objectAt('$.detail'),
        mode: 'none',
        created: {},
        outcome: { text: 'Nothing was deployed; the endpoint, if any, is unchanged.' },
      },
    });

    const describePackage = call(
      'Describe package',
      'sagemaker',
      'describeModelPackage',
      { ModelPackageName: s('$.detail.ModelPackageArn') },
      [sm('model-package', `${prefix}-*/*`)],
      {
        iamAction: MODEL_PACKAGE_DESCRIBE_ACTIONS[0],
        resultSelector: {
          arn: s('$.ModelPackageArn'),
          status: s('$.ModelApprovalStatus'),
          version: n('$.ModelPackageVersion'),
          container: sfn.JsonPath.objectAt('$.InferenceSpecification.Containers[0]'),
        },
        resultPath: '$.pkg',
      },
    );
    const names = new sfn.Pass(this, 'Name resources', {
      comment: 'Model and endpoint config share one deterministic name: <endpoint>-<settings hash>-v<version>.',
      parameters: {
        model: sfn.JsonPath.format('{}-v{}', s('$.settings.resourceBase'), s('$.pkg.version')),
        alarm5xx: sfn.JsonPath.format('{}-invocation-5xx', s('$.settings.endpointName')),
        alarmLatency: sfn.JsonPath.format('{}-model-latency', s('$.settings.endpointName')),
        scalingResourceId: sfn.JsonPath.format(
          'endpoint/{}/variant/{}',
          s('$.settings.endpointName'),
          SERVING_VARIANT_NAME,
        ),
        dataCaptureUri: sfn.JsonPath.format(
          's3://{}/{}{}/',
          props.artifactsBucket.bucketName,
          props.dataCapturePrefix,
          s('$.settings.endpointName'),
        ),
        version: sfn.JsonPath.format('{}', s('$.pkg.version')),
      },
      resultPath: '$.names',
    });
    const noLongerApproved = new sfn.Succeed(this, 'No longer approved', {
      comment: 'The package was rejected again before this execution ran; nothing to deploy.',
    });
    const noModelDataSource = recordFailure(this, 'Package not servable', {
      step: 'Describe package',
      error: 'NoModelDataSource',
      cause:
        'the package container has no ModelDataSource (uncompressed S3 prefix); register it through the REGISTER state machine',
    });

    // ================================================================ current endpoint
    const findEndpoint = findByName('Find endpoint', 'listEndpoints', 'Endpoints', '$.settings.endpointName');
    const describeCurrent = call(
      'Describe current endpoint',
      'sagemaker',
      'describeEndpoint',
      { EndpointName: s('$.settings.endpointName') },
      endpointArns,
      { iamAction: ENDPOINT_DESCRIBE_ACTIONS[0], resultPath: '$.current' },
    );
    const alreadyServing = new sfn.Succeed(this, 'Already serving this version', {
      comment: 'A duplicate event or a re-approval of the version (and settings) being served: nothing to do.',
    });
    const alreadyDeploying = new sfn.Succeed(this, 'Already deploying this version', {
      comment: 'Another execution (a duplicate event) is creating or updating the endpoint to this config.',
    });
    const modeCreate = new sfn.Pass(this, 'Mode create', {
      result: sfn.Result.fromString('create'),
      resultPath: '$.mode',
    });
    const modeUpdate = new sfn.Pass(this, 'Mode update', {
      result: sfn.Result.fromString('update'),
      resultPath: '$.mode',
    });
    const endpointBusy = recordFailure(this, 'Endpoint busy', {
      step: 'Describe current endpoint',
      error: 'EndpointNotInService',
      cause: sfn.JsonPath.format(
        'endpoint {} is {}; approve the package again (or start this execution again) once it is InService, or delete a Failed endpoint',
        s('$.settings.endpointName'),
        s('$.current.EndpointStatus'),
      ),
    });

    // ================================================================ model and endpoint config
    const findModel = findByName('Find model', 'listModels', 'Models', '$.names.model');
    const tags = [
      { Key: 'recipe', Value: s('$.settings.recipe') },
      { Key: 'model-package-version', Value: s('$.names.version') },
    ];
    const createModel = call(
      'Create model',
      'sagemaker',
      'createModel',
      {
        ModelName: s('$.names.model'),
        ExecutionRoleArn: props.modelRole.roleArn,
        PrimaryContainer: {
          Image: s('$.pkg.container.Image'),
          ModelDataSource: sfn.JsonPath.objectAt('$.pkg.container.ModelDataSource'),
          Environment: sfn.JsonPath.objectAt('$.settings.environment'),
        },
        VpcConfig: {
          SecurityGroupIds: [props.securityGroup.securityGroupId],
          Subnets: props.subnets.map((subnet) => subnet.subnetId),
        },
        // the model and tokenizer come from S3; the container needs no network of its own.
        EnableNetworkIsolation: true,
        Tags: tags,
      },
      modelArns,
      {
        additionalIamStatements: [
          new iam.PolicyStatement({ actions: MODEL_WRITE_ACTIONS, resources: modelArns }),
          new iam.PolicyStatement({
            actions: ['iam:PassRole'],
            resources: [props.modelRole.roleArn],
            conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
          }),
        ],
        resultSelector: { arn: s('$.ModelArn') },
        resultPath: '$.created.model',
      },
    );
    const findConfig = findByName('Find endpoint config', 'listEndpointConfigs', 'EndpointConfigs', '$.names.model');
    const createConfig = call(
      'Create endpoint config',
      'sagemaker',
      'createEndpointConfig',
      {
        EndpointConfigName: s('$.names.model'),
        ProductionVariants: [
          {
            VariantName: SERVING_VARIANT_NAME,
            ModelName: s('$.names.model'),
            InstanceType: s('$.settings.instanceType'),
            InitialInstanceCount: n('$.settings.minInstances'),
            // downloading 40-240 GB and loading it into vLLM takes long; the maxima SageMaker allows.
            ModelDataDownloadTimeoutInSeconds: 3600,
            ContainerStartupHealthCheckTimeoutInSeconds: 3600,
          },
        ],
        // no KmsKeyId: every GPU type that serves GPT-OSS has local NVMe storage, which SageMaker encrypts
        // in hardware and for which it rejects a KMS key.
        DataCaptureConfig: {
          EnableCapture: sfn.JsonPath.stringAt('$.settings.dataCapture'),
          InitialSamplingPercentage: 100,
          DestinationS3Uri: s('$.names.dataCaptureUri'),
          ...(props.artifactsBucket.encryptionKey ? { KmsKeyId: props.artifactsBucket.encryptionKey.keyArn } : {}),
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
          CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
        },
        Tags: tags,
      },
      configArns,
      {
        additionalIamStatements: [
          new iam.PolicyStatement({ actions: ENDPOINT_CONFIG_WRITE_ACTIONS, resources: configArns }),
        ],
        resultSelector: { arn: s('$.EndpointConfigArn') },
        resultPath: '$.created.config',
      },
    );

    // ================================================================ rollback alarms
    const alarmDimensions = [
      { Name: 'EndpointName', Value: s('$.settings.endpointName') },
      { Name: 'VariantName', Value: SERVING_VARIANT_NAME },
    ];
    const putErrorsAlarm = call(
      'Put 5xx alarm',
      'cloudwatch',
      'putMetricAlarm',
      {
        AlarmName: s('$.names.alarm5xx'),
        AlarmDescription: sfn.JsonPath.format(
          '{}: model container 5xx errors; blue/green updates roll back when it fires',
          s('$.settings.endpointName'),
        ),
        Namespace: 'AWS/SageMaker',
        MetricName: 'Invocation5XXErrors',
        Dimensions: alarmDimensions,
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: errorsPerMinute,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [props.topic.topicArn],
      },
      alarmArns,
      { iamAction: 'cloudwatch:PutMetricAlarm' },
    );
    const putLatencyAlarm = call(
      'Put latency alarm',
      'cloudwatch',
      'putMetricAlarm',
      {
        AlarmName: s('$.names.alarmLatency'),
        AlarmDescription: sfn.JsonPath.format(
          '{}: p90 model latency; blue/green updates roll back when it fires',
          s('$.settings.endpointName'),
        ),
        Namespace: 'AWS/SageMaker',
        MetricName: 'ModelLatency',
        Dimensions: alarmDimensions,
        ExtendedStatistic: 'p90',
        Period: 60,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        Threshold: p90LatencyMicros,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [props.topic.topicArn],
      },
      alarmArns,
      { iamAction: 'cloudwatch:PutMetricAlarm' },
    );

    // ================================================================ create or update
    const createEndpoint = call(
      'Create endpoint',
      'sagemaker',
      'createEndpoint',
      { EndpointName: s('$.settings.endpointName'), EndpointConfigName: s('$.names.model'), Tags: tags },
      // CreateEndpoint/UpdateEndpoint authorize against the endpoint and the endpoint config.
      [...endpointArns, ...configArns],
      {
        additionalIamStatements: [new iam.PolicyStatement({ actions: ENDPOINT_TAG_ACTIONS, resources: endpointArns })],
        resultSelector: { arn: s('$.EndpointArn') },
        resultPath: '$.created.endpoint',
      },
    );
    const outcomeCreated = new sfn.Pass(this, 'Outcome: new endpoint', {
      result: sfn.Result.fromObject({ text: 'The new endpoint was deleted again; no endpoint serves this recipe.' }),
      resultPath: '$.outcome',
    });
    const deregister = call(
      'Suspend autoscaling',
      'applicationautoscaling',
      'deregisterScalableTarget',
      {
        ServiceNamespace: 'sagemaker',
        ResourceId: s('$.names.scalingResourceId'),
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      },
      // scalable targets have generated ids; they cannot be named in a policy.
      [stack.formatArn({ service: 'application-autoscaling', resource: 'scalable-target', resourceName: '*' })],
      { iamAction: 'application-autoscaling:DeregisterScalableTarget' },
    );
    const updateEndpoint = call(
      'Update endpoint',
      'sagemaker',
      'updateEndpoint',
      {
        EndpointName: s('$.settings.endpointName'),
        EndpointConfigName: s('$.names.model'),
        RetainAllVariantProperties: false,
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: bakeSeconds },
            TerminationWaitInSeconds: 0,
            MaximumExecutionTimeoutInSeconds: Math.min(14400, Math.max(600, pollInterval.toSeconds() * maxPolls)),
          },
          AutoRollbackConfiguration: {
            Alarms: [{ AlarmName: s('$.names.alarm5xx') }, { AlarmName: s('$.names.alarmLatency') }],
          },
        },
      },
      // CreateEndpoint/UpdateEndpoint authorize against the endpoint and the endpoint config.
      [...endpointArns, ...configArns],
      {
        additionalIamStatements: [new iam.PolicyStatement({ actions: ENDPOINT_TAG_ACTIONS, resources: endpointArns })],
        resultPath: sfn.JsonPath.DISCARD,
      },
    );
    const outcomeUpdated = new sfn.Pass(this, 'Outcome: updated endpoint', {
      parameters: {
        text: sfn.JsonPath.format(
          'The endpoint keeps serving its previous configuration {} (SageMaker rolls a failed blue/green update back).',
          s('$.current.EndpointConfigName'),
        ),
      },
      resultPath: '$.outcome',
    });

    // ================================================================ wait for InService (bounded)
    const smoke = call(
      'Smoke test',
      'sagemakerruntime',
      'invokeEndpoint',
      {
        EndpointName: s('$.settings.endpointName'),
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: JSON.stringify(SMOKE_TEST_REQUEST),
        // marks the request in the endpoint's data capture.
        InferenceId: sfn.JsonPath.format('smoke-test-{}', sfn.JsonPath.executionName),
      },
      endpointArns,
      {
        iamAction: ENDPOINT_INVOKE_ACTIONS[0],
        resultSelector: { reply: sfn.JsonPath.stringToJson(s('$.Body')) },
        resultPath: '$.smoke',
      },
    );
    smoke.addRetry({ errors: [sfn.Errors.ALL], interval: cdk.Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });

    const timedOut = recordFailure(this, 'Timed out', {
      step: 'Wait for endpoint',
      error: 'Timeout',
      cause: sfn.JsonPath.format(
        'endpoint {} was still {} after {} polls',
        s('$.settings.endpointName'),
        s('$.endpoint.EndpointStatus'),
        s('$.wait.attempts'),
      ),
    });
    const outcomeInFlux = new sfn.Pass(this, 'Outcome: still changing', {
      result: sfn.Result.fromObject({
        text: 'The endpoint is still changing, so nothing was cleaned up; check it in the SageMaker console before approving again.',
      }),
      resultPath: '$.outcome',
    });
    outcomeInFlux.next(notifyFailure);
    timedOut.next(outcomeInFlux);

    const endpointFailed = this.failureWithReason('Endpoint failed', 'Wait for endpoint', 'EndpointFailed');
    endpointFailed.last.next(cleanup);
    const rolledBack = this.failureWithReason('Update rolled back', 'Wait for endpoint', 'UpdateRolledBack');
    rolledBack.last.next(cleanup);

    const smokeFailed = recordFailure(this, 'Smoke test failed', {
      step: 'Smoke test',
      error: 'SmokeTestFailed',
      cause: sfn.JsonPath.format(
        'the endpoint answered without content: {}',
        sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.smoke.reply')),
      ),
    });

    const waitLoop = this.endpointWaitLoop('Wait for endpoint', {
      expectedConfigPath: '$.names.model',
      pollInterval,
      maxPolls,
      endpointArns,
      onReady: smoke,
      onRolledBack: rolledBack.first,
      onFailed: endpointFailed.first,
      onTimeout: timedOut,
      onDescribeError: recordFailure(this, 'Failed at Wait for endpoint', {
        step: 'Wait for endpoint',
        error: 'DescribeEndpointFailed',
        cause: sfn.JsonPath.stringAt('$.error.Cause'),
      }).next(outcomeInFlux),
    });

    // ================================================================ smoke test → rollback on failure
    const rollback = call(
      'Roll back endpoint',
      'sagemaker',
      'updateEndpoint',
      { EndpointName: s('$.settings.endpointName'), EndpointConfigName: s('$.current.EndpointConfigName') },
      // CreateEndpoint/UpdateEndpoint authorize against the endpoint and the endpoint config.
      [...endpointArns, ...configArns],
      {
        additionalIamStatements: [new iam.PolicyStatement({ actions: ENDPOINT_TAG_ACTIONS, resources: endpointArns })],
      },
    );
    const rollbackIncomplete = new sfn.Pass(this, 'Outcome: rollback incomplete', {
      parameters: {
        text: sfn.JsonPath.format(
          'Rolling the endpoint back to {} did not complete, so nothing was cleaned up; check the endpoint now.',
          s('$.current.EndpointConfigName'),
        ),
      },
      resultPath: '$.outcome',
    });
    const rollbackDone = new sfn.Pass(this, 'Outcome: rolled back', {
      parameters: {
        text: sfn.JsonPath.format(
          'The endpoint was rolled back to its previous configuration {} and serves it again.',
          s('$.current.EndpointConfigName'),
        ),
      },
      resultPath: '$.outcome',
    });
    rollbackIncomplete.next(notifyFailure);
    rollbackDone.next(cleanup);
    rollback.addCatch(rollbackIncomplete, { errors: [sfn.Errors.ALL], resultPath: '$.rollbackError' });
    const rollbackLoop = this.endpointWaitLoop('Wait for rollback', {
      expectedConfigPath: '$.current.EndpointConfigName',
      pollInterval,
      maxPolls,
      endpointArns,
      onReady: rollbackDone,
      onRolledBack: rollbackIncomplete,
      onFailed: rollbackIncomplete,
      onTimeout: rollbackIncomplete,
      onDescribeError: rollbackIncomplete,
    });
    rollback.next(rollbackLoop);
    smokeFailed.next(
      new sfn.Choice(this, 'Roll back?')
        .when(sfn.Condition.stringEquals('$.mode', 'update'), rollback)
        .otherwise(cleanup),
    );
    smoke.addCatch(smokeFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    // ================================================================ success: autoscaling, notice
    const notifySuccess = notify(
      this,
      'Notify deployed',
      props.topic,
      sfn.JsonPath.format('Model {} v{} deployed', s('$.settings.recipe'), s('$.names.version')),
      sfn.JsonPath.format(
        'Model {} v{} ({}) serves on endpoint {} ({}). Smoke test: a chat request with a reasoning-language ' +
          'system prompt got an answer. {} Try it: aws sagemaker-runtime invoke-endpoint --endpoint-name {} ' +
          '--content-type application/json --body fileb://request.json answer.json',
        s('$.settings.recipe'),
        s('$.names.version'),
        s('$.pkg.arn'),
        s('$.settings.endpointName'),
        s('$.settings.instanceType'),
        s('$.scaling.note'),
        s('$.settings.endpointName'),
      ),
    );
    notifySuccess.addRetry({ errors: [sfn.Errors.ALL], maxAttempts: 3 });
    notifySuccess.next(new sfn.Succeed(this, 'Deployed'));

    const scaling = this.scalingTasks('Register autoscaling', props);
    const scalingRegistered = new sfn.Pass(this, 'Scaling note: registered', {
      parameters: {
        note: sfn.JsonPath.format(
          'Autoscaling: {} to {} instances, target tracking on invocations per instance.',
          s('$.settings.minInstances'),
          s('$.settings.maxInstances'),
        ),
      },
      resultPath: '$.scaling',
    });
    const scalingFixed = new sfn.Pass(this, 'Scaling note: fixed', {
      parameters: { note: sfn.JsonPath.format('Fixed capacity: {} instance(s).', s('$.settings.minInstances')) },
      resultPath: '$.scaling',
    });
    const scalingFailed = new sfn.Pass(this, 'Scaling note: failed', {
      parameters: {
        note: sfn.JsonPath.format(
          'WARNING: autoscaling was not registered ({}); the endpoint runs {} instance(s).',
          s('$.scalingError.Cause'),
          s('$.settings.minInstances'),
        ),
      },
      resultPath: '$.scaling',
    });
    scaling.last.next(scalingRegistered);
    scaling.catchTo(scalingFailed, '$.scalingError');
    for (const note of [scalingRegistered, scalingFixed, scalingFailed]) note.next(notifySuccess);

    const smokePassed = new sfn.Choice(this, 'Smoke test passed?')
      .when(
        sfn.Condition.or(
          ...['content', 'reasoning_content', 'reasoning'].map((field) => {
            const path = `$.smoke.reply.choices[0].message.${field}`;
            return sfn.Condition.and(
              sfn.Condition.isPresent(path),
              sfn.Condition.isString(path),
              sfn.Condition.not(sfn.Condition.stringEquals(path, '')),
            );
          }),
        ),
        new sfn.Choice(this, 'Autoscaling?')
          .when(
            sfn.Condition.numberGreaterThanJsonPath('$.settings.maxInstances', '$.settings.minInstances'),
            scaling.first,
          )
          .otherwise(scalingFixed),
      )
      .otherwise(smokeFailed);
    smoke.next(smokePassed);

    // ================================================================ wiring
    for (const [task, step] of [
      [describePackage, 'Describe package'],
      [findEndpoint, 'Find endpoint'],
      [describeCurrent, 'Describe current endpoint'],
      [findModel, 'Find model'],
      [createModel, 'Create model'],
      [findConfig, 'Find endpoint config'],
      [createConfig, 'Create endpoint config'],
      [putErrorsAlarm, 'Put 5xx alarm'],
      [putLatencyAlarm, 'Put latency alarm'],
      [createEndpoint, 'Create endpoint'],
      [updateEndpoint, 'Update endpoint'],
    ] as const) {
      catchAsFailure(this, task, step, cleanup);
    }
    // no scalable target registered yet is the normal case of a first update.
    deregister.addCatch(updateEndpoint, { errors: [sfn.Errors.ALL], resultPath: '$.deregisterError' });
    endpointBusy.next(cleanup);
    noModelDataSource.next(cleanup);

    createEndpoint.next(outcomeCreated).next(waitLoop);
    deregister.next(updateEndpoint);
    updateEndpoint.next(outcomeUpdated).next(waitLoop);

    const createOrUpdate = new sfn.Choice(this, 'Create or update?')
      .when(sfn.Condition.stringEquals('$.mode', 'update'), deregister)
      .otherwise(createEndpoint);
    putErrorsAlarm.next(putLatencyAlarm).next(createOrUpdate);

    createConfig.next(putErrorsAlarm);
    findConfig.next(
      membershipCheck(this, {
        id: 'Endpoint config exists?',
        listPath: '$.lookup.list',
        field: 'EndpointConfigName',
        valuePath: '$.names.model',
        resultPath: '$.exists',
        next: new sfn.Choice(this, 'Create endpoint config?')
          .when(sfn.Condition.booleanEquals('$.exists.exists', true), putErrorsAlarm)
          .otherwise(createConfig),
      }),
    );
    createModel.next(findConfig);
    findModel.next(
      membershipCheck(this, {
        id: 'Model exists?',
        listPath: '$.lookup.list',
        field: 'ModelName',
        valuePath: '$.names.model',
        resultPath: '$.exists',
        next: new sfn.Choice(this, 'Create model?')
          .when(sfn.Condition.booleanEquals('$.exists.exists', true), findConfig)
          .otherwise(createModel),
      }),
    );
    modeCreate.next(findModel);
    modeUpdate.next(findModel);

    describeCurrent.next(
      new sfn.Choice(this, 'Current endpoint state?')
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEqualsJsonPath('$.current.EndpointConfigName', '$.names.model'),
            sfn.Condition.stringEquals('$.current.EndpointStatus', 'InService'),
          ),
          alreadyServing,
        )
        .when(sfn.Condition.stringEqualsJsonPath('$.current.EndpointConfigName', '$.names.model'), alreadyDeploying)
        .when(sfn.Condition.stringEquals('$.current.EndpointStatus', 'InService'), modeUpdate)
        .otherwise(endpointBusy),
    );
    findEndpoint.next(
      membershipCheck(this, {
        id: 'Endpoint exists?',
        listPath: '$.lookup.list',
        field: 'EndpointName',
        valuePath: '$.settings.endpointName',
        resultPath: '$.exists',
        next: new sfn.Choice(this, 'Endpoint found?')
          .when(sfn.Condition.booleanEquals('$.exists.exists', true), describeCurrent)
          .otherwise(modeCreate),
      }),
    );
    describePackage.next(
      new sfn.Choice(this, 'Still approved?')
        .when(sfn.Condition.not(sfn.Condition.stringEquals('$.pkg.status', 'Approved')), noLongerApproved)
        .when(sfn.Condition.not(sfn.Condition.isPresent('$.pkg.container.ModelDataSource')), noModelDataSource)
        .otherwise(names.next(findEndpoint)),
    );

    // without its settings the notice names the group; nothing was created, so nothing to clean up.
    const settingsUnavailable = new sfn.Pass(this, 'Settings unavailable', {
      parameters: {
        recipe: sfn.JsonPath.stringAt('$.detail.ModelPackageGroupName'),
        endpointName: '(unknown: the recipe settings could not be read)',
      },
      resultPath: '$.settings',
    }).next(notifyFailure);
    const definition = initialize.next(
      props.settings.lookup(this, {
        namePath: '$.detail.ModelPackageGroupName',
        section: 'deploy',
        resultPath: '$.settings',
        next: describePackage,
        otherwise: new sfn.Succeed(this, 'Not a recipe group', {
          comment: 'The group has this deployment prefix but no recipe (removed, or another stage); nothing to do.',
        }),
        onError: (step) => recordCaughtFailure(this, step).next(settingsUnavailable),
      }),
    );

    const observed = new ObservedStateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName ?? stateMachineName(props.naming, 'deploy'),
      definition,
      logKey: props.logKey,
      alarmTopic: props.topic,
      timeout: cdk.Duration.seconds(pollInterval.toSeconds() * maxPolls * 2 + bakeSeconds + 3600),
      comment: 'Deploys an approved model package to its recipe endpoint (create or blue/green update).',
    });
    this.stateMachine = observed.stateMachine;
    this.failedExecutionsAlarm = observed.failedExecutionsAlarm;
    props.topic.grantPublish(this.stateMachine);
    props.settings.bindTo(this.stateMachine);
    this.grantAutoscaling(this.stateMachine, [...endpointArns, ...configArns]);
    acknowledgeWildcardResources(
      this.stateMachine.role,
      [
        sm('model-package', `${prefix}-*/*`),
        ...modelArns,
        ...configArns,
        ...endpointArns,
        ...alarmArns,
        stack.formatArn({ service: 'application-autoscaling', resource: 'scalable-target', resourceName: '*' }),
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: 'TargetTracking-endpoint/*',
          arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      "Models, endpoint configs, endpoints and their alarms are created at run time, one set per recipe and approved version, all named with this deployment's prefix; scalable targets and target-tracking alarms get ids generated by Application Auto Scaling.",
    );

    this.rule = startOnSageMakerEvent(this, 'PackageApproved', {
      description: `${prefix}: a model package was approved; deploy it to its recipe endpoint`,
      detailType: MODEL_PACKAGE_STATE_CHANGE,
      detail: {
        ModelPackageGroupName: [{ prefix: `${prefix}-` }],
        ModelApprovalStatus: ['Approved'],
        ModelPackageStatus: ['Completed'],
      },
      stateMachine: this.stateMachine,
      deadLetterQueue: props.deadLetterQueue,
    });
  }

  /** Lets `grantee` start executions and read their history (the CLI's `watch`). */
  public grantWatch(grantee: iam.IGrantable): iam.Grant {
    return grantWatch(this.stateMachine, grantee);
  }

  /** Records a failure whose cause is the endpoint's FailureReason when SageMaker gave one. */
  private failureWithReason(id: string, step: string, error: string): { first: sfn.Choice; last: sfn.Pass } {
    const join = new sfn.Pass(this, `${id}: recorded`);
    const withReason = recordFailure(this, `${id}: with reason`, {
      step,
      error,
      cause: sfn.JsonPath.stringAt('$.endpoint.FailureReason'),
    }).next(join);
    const withoutReason = recordFailure(this, `${id}: without reason`, {
      step,
      error,
      cause: sfn.JsonPath.format(
        'endpoint status {} on configuration {}',
        sfn.JsonPath.stringAt('$.endpoint.EndpointStatus'),
        sfn.JsonPath.stringAt('$.endpoint.EndpointConfigName'),
      ),
    }).next(join);
    const first = new sfn.Choice(this, `${id}: reason given?`)
      .when(sfn.Condition.isPresent('$.endpoint.FailureReason'), withReason)
      .otherwise(withoutReason);
    return { first, last: join };
  }

  /**
   * A bounded DescribeEndpoint polling loop: Wait → Describe → count → Choice. "Ready" means InService on
   * the expected configuration; InService on another one means SageMaker rolled the update back.
   */
  private endpointWaitLoop(
    name: string,
    props: {
      readonly expectedConfigPath: string;
      readonly pollInterval: cdk.Duration;
      readonly maxPolls: number;
      readonly endpointArns: string[];
      readonly onReady: sfn.IChainable;
      readonly onRolledBack: sfn.IChainable;
      readonly onFailed: sfn.IChainable;
      readonly onTimeout: sfn.IChainable;
      readonly onDescribeError: sfn.IChainable;
    },
  ): sfn.Pass {
    const start = new sfn.Pass(this, `${name}: start`, {
      result: sfn.Result.fromObject({ attempts: 0 }),
      resultPath: '$.wait',
    });
    const wait = new sfn.Wait(this, `${name}: wait`, { time: sfn.WaitTime.duration(props.pollInterval) });
    const describe = tasks.CallAwsService.jsonPath(this, `${name}: describe`, {
      service: 'sagemaker',
      action: 'describeEndpoint',
      parameters: { EndpointName: sfn.JsonPath.stringAt('$.settings.endpointName') },
      iamResources: props.endpointArns,
      iamAction: ENDPOINT_DESCRIBE_ACTIONS[0],
      resultPath: '$.endpoint',
    });
    describe.addRetry({ errors: [sfn.Errors.ALL], interval: cdk.Duration.seconds(10), maxAttempts: 3 });
    describe.addCatch(props.onDescribeError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const count = new sfn.Pass(this, `${name}: count`, {
      parameters: { attempts: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.wait.attempts'), 1) },
      resultPath: '$.wait',
    });
    const decide = new sfn.Choice(this, `${name}: status?`)
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.endpoint.EndpointStatus', 'InService'),
          sfn.Condition.stringEqualsJsonPath('$.endpoint.EndpointConfigName', props.expectedConfigPath),
        ),
        props.onReady,
      )
      .when(sfn.Condition.stringEquals('$.endpoint.EndpointStatus', 'InService'), props.onRolledBack)
      .when(sfn.Condition.stringEquals('$.endpoint.EndpointStatus', 'Failed'), props.onFailed)
      .when(sfn.Condition.numberGreaterThanEquals('$.wait.attempts', props.maxPolls), props.onTimeout)
      .otherwise(wait);
    start.next(wait).next(describe).next(count).next(decide);
    return start;
  }

  /** RegisterScalableTarget + PutScalingPolicy (target tracking on invocations per instance). */
  private scalingTasks(
    name: string,
    props: DeployModelProps,
  ): { first: tasks.CallAwsService; last: tasks.CallAwsService; catchTo(next: sfn.IChainable, path?: string): void } {
    const stack = cdk.Stack.of(this);
    const target = stack.formatArn({
      service: 'application-autoscaling',
      resource: 'scalable-target',
      resourceName: '*',
    });
    const common = {
      ServiceNamespace: 'sagemaker',
      ResourceId: sfn.JsonPath.stringAt('$.names.scalingResourceId'),
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    };
    const register = tasks.CallAwsService.jsonPath(this, `${name}: target`, {
      service: 'applicationautoscaling',
      action: 'registerScalableTarget',
      parameters: {
        ...common,
        MinCapacity: sfn.JsonPath.numberAt('$.settings.minInstances'),
        MaxCapacity: sfn.JsonPath.numberAt('$.settings.maxInstances'),
      },
      iamResources: [target],
      iamAction: 'application-autoscaling:RegisterScalableTarget',
      resultPath: sfn.JsonPath.DISCARD,
    });
    const policy = tasks.CallAwsService.jsonPath(this, `${name}: policy`, {
      service: 'applicationautoscaling',
      action: 'putScalingPolicy',
      parameters: {
        ...common,
        PolicyName: sfn.JsonPath.format(
          '{}-invocations-per-instance',
          sfn.JsonPath.stringAt('$.settings.endpointName'),
        ),
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: props.targetInvocationsPerInstance ?? 10,
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
          ScaleInCooldown: 600,
          ScaleOutCooldown: 300,
        },
      },
      iamResources: [target],
      iamAction: 'application-autoscaling:PutScalingPolicy',
      resultPath: sfn.JsonPath.DISCARD,
    });
    register.next(policy);
    return {
      first: register,
      last: policy,
      catchTo: (next, path = '$.scalingError') => {
        register.addCatch(next, { errors: [sfn.Errors.ALL], resultPath: path });
        policy.addCatch(next, { errors: [sfn.Errors.ALL], resultPath: path });
      },
    };
  }

  /** The endpoint-side permissions Application Auto Scaling checks on the caller, and its service-linked role. */
  private grantAutoscaling(sm: sfn.StateMachine, endpointArns: string[]): void {
    const stack = cdk.Stack.of(this);
    sm.addToRolePolicy(
      new iam.PolicyStatement({
        actions: AUTOSCALING_ACTIONS,
        // scalable targets and policies have generated ids.
        resources: [
          stack.formatArn({ service: 'application-autoscaling', resource: 'scalable-target', resourceName: '*' }),
        ],
      }),
    );
    sm.addToRolePolicy(
      new iam.PolicyStatement({
        actions: AUTOSCALING_ENDPOINT_ACTIONS,
        resources: endpointArns,
      }),
    );
    sm.addToRolePolicy(
      new iam.PolicyStatement({
        actions: AUTOSCALING_ALARM_ACTIONS,
        resources: [
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: 'TargetTracking-endpoint/*',
            arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    sm.addToRolePolicy(
      new iam.PolicyStatement({
        actions: AUTOSCALING_SERVICE_LINKED_ROLE_ACTIONS,
        resources: [
          stack.formatArn({
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName:
              'aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
          }),
        ],
        conditions: { StringLike: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' } },
      }),
    );
  }
}
