import type { InvokeEndpointOutput } from '@aws-sdk/client-sagemaker-runtime';
import * as cdk from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENDPOINT_INVOKE_ACTIONS } from '../../iam/deploy-actions';
import { awsCall } from '../workflow/aws-call';
import { caughtError, recordFailure } from '../workflow/failures';
import { taskResult } from '../workflow/state-paths';
import type { DeployContext } from './context';
import { endpointWaitLoop } from './endpoint-wait';
import { endpointCall } from './rollout';
import { current, MODE_PATH, recordOutcome, settings, smoke } from './state';

/** The smoke-test request: an OpenAI chat completion with a GPT-OSS "reasoning language" system prompt. */
export const SMOKE_TEST_REQUEST = {
  messages: [
    { role: 'system', content: 'reasoning language: German' },
    { role: 'user', content: 'What is the capital of Australia? Answer in one sentence.' },
  ],
  max_tokens: 512,
  temperature: 0,
};

/** The reply fields that count as an answer (vLLM puts a reasoning model's text in one of them). */
const ANSWER_FIELDS = ['content', 'reasoning_content', 'reasoning'];

/**
 * One chat request to the InService endpoint; an answer with text goes on to `next`. No answer: an updated
 * endpoint is rolled back to its previous config (and waited for) before the cleanup; a created one is
 * just cleaned up. A rollback that does not complete goes to the failure notice, cleaning up nothing.
 */
export function smokeTestPhase(
  scope: Construct,
  ctx: DeployContext,
  targets: { readonly next: sfn.IChainable; readonly cleanup: sfn.IChainable; readonly notifyFailure: sfn.IChainable },
): sfn.IChainable {
  const test = awsCall(scope, 'Smoke test', {
    service: 'sagemakerruntime',
    action: 'invokeEndpoint',
    parameters: {
      EndpointName: settings.string('endpointName'),
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: JSON.stringify(SMOKE_TEST_REQUEST),
      // marks the request in the endpoint's data capture.
      InferenceId: sfn.JsonPath.format('smoke-test-{}', sfn.JsonPath.executionName),
    },
    iamResources: ctx.arns.endpoints,
    iamAction: ENDPOINT_INVOKE_ACTIONS[0],
    resultSelector: { reply: sfn.JsonPath.stringToJson(taskResult<InvokeEndpointOutput>().string('Body')) },
    resultPath: smoke.root,
  });
  test.addRetry({ errors: [sfn.Errors.ALL], interval: cdk.Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });

  const failed = recordFailure(scope, 'Smoke test failed', {
    step: 'Smoke test',
    error: 'SmokeTestFailed',
    cause: sfn.JsonPath.format(
      'the endpoint answered without content: {}',
      sfn.JsonPath.jsonToString(smoke.object('reply')),
    ),
  });
  failed.next(
    new sfn.Choice(scope, 'Roll back?')
      .when(sfn.Condition.stringEquals(MODE_PATH, 'update'), rollBack(scope, ctx, targets))
      .otherwise(targets.cleanup),
  );
  test.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: caughtError.root });

  const answered = ANSWER_FIELDS.map((field) => {
    const path = `${smoke.path('reply')}.choices[0].message.${field}`;
    return sfn.Condition.and(
      sfn.Condition.isPresent(path),
      sfn.Condition.isString(path),
      sfn.Condition.not(sfn.Condition.stringEquals(path, '')),
    );
  });
  test.next(
    new sfn.Choice(scope, 'Smoke test passed?').when(sfn.Condition.or(...answered), targets.next).otherwise(failed),
  );
  return test;
}

/** UpdateEndpoint back to the config the endpoint served before, and wait for it; then the cleanup. */
function rollBack(
  scope: Construct,
  ctx: DeployContext,
  targets: { readonly cleanup: sfn.IChainable; readonly notifyFailure: sfn.IChainable },
): sfn.IChainable {
  const previousConfig = current.string('EndpointConfigName');
  const rollback = endpointCall(scope, ctx, 'Roll back endpoint', {
    action: 'updateEndpoint',
    parameters: { EndpointName: settings.string('endpointName'), EndpointConfigName: previousConfig },
  });
  const incomplete = recordOutcome(
    scope,
    'Outcome: rollback incomplete',
    sfn.JsonPath.format(
      'Rolling the endpoint back to {} did not complete, so nothing was cleaned up; check the endpoint now.',
      previousConfig,
    ),
  );
  const done = recordOutcome(
    scope,
    'Outcome: rolled back',
    sfn.JsonPath.format(
      'The endpoint was rolled back to its previous configuration {} and serves it again.',
      previousConfig,
    ),
  );
  incomplete.next(targets.notifyFailure);
  done.next(targets.cleanup);
  rollback.addCatch(incomplete, { errors: [sfn.Errors.ALL], resultPath: '$.rollbackError' });
  rollback.next(
    endpointWaitLoop(scope, ctx, 'Wait for rollback', current.path('EndpointConfigName'), {
      onReady: done,
      onRolledBack: incomplete,
      onFailed: incomplete,
      onTimeout: incomplete,
      onDescribeError: incomplete,
    }),
  );
  return rollback;
}
