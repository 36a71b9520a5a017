import { booleanValue, isSet, numberValue, stringValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/**
 * Key combinations transformers' `TrainingArguments` refuses when the job starts (training_args.py,
 * `__post_init__`): fp16 with bf16, `load_best_model_at_end` with save and eval strategies that differ or save steps
 * that are not a multiple of the eval steps, and a scheduler that steps on the eval loss with evaluation off.
 */
export function trainingArgumentConflictsRule(ctx: LintContext): Finding[] {
  const doc = ctx.doc;
  if (!doc) return [];
  const out: Finding[] = [];
  const add = (key: string, found: string, message: string, fix: string) =>
    out.push(finding(ctx, 'training-argument-conflicts', 'error', key, found, message, fix));

  if (booleanValue(doc, 'fp16') === true && booleanValue(doc, 'bf16') === true) {
    add(
      'fp16',
      'true',
      'fp16 and bf16 are both set; transformers allows at most one',
      'remove fp16 (GPT-OSS trains in bf16)',
    );
  }

  const evalStrategy = stringValue(doc, 'eval_strategy');
  const saveStrategy = stringValue(doc, 'save_strategy');
  if (booleanValue(doc, 'load_best_model_at_end') === true && saveStrategy !== 'best') {
    if (evalStrategy !== saveStrategy) {
      add(
        'save_strategy',
        isSet(doc, 'save_strategy') ? show(saveStrategy) : `nothing (default ${show(saveStrategy)})`,
        `load_best_model_at_end needs the save strategy to match eval_strategy (${show(evalStrategy)})`,
        `write save_strategy: ${evalStrategy} (or save_strategy: best)`,
      );
    } else if (evalStrategy === 'steps') {
      const save = numberValue(doc, 'save_steps');
      const every = numberValue(doc, 'eval_steps') ?? numberValue(doc, 'logging_steps');
      const multiple = (a: number, b: number) => Math.abs(Math.round(a / b) * b - a) < 1e-9 * Math.max(1, a);
      if (save !== undefined && every !== undefined && every > 0 && !multiple(save, every)) {
        add(
          'save_steps',
          show(save),
          `load_best_model_at_end needs save_steps to be a multiple of eval_steps (${every})`,
          `write save_steps: ${Math.max(1, Math.round(save / every)) * every}`,
        );
      }
    }
  }

  const scheduler = stringValue(doc, 'lr_scheduler_type');
  if ((scheduler === 'reduce_lr_on_plateau' || scheduler === 'greedy') && evalStrategy === 'no') {
    add(
      'lr_scheduler_type',
      show(scheduler),
      `${scheduler} steps on the eval loss, but eval_strategy is "no"`,
      'write eval_strategy: epoch (or steps with eval_steps), or another scheduler',
    );
  }
  return out;
}

/** Rule `training-argument-conflicts`. */
export const trainingArgumentConflicts: LintRule = {
  id: 'training-argument-conflicts',
  level: 'error',
  input: 'document',
  description:
    'key combinations TrainingArguments refuses at job start (fp16+bf16, load_best_model_at_end, eval-driven schedulers)',
  check: trainingArgumentConflictsRule,
};
