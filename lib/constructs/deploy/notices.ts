import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { failure, notify } from '../workflow/failures';
import type { DeployContext } from './context';
import { detail, names, outcome, pkg, scaling, settings } from './state';

/** The failure notice, then the Fail state: where every failure of the machine ends. */
export function failureNotice(scope: Construct, ctx: DeployContext): sfn.IChainable {
  const failed = new sfn.Fail(scope, 'Deployment failed', {
    errorPath: failure.path('error'),
    causePath: failure.path('cause'),
  });
  const notice = notify(
    scope,
    'Notify deployment failure',
    ctx.props.topic,
    sfn.JsonPath.format('Deploy of {} v{} failed', settings.string('recipe'), detail.string('ModelPackageVersion')),
    sfn.JsonPath.format(
      'Deploying model package {} to endpoint {} failed at step "{}": {}: {}. {} Execution: {}',
      detail.string('ModelPackageArn'),
      settings.string('endpointName'),
      failure.string('step'),
      failure.string('error'),
      failure.string('cause'),
      outcome.string('text'),
      sfn.JsonPath.executionId,
    ),
  );
  notice.addRetry({ errors: [sfn.Errors.ALL], maxAttempts: 3 });
  notice.next(failed);
  return notice;
}

/** The success notice (with the try-it command), then the Succeed state. */
export function successNotice(scope: Construct, ctx: DeployContext): sfn.IChainable {
  const notice = notify(
    scope,
    'Notify deployed',
    ctx.props.topic,
    sfn.JsonPath.format('Model {} v{} deployed', settings.string('recipe'), names.string('version')),
    sfn.JsonPath.format(
      'Model {} v{} ({}) serves on endpoint {} ({}). Smoke test: a chat request with a reasoning-language ' +
        'system prompt got an answer. {} Try it: aws sagemaker-runtime invoke-endpoint --endpoint-name {} ' +
        '--content-type application/json --body fileb://request.json answer.json',
      settings.string('recipe'),
      names.string('version'),
      pkg.string('arn'),
      settings.string('endpointName'),
      settings.string('instanceType'),
      scaling.string('note'),
      settings.string('endpointName'),
    ),
  );
  notice.addRetry({ errors: [sfn.Errors.ALL], maxAttempts: 3 });
  notice.next(new sfn.Succeed(scope, 'Deployed'));
  return notice;
}
