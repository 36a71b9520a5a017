import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { statePaths } from './state-paths';

/**
 * Failure records and SNS notices of the REGISTER and DEPLOY state machines. A failure record says which
 * step failed, with which error and why; both machines put it in their SNS notice and their Fail state.
 */

/** Which step failed, with which error and why. */
export interface FailureRecord {
  readonly step: string;
  readonly error: string;
  readonly cause: string;
}

/** Where a state machine's failure record lives. */
export const FAILURE_PATH = '$.failure';
export const failure = statePaths<FailureRecord>(FAILURE_PATH);

/** Where a Catch puts the error it caught (Step Functions' `{ Error, Cause }`). */
export const caughtError = statePaths<{ readonly Error: string; readonly Cause: string }>('$.error');

/** Catches every error of `state` into `$.error` and records `step` as where it failed. */
export function catchAsFailure(scope: Construct, state: sfn.TaskStateBase, step: string, next: sfn.IChainable): void {
  state.addCatch(recordCaughtFailure(scope, step).next(next), {
    errors: [sfn.Errors.ALL],
    resultPath: caughtError.root,
  });
}

/** A Pass that turns a caught `$.error` into the failure record. */
export function recordCaughtFailure(scope: Construct, step: string): sfn.Pass {
  return new sfn.Pass(scope, `Failed at ${step}`, {
    parameters: { step, error: caughtError.string('Error'), cause: caughtError.string('Cause') },
    resultPath: FAILURE_PATH,
  });
}

/**
 * A Pass that writes a failure record for a condition the workflow itself detected. `cause` is literal text
 * or a JsonPath token (`JsonPath.stringAt(...)`, `JsonPath.format(...)`).
 */
export function recordFailure(
  scope: Construct,
  id: string,
  props: { readonly step: string; readonly error: string; readonly cause: string },
): sfn.Pass {
  return new sfn.Pass(scope, id, {
    parameters: { step: props.step, error: props.error, cause: props.cause },
    resultPath: FAILURE_PATH,
  });
}

/** An SNS notice whose subject and message are States.Format expressions. */
export function notify(
  scope: Construct,
  id: string,
  topic: sns.ITopic,
  subject: string,
  message: string,
  resultPath = sfn.JsonPath.DISCARD,
): tasks.SnsPublish {
  return tasks.SnsPublish.jsonPath(scope, id, {
    topic,
    subject,
    message: sfn.TaskInput.fromText(message),
    resultPath,
  });
}
