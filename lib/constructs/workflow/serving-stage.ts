import type * as cdk from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { stateMachineName } from '../../config/naming';
import { acknowledgeWildcardResources } from '../compliance';
import { startOnSageMakerEvent } from './event-trigger';
import { ObservedStateMachine } from './observed-state-machine';
import type { ServingStageProps } from './stage-props';

/** The stage-specific part of a REGISTER or DEPLOY state machine. */
export interface ServingStageMachineOptions {
  /** The name's suffix: `<prefix>-<stage>-<stage name>` unless the props name the machine. */
  readonly stage: 'register' | 'deploy';
  readonly definition: sfn.IChainable;
  readonly timeout: cdk.Duration;
  readonly comment: string;
  /**
   * The machine's role.
   * @default - a role CDK names
   */
  readonly role?: iam.IRole;
  /** Grants beyond the task integrations' own (added after the settings' read grant). */
  readonly grant?: (stateMachine: sfn.StateMachine) => void;
  /** The run-time-named resources the role's grants cover with `*`, and why. */
  readonly wildcardResources: readonly string[];
  readonly wildcardReason: string;
  /** The EventBridge rule that starts the machine. */
  readonly trigger: {
    readonly id: string;
    readonly description: string;
    readonly detailType: string;
    readonly detail: Record<string, unknown>;
  };
}

/** What a serving stage construct exposes. */
export interface ServingStageMachine {
  readonly stateMachine: sfn.StateMachine;
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  readonly rule: events.Rule;
}

/**
 * The state machine of a serving stage, observed (logs, X-Ray, failed-execution alarm), allowed to publish
 * to the topic and read the recipes' settings, and started by its EventBridge rule.
 */
export function servingStageMachine(
  scope: Construct,
  props: ServingStageProps,
  options: ServingStageMachineOptions,
): ServingStageMachine {
  const observed = new ObservedStateMachine(scope, 'StateMachine', {
    stateMachineName: props.stateMachineName ?? stateMachineName(props.naming, options.stage),
    definition: options.definition,
    logKey: props.logKey,
    alarmTopic: props.topic,
    timeout: options.timeout,
    comment: options.comment,
    role: options.role,
  });
  const { stateMachine } = observed;
  props.topic.grantPublish(stateMachine);
  props.settings.bindTo(stateMachine);
  options.grant?.(stateMachine);
  acknowledgeWildcardResources(stateMachine.role, options.wildcardResources, options.wildcardReason);
  const rule = startOnSageMakerEvent(scope, options.trigger.id, {
    description: options.trigger.description,
    detailType: options.trigger.detailType,
    detail: options.trigger.detail,
    stateMachine,
    deadLetterQueue: props.deadLetterQueue,
  });
  return { stateMachine, failedExecutionsAlarm: observed.failedExecutionsAlarm, rule };
}
