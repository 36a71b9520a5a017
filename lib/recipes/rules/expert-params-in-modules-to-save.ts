import { stringListValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { EXPERT_PARAMETER_PATTERN } from '../lora-targets';
import { modelParameters } from '../model-catalog';
import { asYaml, finding, show, type LintContext, type LintRule } from './rule-support';

/** Expert weights are `nn.Parameter`s; naming them in modules_to_save matches nothing, so they are never trained. */
export function expertParamsInModulesToSaveRule(ctx: LintContext): Finding[] {
  if (!ctx.doc) return [];
  const listed = stringListValue(ctx.doc, 'lora_modules_to_save');
  const lora = ctx.analysis?.lora;
  const model = ctx.analysis?.model;
  const params = model ? modelParameters(model) : [];
  const isParameter = (name: string) =>
    model
      ? lora?.unmatchedModulesToSave.includes(name) === true &&
        params.some((p) => p.bareParameter && (p.name === name || p.name.endsWith(`.${name}`)))
      : EXPERT_PARAMETER_PATTERN.test(name);
  const wrong = listed.filter(isParameter);
  if (wrong.length === 0) return [];
  return [
    finding(
      ctx,
      'expert-params-in-modules-to-save',
      'error',
      'lora_modules_to_save',
      show(wrong),
      'these are expert/router tensors (nn.Parameter), not modules: modules_to_save matches nothing and the experts are not trained',
      `move them to lora_target_parameters: ${asYaml(wrong)} (with lora_dropout: 0.0) and remove them from lora_modules_to_save`,
    ),
  ];
}

/** Rule `expert-params-in-modules-to-save`. */
export const expertParamsInModulesToSave: LintRule = {
  id: 'expert-params-in-modules-to-save',
  level: 'error',
  input: 'document',
  description: 'expert tensors in lora_modules_to_save train nothing',
  check: expertParamsInModulesToSaveRule,
};
