import { numberValue, stringValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/**
 * Step intervals above 1 are step counts and must be whole numbers: transformers' `TrainingArguments` raises on
 * `save_steps: 12.5` when that strategy is `steps` (below 1 they are a share of the total steps), and truncates a
 * fractional `warmup_steps` above 1 without a word (training_args.py, `__post_init__` and `get_warmup_steps`).
 */
const INTERVALS: readonly [key: string, strategy: string][] = [
  ['logging_steps', 'logging_strategy'],
  ['eval_steps', 'eval_strategy'],
  ['save_steps', 'save_strategy'],
];

export function stepIntervalsRule(ctx: LintContext): Finding[] {
  const doc = ctx.doc;
  if (!doc) return [];
  const out: Finding[] = [];
  for (const [key, strategy] of INTERVALS) {
    const value = numberValue(doc, key);
    if (value === undefined || value <= 1 || Number.isInteger(value) || stringValue(doc, strategy) !== 'steps')
      continue;
    out.push(
      finding(
        ctx,
        'step-intervals',
        'error',
        key,
        show(value),
        `above 1 ${key} counts steps and transformers refuses a fraction (${strategy}: steps)`,
        `write ${key}: ${Math.round(value)}, or a share of the total steps below 1`,
      ),
    );
  }
  const warmup = numberValue(doc, 'warmup_steps');
  if (warmup !== undefined && warmup > 1 && !Number.isInteger(warmup)) {
    out.push(
      finding(
        ctx,
        'step-intervals',
        'warning',
        'warmup_steps',
        show(warmup),
        `above 1 warmup_steps counts steps; transformers cuts the fraction and warms up for ${Math.trunc(warmup)} steps`,
        `write warmup_steps: ${Math.trunc(warmup)}, or a share of the total steps below 1`,
      ),
    );
  }
  return out;
}

/** Rule `step-intervals`. */
export const stepIntervals: LintRule = {
  id: 'step-intervals',
  level: 'error',
  input: 'document',
  description: 'fractional step counts above 1 (transformers refuses them, or truncates warmup_steps)',
  check: stepIntervalsRule,
};
