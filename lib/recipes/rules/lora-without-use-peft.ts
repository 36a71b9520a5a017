import { type RecipeDocument } from '../../config/recipe-schema';
import { isSet } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** LoRA keys without `use_peft: true` are ignored and the job silently runs a full fine-tune. */
export function peftKeysWithoutUsePeftRule(ctx: LintContext): Finding[] {
  if (!ctx.doc || ctx.doc.use_peft === true) return [];
  const keys = ['lora_target_modules', 'lora_target_parameters', 'lora_modules_to_save', 'lora_r', 'lora_alpha'].filter(
    (k) => isSet(ctx.doc as RecipeDocument, k),
  );
  if (keys.length === 0) return [];
  return [
    finding(
      ctx,
      'lora-without-use-peft',
      'warning',
      'use_peft',
      show(ctx.doc.use_peft),
      `${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} set but use_peft is not true: no adapter is created and every weight is trained (full fine-tune)`,
      'write use_peft: true for LoRA, or remove the lora_* keys for a full fine-tune',
    ),
  ];
}

/** Rule `lora-without-use-peft`. */
export const loraWithoutUsePeft: LintRule = {
  id: 'lora-without-use-peft',
  level: 'warning',
  input: 'document',
  description: 'lora_* keys without use_peft: true run a full fine-tune',
  check: peftKeysWithoutUsePeftRule,
};
