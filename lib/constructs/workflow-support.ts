import * as cdk from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledgeRegulatedRule } from './compliance';

/**
 * Building blocks shared by the REGISTER and DEPLOY state machines: the observed state machine itself
 * (logging ALL, X-Ray, failed-execution alarm), failure records, SNS notices and a safe membership check
 * (the per-recipe settings are S3 objects: see serving-settings.ts). Both machines stay on JSONPath so
 * that they run in aws-local-stepfunctions and moto.
 */

/** Where a state machine's failure record lives: `{ step, error, cause }`. */
export const FAILURE_PATH = '$.failure';

/** Catches every error of `state` into `$.error` and records `step` as where it failed. */
export function catchAsFailure(scope: Construct, state: sfn.TaskStateBase, step: string, next: sfn.IChainable): void {
  state.addCatch(recordCaughtFailure(scope, step).next(next), { errors: [sfn.Errors.ALL], resultPath: '$.error' });
}

/** A Pass that turns a caught `$.error` into the failure record. */
export function recordCaughtFailure(scope: Construct, step: string): sfn.Pass {
  return new sfn.Pass(scope, `Failed at ${step}`, {
    parameters: { step, 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' },
    resultPath: FAILURE_PATH,
  });
}

/**
 * A Pass that writes a failure record for a condition the workflow itself detected. `cause` is literal text
 * or a JsonPath token (`JsonPath.stringAt(...)`, `JsonPath.format(...)`).
 */
export function recordFailure(
  scope: Construct,
  id: string,
  props: { readonly step: string; readonly error: string; readonly cause: string },
): sfn.Pass {
  return new sfn.Pass(scope, id, {
    parameters: { step: props.step, error: props.error, cause: props.cause },
    resultPath: FAILURE_PATH,
  });
}

/** An SNS notice whose subject and message are States.Format expressions. */
export function notify(
  scope: Construct,
  id: string,
  topic: sns.ITopic,
  subject: string,
  message: string,
  resultPath = sfn.JsonPath.DISCARD,
): tasks.SnsPublish {
  return tasks.SnsPublish.jsonPath(scope, id, {
    topic,
    subject,
    message: sfn.TaskInput.fromText(message),
    resultPath,
  });
}

/** Props of {@link ObservedStateMachine}. */
export interface ObservedStateMachineProps {
  /** Physical name (the CLI and the README refer to it). */
  readonly stateMachineName: string;
  readonly definition: sfn.IChainable;
  /** Encrypts the execution log group (its key policy must allow CloudWatch Logs of this account). */
  readonly logKey: kms.IKey;
  /** Receives the failed-execution alarm. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Longest an execution may run.
   * @default cdk.Duration.hours(1)
   */
  readonly timeout?: cdk.Duration;
  /**
   * How long execution logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  readonly comment?: string;
}

/**
 * A STANDARD state machine with execution logging at level ALL (including data), X-Ray tracing, a KMS
 * encrypted log group and an alarm on failed executions. `stateMachine` is the primary child (`Resource`).
 */
export class ObservedStateMachine extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  /** Fires when an execution fails (the machine's own SNS notice may not have gone out). */
  public readonly failedExecutionsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ObservedStateMachineProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.logKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
      timeout: props.timeout ?? cdk.Duration.hours(1),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: props.comment,
    });
    this.failedExecutionsAlarm = new cloudwatch.Alarm(this, 'FailedExecutions', {
      alarmDescription: `${props.stateMachineName}: an execution failed; its SNS notice and execution log say where`,
      metric: this.stateMachine.metricFailed({ period: cdk.Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedExecutionsAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    // the role's policy and the EventBridge target's role policy are CDK-generated grants.
    acknowledgeRegulatedRule(
      this.stateMachine,
      'IAMNoInlinePolicy',
      `The inline policies hold only the task-integration grants of ${props.stateMachineName} and the EventBridge rule's permission to start it, generated from code, scoped to this deployment's names and attached to this state machine's roles only.`,
    );
    cdk.Validations.of(this.stateMachine.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray (PutTraceSegments, GetSampling*), CloudWatch Logs vended delivery (*LogDelivery*, PutResourcePolicy, Describe*) and the SageMaker List* calls of this machine support no resource-level permissions.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          "Added by Topic.grantPublish for the notifications topic's own key only: SNS needs a data key to encrypt each message.",
      },
    );
  }
}

/**
 * Sets `resultPath` to `{ exists: <value at valuePath> is one of listPath[*].field }`, safely: a JSONPath
 * projection that matches nothing (an empty list, or items without the field) is a States.Runtime error in
 * Step Functions, so the list is first rendered with States.JsonToString and tested for the field's key.
 */
export function membershipCheck(
  scope: Construct,
  props: {
    readonly id: string;
    readonly listPath: string;
    readonly field: string;
    readonly valuePath: string;
    readonly resultPath: string;
    readonly next: sfn.IChainable;
  },
): sfn.Pass {
  const render = new sfn.Pass(scope, `${props.id}: render`, {
    parameters: { json: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt(props.listPath)) },
    resultPath: props.resultPath,
  });
  // the projection is a plain Parameters path (what every Step Functions JSONPath engine supports); the
  // intrinsic then compares a flat list.
  const project = new sfn.Pass(scope, `${props.id}: project`, {
    parameters: { names: sfn.JsonPath.listAt(`${props.listPath}[*].${props.field}`) },
    resultPath: props.resultPath,
  });
  const member = new sfn.Pass(scope, `${props.id}: compare`, {
    parameters: {
      exists: sfn.JsonPath.arrayContains(
        sfn.JsonPath.listAt(`${props.resultPath}.names`),
        sfn.JsonPath.stringAt(props.valuePath),
      ),
    },
    resultPath: props.resultPath,
  });
  project.next(member);
  const none = new sfn.Pass(scope, `${props.id}: none`, {
    result: sfn.Result.fromObject({ exists: false }),
    resultPath: props.resultPath,
  });
  member.next(props.next);
  none.next(props.next);
  render.next(
    new sfn.Choice(scope, props.id)
      .when(sfn.Condition.stringMatches(`${props.resultPath}.json`, `*"${props.field}":*`), project)
      .otherwise(none),
  );
  return render;
}

/** Properties of {@link startOnSageMakerEvent}. */
export interface SageMakerEventTriggerProps {
  readonly description: string;
  /** The event's `detail-type`, e.g. "SageMaker Model Package State Change". */
  readonly detailType: string;
  /** The `detail` part of the event pattern. */
  readonly detail: Record<string, unknown>;
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Where events go that could not start an execution.
   * @default - none
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * An EventBridge rule on an `aws.sagemaker` event that starts `stateMachine`. Delivery is retried for up to a
 * day (8 attempts) so a throttled StartExecution never loses a model; what still fails lands in the DLQ.
 */
export function startOnSageMakerEvent(scope: Construct, id: string, props: SageMakerEventTriggerProps): events.Rule {
  return new events.Rule(scope, id, {
    description: props.description,
    eventPattern: { source: ['aws.sagemaker'], detailType: [props.detailType], detail: props.detail },
    targets: [
      new targets.SfnStateMachine(props.stateMachine, {
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: cdk.Duration.hours(24),
      }),
    ],
  });
}

/** Lets `grantee` start executions of `stateMachine` and read their history (the CLI's `watch`). */
export function grantWatch(stateMachine: sfn.StateMachine, grantee: iam.IGrantable): iam.Grant {
  stateMachine.grantRead(grantee);
  return stateMachine.grantStartExecution(grantee);
}
