import { INSTALLED_REPORT_TO } from '../../config/recipe-schema';
import { stringListValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { asYaml, finding, type LintContext, type LintRule } from './rule-support';

/**
 * The training job reports to MLflow (when the platform passes a tracking server) or TensorBoard, whatever the
 * recipe's `report_to` says (training-code/gpt_oss_train/tracking.py `configure_reporting`): other integrations,
 * such as trackio (TRL's own default in its example recipes) or wandb, are not installed in the training image.
 * Said here so that the swap is no surprise after the run.
 */
export function reportToReplacedRule(ctx: LintContext): Finding[] {
  const asked = stringListValue(ctx.raw, 'report_to');
  const swapped = asked.filter((name) => !['none', 'all', ...INSTALLED_REPORT_TO].includes(name));
  if (swapped.length === 0) return [];
  return [
    finding(
      ctx,
      'report-to-replaced',
      'warning',
      'report_to',
      asYaml(ctx.raw.report_to),
      `${swapped.join(', ')} ${swapped.length === 1 ? 'is' : 'are'} not installed in the training image; the job ` +
        `reports to MLflow (with the platform's tracking server) or TensorBoard instead`,
      `write report_to: ${INSTALLED_REPORT_TO.includes('tensorboard') ? 'tensorboard' : INSTALLED_REPORT_TO[0]} ` +
        `(installed: ${INSTALLED_REPORT_TO.join(', ')}), or remove it`,
    ),
  ];
}

/** Rule `report-to-replaced`. */
export const reportToReplaced: LintRule = {
  id: 'report-to-replaced',
  level: 'warning',
  input: 'raw',
  description: 'report_to integrations the training image does not install are swapped for MLflow/TensorBoard',
  check: reportToReplacedRule,
};
