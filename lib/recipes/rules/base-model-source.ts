import { stringValue } from '../../config/recipe-values';
import { HUB_REPO_ID } from '../../config/staged-model';
import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/**
 * Jobs read the base model from the `model` channel, a copy `stage-model` made of a Hub repo (or, in a VPC with
 * NAT, download the Hub id themselves): a local or S3 path in model_name_or_path reaches neither.
 */
export function baseModelSourceRule(ctx: LintContext): Finding[] {
  const value = ctx.doc ? stringValue(ctx.doc, 'model_name_or_path') : undefined;
  if (value === undefined || HUB_REPO_ID.test(value)) return [];
  return [
    finding(
      ctx,
      'base-model-source',
      'error',
      'model_name_or_path',
      show(value),
      'not a Hugging Face Hub id: jobs get the base model from the `model` channel, which stage-model fills from a ' +
        'Hub repo (lib/config/staged-model.ts), so a path is never there',
      'write the Hub id, e.g. model_name_or_path: openai/gpt-oss-20b (and model_revision to pin a commit), then ' +
        'stage it with npm run cli -- stage-model',
    ),
  ];
}

/** Rule `base-model-source`. */
export const baseModelSource: LintRule = {
  id: 'base-model-source',
  level: 'error',
  input: 'document',
  description: 'model_name_or_path must be a Hub id that stage-model can copy',
  check: baseModelSourceRule,
};
