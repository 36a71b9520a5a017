import * as cdk from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

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
