import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { awsCall } from '../workflow/aws-call';
import { cleanupChain } from '../workflow/cleanup';
import type { DeployContext } from './context';
import { scales, scalingTasks } from './scaling';
import { created, MODE_PATH, names, settings } from './state';

/**
 * What a failed execution undoes before its failure notice (`next`): the endpoint it created (with its
 * alarms), then the endpoint config and model it created, then, after an update, the autoscaling it
 * suspended. An updated endpoint is never deleted: it keeps (or SageMaker rolled it back to) its config.
 */
export function cleanupPhase(scope: Construct, ctx: DeployContext, next: sfn.IChainable): sfn.IChainable {
  const restore = scalingTasks(scope, 'Restore autoscaling', ctx);
  restore.last.next(next);
  restore.catchTo(next);
  const restoreScaling = new sfn.Choice(scope, 'Restore autoscaling?')
    .when(sfn.Condition.and(sfn.Condition.stringEquals(MODE_PATH, 'update'), scales()), restore.first)
    .otherwise(next);

  const { arns } = ctx;
  return cleanupChain(
    scope,
    [
      {
        id: 'Delete new endpoint?',
        comment:
          'Only an endpoint this execution created; an updated endpoint keeps (or was rolled back to) its config.',
        created: sfn.Condition.and(
          sfn.Condition.stringEquals(MODE_PATH, 'create'),
          sfn.Condition.isPresent(created.path('endpoint')),
        ),
        deletions: [
          awsCall(scope, 'Delete new endpoint', {
            service: 'sagemaker',
            action: 'deleteEndpoint',
            parameters: { EndpointName: settings.string('endpointName') },
            iamResources: arns.endpoints,
          }),
          awsCall(scope, 'Delete alarms of new endpoint', {
            service: 'cloudwatch',
            action: 'deleteAlarms',
            parameters: { AlarmNames: sfn.JsonPath.array(names.string('alarm5xx'), names.string('alarmLatency')) },
            iamResources: arns.alarms,
            iamAction: 'cloudwatch:DeleteAlarms',
          }),
        ],
      },
      {
        id: 'Delete new endpoint config?',
        created: sfn.Condition.isPresent(created.path('config')),
        deletions: [
          awsCall(scope, 'Delete new endpoint config', {
            service: 'sagemaker',
            action: 'deleteEndpointConfig',
            parameters: { EndpointConfigName: names.string('model') },
            iamResources: arns.configs,
          }),
        ],
      },
      {
        id: 'Delete new model?',
        created: sfn.Condition.isPresent(created.path('model')),
        deletions: [
          awsCall(scope, 'Delete new model', {
            service: 'sagemaker',
            action: 'deleteModel',
            parameters: { ModelName: names.string('model') },
            iamResources: arns.models,
          }),
        ],
      },
    ],
    restoreScaling,
  );
}
