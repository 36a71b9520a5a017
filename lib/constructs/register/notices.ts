import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { failure, notify } from '../workflow/failures';
import type { StateFields } from '../workflow/state-paths';
import { detail, evalLoss, modelPackage, recipe, run } from './state';

/** What a registration outputs (what the CLI's `watch` follows). */
export interface RegistrationResult {
  readonly ModelPackageArn: string;
  readonly ModelPackageVersion: string;
  readonly ModelPackageGroupName: string;
  readonly ModelApprovalStatus: string;
  readonly PipelineExecutionArn: string;
  readonly Recipe: string;
}

/** The failure notice, then the Fail state: where every failure of the machine ends. */
export function failureNotice(scope: Construct, topic: sns.ITopic): sfn.IChainable {
  return notify(
    scope,
    'Notify registration failure',
    topic,
    sfn.JsonPath.format('Registration failed for pipeline {}', run.string('pipelineName')),
    sfn.JsonPath.format(
      'Registering the model of pipeline execution {} failed at step "{}": {}: {}. No model package was created. Execution: {}',
      detail.string('pipelineExecutionArn'),
      failure.string('step'),
      failure.string('error'),
      failure.string('cause'),
      sfn.JsonPath.executionId,
    ),
  ).next(
    new sfn.Fail(scope, 'Registration failed', {
      errorPath: failure.path('error'),
      causePath: failure.path('cause'),
    }),
  );
}

/**
 * The notice of a new package: "awaits approval" (with how to approve) or, for `approval: auto`, "registered
 * and approved"; then the registration result. A notice that cannot be sent is retried, and never hides
 * the registration that succeeded.
 */
export function registeredNotice(scope: Construct, topic: sns.ITopic): sfn.IChainable {
  const pending = notify(
    scope,
    'Notify awaiting approval',
    topic,
    sfn.JsonPath.format('Model {} v{} awaits approval', recipe.string('recipe'), modelPackage.string('version')),
    sfn.JsonPath.format(
      'Model {} v{} awaits approval. Package: {} (eval_loss {}, pipeline execution {}). Approve as the ' +
        'approver role (stack output ApproverRoleArn) in the console (Models, group {}, version {}, Update ' +
        'status) or with: aws sagemaker update-model-package ' +
        '--model-package-arn {} --model-approval-status Approved. Approval deploys it to endpoint {}.',
      recipe.string('recipe'),
      modelPackage.string('version'),
      modelPackage.string('arn'),
      evalLoss.string('text'),
      run.string('executionArn'),
      recipe.string('groupName'),
      modelPackage.string('version'),
      modelPackage.string('arn'),
      recipe.string('endpointName'),
    ),
  );
  const approved = notify(
    scope,
    'Notify auto-approved',
    topic,
    sfn.JsonPath.format(
      'Model {} v{} registered and approved',
      recipe.string('recipe'),
      modelPackage.string('version'),
    ),
    sfn.JsonPath.format(
      'Model {} v{} was registered as Approved (recipe approval: auto). Package: {} (eval_loss {}). ' +
        'Deployment to endpoint {} starts now.',
      recipe.string('recipe'),
      modelPackage.string('version'),
      modelPackage.string('arn'),
      evalLoss.string('text'),
      recipe.string('endpointName'),
    ),
  );
  const result: StateFields<RegistrationResult> = {
    ModelPackageArn: modelPackage.string('arn'),
    ModelPackageVersion: modelPackage.string('version'),
    ModelPackageGroupName: recipe.string('groupName'),
    ModelApprovalStatus: recipe.string('approvalStatus'),
    PipelineExecutionArn: run.string('executionArn'),
    Recipe: recipe.string('recipe'),
  };
  const registered = new sfn.Pass(scope, 'Registration result', {
    comment: 'The output names the package and the run, and nothing else (the CLI follows the ARNs in it).',
    parameters: result,
  }).next(new sfn.Succeed(scope, 'Registered'));
  for (const notice of [pending, approved]) {
    notice.addRetry({ errors: [sfn.Errors.ALL], maxAttempts: 3 });
    notice.next(registered);
  }
  return new sfn.Choice(scope, 'Auto-approved?')
    .when(sfn.Condition.stringEquals(recipe.path('approvalStatus'), 'Approved'), approved)
    .otherwise(pending);
}
