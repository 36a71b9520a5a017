import type { ListModelPackagesOutput } from '@aws-sdk/client-sagemaker';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { MODEL_PACKAGE_LIST_ACTIONS } from '../../iam/deploy-actions';
import { awsCall } from '../workflow/aws-call';
import { catchAsFailure } from '../workflow/failures';
import { membershipCheck, type MembershipResult } from '../workflow/membership-check';
import { type StateFields, statePaths, taskResult } from '../workflow/state-paths';
import { existing, ids, type PackageIdentity, recipe, run } from './state';

/**
 * Idempotency: derive the package's description (naming the execution) and ClientToken, and stop when a
 * recent package of the group already names this execution (a duplicate event). Otherwise `next`.
 */
export function duplicateCheckPhase(scope: Construct, next: sfn.IChainable, onFailure: sfn.IChainable): sfn.IChainable {
  const identity: StateFields<PackageIdentity> = {
    description: sfn.JsonPath.format(
      '{} fine-tuned by SageMaker pipeline execution {}',
      recipe.string('recipe'),
      run.string('executionArn'),
    ),
    clientToken: sfn.JsonPath.hash(run.string('executionArn'), 'MD5'),
  };
  const derive = new sfn.Pass(scope, 'Derive package identity', {
    comment:
      'The description names the execution (what the duplicate check matches); the ClientToken makes ' +
      'concurrent CreateModelPackage calls for the same execution idempotent on the SageMaker side.',
    parameters: identity,
    resultPath: ids.root,
  });
  const list = awsCall(scope, 'List recent packages', {
    service: 'sagemaker',
    action: 'listModelPackages',
    parameters: {
      ModelPackageGroupName: recipe.string('groupName'),
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
      MaxResults: 100,
    },
    // ListModelPackages supports no resource-level permissions.
    iamResources: ['*'],
    iamAction: MODEL_PACKAGE_LIST_ACTIONS[0],
    resultSelector: { summaries: taskResult<ListModelPackagesOutput>().list('ModelPackageSummaryList') },
    resultPath: existing.root,
  });
  catchAsFailure(scope, list, 'List recent packages', onFailure);
  const alreadyRegistered = new sfn.Pass(scope, 'Duplicate result', {
    comment: "The output names the run only: the listed packages of the group are not this run's.",
    parameters: {
      AlreadyRegistered: true,
      ModelPackageGroupName: recipe.string('groupName'),
      PipelineExecutionArn: run.string('executionArn'),
      Recipe: recipe.string('recipe'),
    },
  }).next(
    new sfn.Succeed(scope, 'Already registered', {
      comment: 'A model package for this pipeline execution exists: a duplicate event, nothing to do.',
    }),
  );
  const duplicate = statePaths<MembershipResult>('$.duplicate');
  return derive.next(list).next(
    membershipCheck(scope, {
      id: 'Package for this execution?',
      listPath: existing.path('summaries'),
      field: 'ModelPackageDescription',
      valuePath: ids.path('description'),
      resultPath: duplicate.root,
      next: new sfn.Choice(scope, 'Duplicate event?')
        .when(sfn.Condition.booleanEquals(duplicate.path('exists'), true), alreadyRegistered)
        .otherwise(next),
    }),
  );
}
