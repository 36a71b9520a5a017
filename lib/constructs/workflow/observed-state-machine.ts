import * as cdk from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeRegulatedRule } from '../compliance';

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
  /**
   * The machine's role.
   * @default - a role CDK creates and names
   */
  readonly role?: iam.IRole;
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
      role: props.role,
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
