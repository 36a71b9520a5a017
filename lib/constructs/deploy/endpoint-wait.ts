import * as cdk from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENDPOINT_DESCRIBE_ACTIONS } from '../../iam/deploy-actions';
import { awsCall } from '../workflow/aws-call';
import { caughtError, recordFailure } from '../workflow/failures';
import type { DeployContext } from './context';
import { scales, scalingTasks } from './scaling';
import { endpoint, MODE_PATH, names, recordOutcome, settings, wait } from './state';

/** Where a wait loop goes for each endpoint status it can end on. */
export interface WaitLoopExits {
  /** InService on the expected configuration. */
  readonly onReady: sfn.IChainable;
  /** InService on another configuration: SageMaker rolled the update back. */
  readonly onRolledBack: sfn.IChainable;
  readonly onFailed: sfn.IChainable;
  readonly onTimeout: sfn.IChainable;
  /** DescribeEndpoint failed three times (the error at `$.error`). */
  readonly onDescribeError: sfn.IChainable;
}

/**
 * A bounded DescribeEndpoint polling loop: Wait → Describe → count → Choice, at most `maxPolls` times,
 * waiting for the endpoint to be InService on the configuration at `expectedConfigPath`.
 */
export function endpointWaitLoop(
  scope: Construct,
  ctx: DeployContext,
  name: string,
  expectedConfigPath: string,
  exits: WaitLoopExits,
): sfn.IChainable {
  const start = new sfn.Pass(scope, `${name}: start`, {
    result: sfn.Result.fromObject({ attempts: 0 }),
    resultPath: wait.root,
  });
  const pause = new sfn.Wait(scope, `${name}: wait`, { time: sfn.WaitTime.duration(ctx.pollInterval) });
  const describe = awsCall(scope, `${name}: describe`, {
    service: 'sagemaker',
    action: 'describeEndpoint',
    parameters: { EndpointName: settings.string('endpointName') },
    iamResources: ctx.arns.endpoints,
    iamAction: ENDPOINT_DESCRIBE_ACTIONS[0],
    resultPath: endpoint.root,
  });
  describe.addRetry({ errors: [sfn.Errors.ALL], interval: cdk.Duration.seconds(10), maxAttempts: 3 });
  describe.addCatch(exits.onDescribeError, { errors: [sfn.Errors.ALL], resultPath: caughtError.root });
  const count = new sfn.Pass(scope, `${name}: count`, {
    parameters: { attempts: sfn.JsonPath.mathAdd(wait.number('attempts'), 1) },
    resultPath: wait.root,
  });
  const status = endpoint.path('EndpointStatus');
  const decide = new sfn.Choice(scope, `${name}: status?`)
    .when(
      sfn.Condition.and(
        sfn.Condition.stringEquals(status, 'InService'),
        sfn.Condition.stringEqualsJsonPath(endpoint.path('EndpointConfigName'), expectedConfigPath),
      ),
      exits.onReady,
    )
    .when(sfn.Condition.stringEquals(status, 'InService'), exits.onRolledBack)
    .when(sfn.Condition.stringEquals(status, 'Failed'), exits.onFailed)
    .when(sfn.Condition.numberGreaterThanEquals(wait.path('attempts'), ctx.maxPolls), exits.onTimeout)
    .otherwise(pause);
  start.next(pause).next(describe).next(count).next(decide);
  return start;
}

/** Records a failure whose cause is the endpoint's FailureReason when SageMaker gave one, then `next`. */
function failureWithReason(scope: Construct, id: string, error: string, next: sfn.IChainable): sfn.IChainable {
  const step = 'Wait for endpoint';
  const join = new sfn.Pass(scope, `${id}: recorded`);
  join.next(next);
  const withReason = recordFailure(scope, `${id}: with reason`, {
    step,
    error,
    cause: endpoint.string('FailureReason'),
  }).next(join);
  const withoutReason = recordFailure(scope, `${id}: without reason`, {
    step,
    error,
    cause: sfn.JsonPath.format(
      'endpoint status {} on configuration {}',
      endpoint.string('EndpointStatus'),
      endpoint.string('EndpointConfigName'),
    ),
  }).next(join);
  return new sfn.Choice(scope, `${id}: reason given?`)
    .when(sfn.Condition.isPresent(endpoint.path('FailureReason')), withReason)
    .otherwise(withoutReason);
}

/**
 * After an update that is still in flux: register the autoscaling the rollout suspended again (when the
 * recipe scales), so the endpoint does not stay at fixed capacity once SageMaker settles it; a refused
 * registration (e.g. the endpoint is still Updating) is caught and the notice follows anyway. Then `next`.
 */
function restoreScalingInFlux(scope: Construct, ctx: DeployContext, next: sfn.IChainable): sfn.IChainable {
  const restore = scalingTasks(scope, 'Restore autoscaling after timeout', ctx);
  restore.last.next(next);
  restore.catchTo(next);
  return new sfn.Choice(scope, 'Restore autoscaling after timeout?')
    .when(sfn.Condition.and(sfn.Condition.stringEquals(MODE_PATH, 'update'), scales()), restore.first)
    .otherwise(next);
}

/**
 * Wait for the created or updated endpoint to be InService on the new config, then `onReady` (the smoke
 * test). Failed or rolled back: the cleanup. Timed out, or no longer describable: the failure notice
 * straight away, deleting nothing since the endpoint is still changing, but with the suspended autoscaling
 * of an updated endpoint registered again.
 */
export function waitForEndpointPhase(
  scope: Construct,
  ctx: DeployContext,
  targets: {
    readonly onReady: sfn.IChainable;
    readonly cleanup: sfn.IChainable;
    readonly notifyFailure: sfn.IChainable;
  },
): sfn.IChainable {
  const inFlux = recordOutcome(
    scope,
    'Outcome: still changing',
    'The endpoint is still changing, so nothing was cleaned up; check it in the SageMaker console before approving again.',
  );
  inFlux.next(restoreScalingInFlux(scope, ctx, targets.notifyFailure));
  const timedOut = recordFailure(scope, 'Timed out', {
    step: 'Wait for endpoint',
    error: 'Timeout',
    cause: sfn.JsonPath.format(
      'endpoint {} was still {} after {} polls',
      settings.string('endpointName'),
      endpoint.string('EndpointStatus'),
      wait.string('attempts'),
    ),
  });
  timedOut.next(inFlux);
  return endpointWaitLoop(scope, ctx, 'Wait for endpoint', names.path('model'), {
    onReady: targets.onReady,
    onRolledBack: failureWithReason(scope, 'Update rolled back', 'UpdateRolledBack', targets.cleanup),
    onFailed: failureWithReason(scope, 'Endpoint failed', 'EndpointFailed', targets.cleanup),
    onTimeout: timedOut,
    onDescribeError: recordFailure(scope, 'Failed at Wait for endpoint', {
      step: 'Wait for endpoint',
      error: 'DescribeEndpointFailed',
      cause: caughtError.string('Cause'),
    }).next(inFlux),
  });
}
