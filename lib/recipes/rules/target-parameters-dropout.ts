import { isSet, numberValue, stringListValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** PEFT's ParamWrapper (target_parameters) raises on any lora_dropout other than 0; TRL's default is 0.05. */
export function targetParametersDropoutRule(ctx: LintContext): Finding[] {
  if (!ctx.doc || ctx.doc.use_peft !== true) return [];
  if (stringListValue(ctx.doc, 'lora_target_parameters').length === 0) return [];
  const dropout = numberValue(ctx.doc, 'lora_dropout') ?? 0;
  if (dropout === 0) return [];
  return [
    finding(
      ctx,
      'target-parameters-dropout',
      'error',
      'lora_dropout',
      isSet(ctx.doc, 'lora_dropout') ? show(dropout) : `nothing (TRL default ${dropout})`,
      'LoRA on parameters (lora_target_parameters) does not support dropout: PEFT raises when the adapter is created',
      'write lora_dropout: 0.0',
    ),
  ];
}

/** Rule `target-parameters-dropout`. */
export const targetParametersDropout: LintRule = {
  id: 'target-parameters-dropout',
  level: 'error',
  input: 'document',
  description: 'lora_target_parameters needs lora_dropout: 0',
  check: targetParametersDropoutRule,
};
