import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** Where a cleanup step that failed leaves its error (the cleanup goes on regardless). */
export const CLEANUP_ERROR_PATH = '$.cleanupError';

/** One "delete X if this execution created it" link of a {@link cleanupChain}. */
export interface CleanupLink {
  /** Id of the Choice, phrased as its question ("Delete new model?"). */
  readonly id: string;
  readonly comment?: string;
  /** True when this execution created the resource. */
  readonly created: sfn.Condition;
  /** The deletions, in order. */
  readonly deletions: readonly sfn.TaskStateBase[];
}

/**
 * The create-then-clean-up pattern: for each link, in order, a Choice runs its deletions when the
 * resource was created by this execution and skips them otherwise; a deletion that fails records its
 * error at {@link CLEANUP_ERROR_PATH} and the chain goes on, so one stuck resource never keeps the others
 * (or the failure notice) from their turn. Ends at `done`; returns the first Choice.
 */
export function cleanupChain(scope: Construct, links: readonly CleanupLink[], done: sfn.IChainable): sfn.IChainable {
  let next: sfn.IChainable = done;
  for (const link of [...links].reverse()) {
    let first: sfn.IChainable = next;
    for (const deletion of [...link.deletions].reverse()) {
      deletion.addCatch(first, { errors: [sfn.Errors.ALL], resultPath: CLEANUP_ERROR_PATH });
      deletion.next(first);
      first = deletion;
    }
    next = new sfn.Choice(scope, link.id, { comment: link.comment }).when(link.created, first).otherwise(next);
  }
  return next;
}
