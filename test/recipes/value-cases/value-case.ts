/** One value check of the recipe schema: a value the pinned libraries accept and one they refuse or ignore. */
export interface ValueCase {
  readonly key: string;
  readonly good: unknown;
  readonly bad: unknown;
  /** Matched against the finding's message ("found X; expected …"). */
  readonly message: RegExp;
}

const range = (key: string, good: unknown, bad: unknown, bound: string): ValueCase => ({
  key,
  good,
  bad,
  message: new RegExp(`found ${JSON.stringify(bad)?.replace(/[[\]()+.]/g, '\\$&')}; expected a value ${bound}: \\S`),
});

/** Ranges: every bound in training-code/tools/recipe_field_ranges.py, at and past its edge. */
export const RANGE_CASES: ValueCase[] = [
  range('learning_rate', 2e-4, -2e-4, '> 0'),
  range('learning_rate', 1e-5, 0, '> 0'),
  range('adam_beta1', 0.9, 1, '< 1'),
  range('adam_beta2', 0.95, -0.1, '≥ 0'),
  range('adam_epsilon', 1e-8, -1e-8, '≥ 0'),
  range('weight_decay', 0, -0.01, '≥ 0'),
  range('max_grad_norm', 0, -1, '≥ 0'),
  range('num_train_epochs', 0.5, 0, '> 0'),
  range('max_steps', -1, -2, '≥ -1'),
  range('warmup_steps', 0, -0.1, '≥ 0'),
  range('logging_steps', 0.1, 0, '> 0'),
  range('save_steps', 50, 0, '> 0'),
  range('eval_steps', 0.25, -1, '> 0'),
  range('save_total_limit', 1, 0, '≥ 1'),
  range('per_device_train_batch_size', 2, 0, '≥ 1'),
  range('per_device_eval_batch_size', 1, 0, '≥ 1'),
  range('gradient_accumulation_steps', 1, 0, '≥ 1'),
  range('dataloader_num_workers', 0, -1, '≥ 0'),
  range('dataset_num_proc', 4, 0, '≥ 1'),
  range('seed', 0, -1, '≥ 0'),
  range('seed', 4294967295, 4294967296, '≤ 4294967295'),
  range('data_seed', 42, -5, '≥ 0'),
  range('max_length', 1, 0, '≥ 1'),
  range('label_smoothing_factor', 0.1, 1, '< 1'),
  range('lora_r', 1, 0, '≥ 1'),
  range('lora_alpha', 8, 0, '> 0'),
  range('lora_dropout', 0, 1, '< 1'),
  range('eval_split_size', 200, -0.1, '≥ 0'),
  range('neftune_noise_alpha', 5, 0, '> 0'),
];

const choice = (key: string, good: unknown, bad: unknown, suggestion?: string): ValueCase => ({
  key,
  good,
  bad,
  message: new RegExp(
    `found ${JSON.stringify(bad)?.replace(/[[\]()+.|]/g, '\\$&')}; expected one of .*${suggestion ? `; did you mean ${suggestion}\\?` : ''}`,
  ),
});

/** Choices: Literal/enum types, `choices` metadata, attention implementations, tracking integrations. */
export const CHOICE_CASES: ValueCase[] = [
  choice('packing_strategy', 'bfd_split', 'bdf', 'bfd'),
  choice('packing_strategy', 'wrapped', 'first_fit_decreasing'),
  choice('lr_scheduler_type', 'cosine_with_min_lr', 'cosine_min'),
  choice('lr_scheduler_type', 'constant_with_warmup', 'constant_with_warmpu', 'constant_with_warmup'),
  choice('optim', 'adamw_torch', 'adamw_torhc', 'adamw_torch'),
  choice('dtype', 'bfloat16', 'bf16'),
  choice('dtype', 'auto', 'bfloat61', 'bfloat16'),
  choice('attn_implementation', 'eager', 'eagre', 'eager'),
  choice('report_to', 'tensorboard', 'tensorbord', 'tensorboard'),
  choice('report_to', 'none', 'nothing'),
  choice('truncation_mode', 'keep_start', 'keep_middle'),
  choice('loss_type', 'nll', 'cross_entropy'),
  choice('log_level', 'warning', 'verbose'),
  choice('eval_strategy', 'steps', 'every'),
  choice('save_strategy', 'epoch', 'step', 'steps'),
  choice('dataloader_multiprocessing_context', 'spawn', 'threads'),
  choice('bnb_4bit_quant_type', 'nf4', 'int4'),
  choice('ddp_backend', 'nccl', 'ncll', 'nccl'),
];

/** Values a field accepts in another form: a list for report_to, a Hub kernel for attn_implementation, null. */
export const OTHER_CASES: ValueCase[] = [
  {
    key: 'report_to',
    good: ['tensorboard', 'mlflow'],
    bad: ['tensorboard', 'wandbb'],
    message: /did you mean wandb\?/,
  },
  {
    key: 'attn_implementation',
    good: 'kernels-community/vllm-flash-attn3',
    bad: 'flash attention',
    message: /found "flash attention"; expected one of "eager", .*, or a Hub kernel like "org\/repo"/,
  },
  { key: 'max_length', good: null, bad: 2048.5, message: /found 2048\.5; .*expected int/ },
  { key: 'per_device_train_batch_size', good: 4, bad: 1.5, message: /found 1\.5; .*expected int/ },
];

/** A value of a type no member of a union takes: the message names the types that would do. */
export const TYPE_CASES: ValueCase[] = [
  { key: 'lora_target_modules', good: 'all-linear', bad: 5, message: /^found 5; expected string or array$/ },
  { key: 'use_peft', good: true, bad: 'yes', message: /^found "yes"; .*expected boolean/ },
];
