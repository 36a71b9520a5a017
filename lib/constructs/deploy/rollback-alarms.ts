import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ROLLBACK_ALARM_READ_ACTIONS } from '../../iam/deploy-actions';
import { SERVING_VARIANT_NAME } from '../../recipes/serving-plan';
import { awsCall } from '../workflow/aws-call';
import { catchAsFailure } from '../workflow/failures';
import type { DeployContext } from './context';
import { names, settings } from './state';

/**
 * The endpoint's two CloudWatch alarms (model container 5xx errors, p90 model latency), put before the
 * endpoint is created or updated: a blue/green update rolls back when one fires. Then `next`.
 */
export function rollbackAlarmsPhase(
  scope: Construct,
  ctx: DeployContext,
  next: sfn.IChainable,
  onFailure: sfn.IChainable,
): sfn.IChainable {
  const { props } = ctx;
  const alarm = (
    id: string,
    name: 'alarm5xx' | 'alarmLatency',
    description: string,
    metric: Record<string, unknown>,
  ): sfn.TaskStateBase => {
    const task = awsCall(scope, id, {
      service: 'cloudwatch',
      action: 'putMetricAlarm',
      parameters: {
        AlarmName: names.string(name),
        AlarmDescription: sfn.JsonPath.format(
          `{}: ${description}; blue/green updates roll back when it fires`,
          settings.string('endpointName'),
        ),
        Namespace: 'AWS/SageMaker',
        ...metric,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [props.topic.topicArn],
      },
      iamResources: ctx.arns.alarms,
      iamAction: 'cloudwatch:PutMetricAlarm',
    });
    catchAsFailure(scope, task, id, onFailure);
    return task;
  };
  const dimensions = [
    { Name: 'EndpointName', Value: settings.string('endpointName') },
    { Name: 'VariantName', Value: SERVING_VARIANT_NAME },
  ];
  const errors = alarm('Put 5xx alarm', 'alarm5xx', 'model container 5xx errors', {
    MetricName: 'Invocation5XXErrors',
    Dimensions: dimensions,
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Threshold: props.alarms?.errorsPerMinute ?? 5,
  });
  const latency = alarm('Put latency alarm', 'alarmLatency', 'p90 model latency', {
    MetricName: 'ModelLatency',
    Dimensions: dimensions,
    ExtendedStatistic: 'p90',
    Period: 60,
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
    // ModelLatency is in microseconds.
    Threshold: (props.alarms?.p90Latency ?? cdk.Duration.seconds(60)).toMilliseconds() * 1000,
  });
  errors.next(latency).next(next);
  return errors;
}

/** Lets the deploy role read its rollback alarms, which SageMaker's deployment guardrails check as the caller. */
export function grantRollbackAlarmRead(stateMachine: sfn.StateMachine, ctx: DeployContext): void {
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({ actions: ROLLBACK_ALARM_READ_ACTIONS, resources: ctx.arns.alarms }),
  );
}
