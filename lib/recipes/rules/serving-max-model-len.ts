import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** vLLM refuses a max_model_len above the model's position embeddings. */
export function servingMaxModelLenRule(ctx: LintContext): Finding[] {
  const model = ctx.analysis?.model;
  const maxModelLen = ctx.analysis?.serving.maxModelLen;
  if (!model || maxModelLen === undefined || maxModelLen <= model.maxPositionEmbeddings) return [];
  return [
    finding(
      ctx,
      'serving-max-model-len',
      'error',
      'platform.serving.max_model_len',
      String(maxModelLen),
      `${model.shortName} supports at most ${model.maxPositionEmbeddings} tokens`,
      `write platform.serving.max_model_len: ${model.maxPositionEmbeddings} or less`,
    ),
  ];
}

/** Rule `serving-max-model-len`. */
export const servingMaxModelLen: LintRule = {
  id: 'serving-max-model-len',
  level: 'error',
  input: 'document',
  description: "max_model_len must not exceed the model's context length",
  check: servingMaxModelLenRule,
};
