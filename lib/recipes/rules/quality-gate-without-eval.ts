import { isSet, numberValue, stringValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** A quality gate on eval loss needs an evaluation split and an eval strategy. */
export function qualityGateWithoutEvalRule(ctx: LintContext): Finding[] {
  if (!ctx.doc?.platform.quality_gate) return [];
  const out: Finding[] = [];
  const split = numberValue(ctx.doc, 'eval_split_size') ?? 0;
  if (split === 0) {
    out.push(
      finding(
        ctx,
        'quality-gate-without-eval',
        'error',
        'eval_split_size',
        '0',
        'platform.quality_gate compares the eval loss, but no rows are held out for evaluation',
        'write eval_split_size: 0.1 (a share) or a row count',
      ),
    );
  }
  const strategy = stringValue(ctx.doc, 'eval_strategy');
  if (strategy === 'no') {
    out.push(
      finding(
        ctx,
        'quality-gate-without-eval',
        'error',
        'eval_strategy',
        isSet(ctx.doc, 'eval_strategy') ? '"no"' : 'nothing (default "no")',
        'platform.quality_gate compares the eval loss, but evaluation never runs',
        'write eval_strategy: epoch (or steps with eval_steps)',
      ),
    );
  }
  return out;
}

/** Rule `quality-gate-without-eval`. */
export const qualityGateWithoutEval: LintRule = {
  id: 'quality-gate-without-eval',
  level: 'error',
  input: 'document',
  description: 'quality_gate needs eval_split_size > 0 and an eval_strategy',
  check: qualityGateWithoutEvalRule,
};
