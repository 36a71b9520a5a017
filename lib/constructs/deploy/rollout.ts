import type { CreateEndpointOutput } from '@aws-sdk/client-sagemaker';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENDPOINT_TAG_ACTIONS } from '../../iam/deploy-actions';
import { awsCall, type AwsCallProps } from '../workflow/aws-call';
import { catchAsFailure } from '../workflow/failures';
import { taskResult } from '../workflow/state-paths';
import type { DeployContext } from './context';
import { resourceTags } from './model-and-config';
import { scalableVariant } from './scaling';
import { created, current, MODE_PATH, names, recordOutcome, settings } from './state';

/**
 * Create the endpoint (mode create), or update it blue/green with the rollback alarms (mode update, after
 * suspending its autoscaling), and say in `$.outcome` what a failure from here on leaves behind. Then
 * `next` (the wait for InService).
 */
export function rolloutPhase(
  scope: Construct,
  ctx: DeployContext,
  next: sfn.IChainable,
  onFailure: sfn.IChainable,
): sfn.IChainable {
  const create = endpointCall(scope, ctx, 'Create endpoint', {
    action: 'createEndpoint',
    parameters: {
      EndpointName: settings.string('endpointName'),
      EndpointConfigName: names.string('model'),
      Tags: resourceTags(),
    },
    resultSelector: { arn: taskResult<CreateEndpointOutput>().string('EndpointArn') },
    resultPath: created.path('endpoint'),
  });
  const deregister = awsCall(scope, 'Suspend autoscaling', {
    service: 'applicationautoscaling',
    action: 'deregisterScalableTarget',
    parameters: scalableVariant(),
    iamResources: [ctx.arns.scalableTargets],
    iamAction: 'application-autoscaling:DeregisterScalableTarget',
  });
  const update = endpointCall(scope, ctx, 'Update endpoint', {
    action: 'updateEndpoint',
    parameters: {
      EndpointName: settings.string('endpointName'),
      EndpointConfigName: names.string('model'),
      RetainAllVariantProperties: false,
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: ctx.bakeSeconds },
          TerminationWaitInSeconds: 0,
          MaximumExecutionTimeoutInSeconds: Math.min(14400, Math.max(600, ctx.pollInterval.toSeconds() * ctx.maxPolls)),
        },
        AutoRollbackConfiguration: {
          Alarms: [{ AlarmName: names.string('alarm5xx') }, { AlarmName: names.string('alarmLatency') }],
        },
      },
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  catchAsFailure(scope, create, 'Create endpoint', onFailure);
  catchAsFailure(scope, update, 'Update endpoint', onFailure);
  // no scalable target registered yet is the normal case of a first update.
  deregister.addCatch(update, { errors: [sfn.Errors.ALL], resultPath: '$.deregisterError' });

  create
    .next(
      recordOutcome(
        scope,
        'Outcome: new endpoint',
        'The new endpoint was deleted again; no endpoint serves this recipe.',
      ),
    )
    .next(next);
  deregister.next(update);
  update
    .next(
      recordOutcome(
        scope,
        'Outcome: updated endpoint',
        sfn.JsonPath.format(
          'The endpoint keeps serving its previous configuration {} (SageMaker rolls a failed blue/green update back).',
          current.string('EndpointConfigName'),
        ),
      ),
    )
    .next(next);
  return new sfn.Choice(scope, 'Create or update?')
    .when(sfn.Condition.stringEquals(MODE_PATH, 'update'), deregister)
    .otherwise(create);
}

/**
 * CreateEndpoint / UpdateEndpoint: they authorize against the endpoint and the endpoint config, and tags on
 * create as sagemaker:AddTags on the endpoint.
 */
export function endpointCall(
  scope: Construct,
  ctx: DeployContext,
  id: string,
  props: Omit<AwsCallProps, 'service' | 'iamResources'>,
): sfn.TaskStateBase {
  return awsCall(scope, id, {
    service: 'sagemaker',
    iamResources: [...ctx.arns.endpoints, ...ctx.arns.configs],
    additionalIamStatements: [
      new iam.PolicyStatement({ actions: ENDPOINT_TAG_ACTIONS, resources: ctx.arns.endpoints }),
    ],
    ...props,
  });
}
