import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { awsCall } from './aws-call';
import { statePaths } from './state-paths';

/** What a {@link membershipCheck} leaves at its `resultPath`. */
export interface MembershipResult {
  readonly exists: boolean;
}

/**
 * Sets `resultPath` to `{ exists: <value at valuePath> is one of listPath[*].field }`, safely: a JSONPath
 * projection that matches nothing (an empty list, or items without the field) is a States.Runtime error in
 * Step Functions, so the list is first rendered with States.JsonToString and tested for the field's key.
 */
export function membershipCheck(
  scope: Construct,
  props: {
    readonly id: string;
    readonly listPath: string;
    readonly field: string;
    readonly valuePath: string;
    readonly resultPath: string;
    readonly next: sfn.IChainable;
  },
): sfn.Pass {
  const render = new sfn.Pass(scope, `${props.id}: render`, {
    parameters: { json: sfn.JsonPath.jsonToString(sfn.JsonPath.listAt(props.listPath)) },
    resultPath: props.resultPath,
  });
  // the projection is a plain Parameters path (what every Step Functions JSONPath engine supports); the
  // intrinsic then compares a flat list.
  const project = new sfn.Pass(scope, `${props.id}: project`, {
    parameters: { names: sfn.JsonPath.listAt(`${props.listPath}[*].${props.field}`) },
    resultPath: props.resultPath,
  });
  const member = new sfn.Pass(scope, `${props.id}: compare`, {
    parameters: {
      exists: sfn.JsonPath.arrayContains(
        sfn.JsonPath.listAt(`${props.resultPath}.names`),
        sfn.JsonPath.stringAt(props.valuePath),
      ),
    },
    resultPath: props.resultPath,
  });
  project.next(member);
  const none = new sfn.Pass(scope, `${props.id}: none`, {
    result: sfn.Result.fromObject({ exists: false }),
    resultPath: props.resultPath,
  });
  member.next(props.next);
  none.next(props.next);
  render.next(
    new sfn.Choice(scope, props.id)
      .when(sfn.Condition.stringMatches(`${props.resultPath}.json`, `*"${props.field}":*`), project)
      .otherwise(none),
  );
  return render;
}

/** What {@link findByName} looks for, and where it goes next. */
export interface FindByNameProps {
  /** The SageMaker List* action, e.g. `listModels`. */
  readonly action: string;
  /** The response's list, e.g. `Models`. */
  readonly resultList: string;
  /** The name field of the list's items, e.g. `ModelName`. */
  readonly field: string;
  /** Where the name is in the state. */
  readonly namePath: string;
  /** Ids of the membership check and of the Choice after it (phrased as questions). */
  readonly checkId: string;
  readonly choiceId: string;
  readonly ifFound: sfn.IChainable;
  readonly otherwise: sfn.IChainable;
}

/**
 * Does a SageMaker resource with exactly this name exist? A List* call filtered by `NameContains` (its list
 * at `$.lookup.list`), a {@link membershipCheck} of the exact name (at `$.exists`), and a Choice. The List*
 * name filters support no resource-level permissions, hence `*`.
 */
export function findByName(scope: Construct, id: string, props: FindByNameProps): tasks.CallAwsService {
  const lookup = statePaths<{ readonly list: unknown[] }>('$.lookup');
  const found = statePaths<MembershipResult>('$.exists');
  const find = awsCall(scope, id, {
    service: 'sagemaker',
    action: props.action,
    parameters: { NameContains: sfn.JsonPath.stringAt(props.namePath), MaxResults: 100 },
    iamResources: ['*'],
    iamAction: `sagemaker:${props.action.charAt(0).toUpperCase()}${props.action.slice(1)}`,
    resultSelector: { list: sfn.JsonPath.listAt(`$.${props.resultList}`) },
    resultPath: lookup.root,
  });
  find.next(
    membershipCheck(scope, {
      id: props.checkId,
      listPath: lookup.path('list'),
      field: props.field,
      valuePath: props.namePath,
      resultPath: found.root,
      next: new sfn.Choice(scope, props.choiceId)
        .when(sfn.Condition.booleanEquals(found.path('exists'), true), props.ifFound)
        .otherwise(props.otherwise),
    }),
  );
  return find;
}
