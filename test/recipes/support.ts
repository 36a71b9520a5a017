import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { Finding } from '../../lib/recipes/findings';
import { type RecipeValidation, validateRecipeFile, type ValidateOptions } from '../../lib/recipes/validate-recipe';

/** Naming and prices of a default deployment, as the app config's defaults give them. */
export const CONFIG = { namePrefix: 'gptoss', stage: 'dev', prices: {} as Record<string, number> };

/**
 * A recipe every lint rule passes: gpt-oss-20b LoRA (attention + expert layers) on 1×H100, spot with checkpoints
 * and max wait, quality gate with evaluation, a serving block that fits. Tests mutate a fresh copy.
 */
export interface TestRecipe {
  [key: string]: unknown;
  platform: {
    training: Record<string, unknown>;
    data?: Record<string, unknown>;
    quality_gate?: Record<string, unknown>;
    serving?: Record<string, unknown>;
    approval?: string;
  };
}

export function goodRecipe(): TestRecipe {
  return {
    model_name_or_path: 'openai/gpt-oss-20b',
    dtype: 'bfloat16',
    attn_implementation: 'eager',
    dataset_name: 'HuggingFaceH4/Multilingual-Thinking',
    eval_split_size: 0.1,
    use_peft: true,
    lora_r: 8,
    lora_alpha: 16,
    lora_dropout: 0.0,
    lora_target_modules: 'all-linear',
    lora_target_parameters: ['7.mlp.experts.gate_up_proj', '7.mlp.experts.down_proj'],
    learning_rate: 2.0e-4,
    num_train_epochs: 1,
    per_device_train_batch_size: 1,
    gradient_accumulation_steps: 8,
    gradient_checkpointing: true,
    max_length: 2048,
    warmup_steps: 0.03,
    bf16: true,
    eval_strategy: 'epoch',
    save_strategy: 'steps',
    save_steps: 10,
    platform: {
      training: {
        instance_type: 'ml.p5.4xlarge',
        distribution: 'single-gpu',
        spot: true,
        checkpoints: true,
        max_runtime_seconds: 14400,
        max_wait_seconds: 28800,
      },
      quality_gate: { max_eval_loss: 1.6 },
      serving: { instance_type: 'ml.g5.12xlarge', tensor_parallel_degree: 4, max_model_len: 8192 },
      approval: 'manual',
    },
  };
}

/** Writes `doc` as `<name>.yaml` in a fresh temporary directory and returns the file path. */
export function writeRecipe(doc: unknown, name = 'good-recipe', dir?: string): string {
  const target = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'recipes-'));
  const file = path.join(target, `${name}.yaml`);
  fs.writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc));
  return file;
}

/** Validates `doc` as a recipe file named `<name>.yaml`. */
export function validate(doc: unknown, name = 'good-recipe', options: ValidateOptions = {}): RecipeValidation {
  return validateRecipeFile(writeRecipe(doc, name), CONFIG, options);
}

export function findingsOf(v: RecipeValidation, rule: string): Finding[] {
  return v.findings.filter((f) => f.rule === rule);
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
