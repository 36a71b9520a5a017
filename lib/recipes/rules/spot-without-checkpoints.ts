import { stringValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** Spot without checkpoints restarts an interrupted job from step 0. */
export function spotWithoutCheckpointsRule(ctx: LintContext): Finding[] {
  if (!ctx.doc?.platform.training.spot) return [];
  const out: Finding[] = [];
  if (!ctx.doc.platform.training.checkpoints) {
    out.push(
      finding(
        ctx,
        'spot-without-checkpoints',
        'error',
        'platform.training.checkpoints',
        'false',
        'managed spot training without checkpoint sync restarts an interrupted job from step 0',
        'write platform.training.checkpoints: true',
      ),
    );
  }
  if (stringValue(ctx.doc, 'save_strategy') === 'no') {
    out.push(
      finding(
        ctx,
        'spot-without-checkpoints',
        'error',
        'save_strategy',
        '"no"',
        'with spot on, save_strategy: no writes no checkpoint to resume from',
        'write save_strategy: steps and save_steps: <a few minutes of training>',
      ),
    );
  }
  return out;
}

/** Rule `spot-without-checkpoints`. */
export const spotWithoutCheckpoints: LintRule = {
  id: 'spot-without-checkpoints',
  level: 'error',
  input: 'document',
  description: 'spot needs checkpoints and a save strategy',
  check: spotWithoutCheckpointsRule,
};
