import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENDPOINT_DESCRIBE_ACTIONS } from '../../iam/deploy-actions';
import { awsCall } from '../workflow/aws-call';
import { catchAsFailure, recordFailure } from '../workflow/failures';
import { findByName } from '../workflow/membership-check';
import type { DeployContext } from './context';
import { current, MODE_PATH, names, settings } from './state';

/**
 * The endpoint as it is now: none (mode create), InService on another config (mode update), already on
 * this config (a duplicate event: stop), or busy (fail without touching it). Then `next`.
 */
export function currentEndpointPhase(
  scope: Construct,
  ctx: DeployContext,
  next: sfn.IChainable,
  onFailure: sfn.IChainable,
): sfn.IChainable {
  const describe = awsCall(scope, 'Describe current endpoint', {
    service: 'sagemaker',
    action: 'describeEndpoint',
    parameters: { EndpointName: settings.string('endpointName') },
    iamResources: ctx.arns.endpoints,
    iamAction: ENDPOINT_DESCRIBE_ACTIONS[0],
    resultPath: current.root,
  });
  catchAsFailure(scope, describe, 'Describe current endpoint', onFailure);

  const mode = (value: 'create' | 'update') =>
    new sfn.Pass(scope, `Mode ${value}`, { result: sfn.Result.fromString(value), resultPath: MODE_PATH }).next(next);
  const busy = recordFailure(scope, 'Endpoint busy', {
    step: 'Describe current endpoint',
    error: 'EndpointNotInService',
    cause: sfn.JsonPath.format(
      'endpoint {} is {}; approve the package again (or start this execution again) once it is InService, or delete a Failed endpoint',
      settings.string('endpointName'),
      current.string('EndpointStatus'),
    ),
  });
  busy.next(onFailure);
  const onThisConfig = sfn.Condition.stringEqualsJsonPath(current.path('EndpointConfigName'), names.path('model'));
  const inService = sfn.Condition.stringEquals(current.path('EndpointStatus'), 'InService');
  describe.next(
    new sfn.Choice(scope, 'Current endpoint state?')
      .when(
        sfn.Condition.and(onThisConfig, inService),
        new sfn.Succeed(scope, 'Already serving this version', {
          comment: 'A duplicate event or a re-approval of the version (and settings) being served: nothing to do.',
        }),
      )
      .when(
        onThisConfig,
        new sfn.Succeed(scope, 'Already deploying this version', {
          comment: 'Another execution (a duplicate event) is creating or updating the endpoint to this config.',
        }),
      )
      .when(inService, mode('update'))
      .otherwise(busy),
  );
  const find = findByName(scope, 'Find endpoint', {
    action: 'listEndpoints',
    resultList: 'Endpoints',
    field: 'EndpointName',
    namePath: settings.path('endpointName'),
    checkId: 'Endpoint exists?',
    choiceId: 'Endpoint found?',
    ifFound: describe,
    otherwise: mode('create'),
  });
  catchAsFailure(scope, find, 'Find endpoint', onFailure);
  return find;
}
