import { stringValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { MODEL_CATALOG } from '../model-catalog';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** The estimators and LoRA checks need a known model; anything else cannot be sized. */
export function unknownModelRule(ctx: LintContext): Finding[] {
  if (!ctx.doc || ctx.analysis?.model) return [];
  const value = stringValue(ctx.doc, 'model_name_or_path');
  return [
    finding(
      ctx,
      'unknown-model',
      'error',
      'model_name_or_path',
      show(value),
      value === undefined
        ? 'no model is named, so nothing can be trained or sized'
        : 'not a model this platform knows (lib/recipes/model-catalog.ts), so its memory and cost cannot be estimated',
      `write model_name_or_path: ${Object.keys(MODEL_CATALOG).join(' or ')} (or another Hub repo whose name contains gpt-oss-20b / gpt-oss-120b)`,
    ),
  ];
}

/** Rule `unknown-model`. */
export const unknownModel: LintRule = {
  id: 'unknown-model',
  level: 'error',
  input: 'document',
  description: 'model_name_or_path must be gpt-oss-20b or gpt-oss-120b',
  check: unknownModelRule,
};
