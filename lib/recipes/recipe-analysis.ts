import type { AppConfig } from '../config/app-config';
import type { LoadedRecipe } from '../config/load-recipes';
import type { PlatformBlock, RecipeDocument } from '../config/recipe-schema';
import {
  booleanValue,
  bytesPerWeight,
  modelDtype,
  numberValue,
  requiredNumberValue,
  stringListValue,
  stringValue,
} from '../config/recipe-values';
import {
  findInstance,
  gpuTrainingInstancesByPrice,
  type InstanceSpec,
  instancePrice,
  isGpuTrainingInstance,
  type PriceQuote,
} from './instance-catalog';
import { type LoraResolution, resolveLoraTargets } from './lora-targets';
import {
  estimateTrainingMemory,
  GiB,
  type OptimizerFamily,
  type Sharding,
  type TrainingMemoryEstimate,
  type TrainingShape,
} from './memory-estimator';
import { type GptOssModelSpec, resolveModel } from './model-catalog';
import { estimateRun, type RunEstimate, trainingTokens } from './run-estimator';
import { resolveServingTarget, type ServingTarget } from './serving-target';

/**
 * Everything the lint rules and the report derive from one recipe: resolved model and instances, what LoRA
 * reaches, and the memory / run / serving estimates. Computed once per recipe; pure.
 */

/** Estimated peak above this share of GPU memory is reported as tight (a warning); above 100% it is an error. */
export const TIGHT_MEMORY_SHARE = 0.9;

export type MethodLabel = 'full' | 'LoRA attn' | 'LoRA attn+experts' | 'LoRA experts' | 'LoRA (no targets)';

export interface RecipeAnalysis {
  readonly model?: GptOssModelSpec;
  readonly instance?: InstanceSpec;
  readonly method: MethodLabel;
  readonly lora?: LoraResolution;
  readonly worldSize: number;
  readonly shape?: TrainingShape;
  readonly memory?: TrainingMemoryEstimate;
  /** GPU memory available per GPU on the training instance, GiB. */
  readonly availableGiB?: number;
  readonly price?: PriceQuote;
  readonly run?: RunEstimate;
  /** Where the model is served: the recipe's serving block, or the derived default. */
  readonly serving: ServingTarget;
}

/** A recipe with its analysis: what the stacks build from (the serving plan reads `analysis.serving`). */
export interface AnalyzedRecipe extends LoadedRecipe {
  readonly analysis: RecipeAnalysis;
}

export function shardingOf(distribution: PlatformBlock['training']['distribution']): Sharding {
  switch (distribution) {
    case 'zero3':
      return 'sharded';
    case 'zero3-offload':
      return 'sharded-offload';
    default:
      return 'replicated';
  }
}

export function optimizerFamily(optim: string | undefined): OptimizerFamily {
  const name = optim ?? 'adamw_torch_fused';
  if (/(8bit|4bit)/.test(name)) return 'adamw-8bit';
  if (name.includes('adafactor')) return 'adafactor';
  if (name === 'sgd' || name.includes('lomo')) return 'sgd';
  return 'adamw';
}

/**
 * What `attn_implementation` means for memory: eager (and unset, which resolves to eager for GPT-OSS), the training
 * code's chunked eager (`gpt_oss_chunked`), or a fused kernel.
 */
export function attentionKind(attn: string | undefined): TrainingShape['attention'] {
  if (attn === undefined || attn === 'eager') return 'eager';
  return attn === 'gpt_oss_chunked' ? 'chunked' : 'memory-efficient';
}

export function loraResolution(doc: RecipeDocument, model: GptOssModelSpec): LoraResolution {
  return resolveLoraTargets(model, {
    usePeft: booleanValue(doc, 'use_peft') === true,
    r: numberValue(doc, 'lora_r') ?? 16,
    targetModules: stringListValue(doc, 'lora_target_modules'),
    targetParameters: stringListValue(doc, 'lora_target_parameters'),
    modulesToSave: stringListValue(doc, 'lora_modules_to_save'),
  });
}

/** The estimator's view of a recipe on a given instance shape (GPUs per instance × instance count). */
export function trainingShape(
  doc: RecipeDocument,
  model: GptOssModelSpec,
  lora: LoraResolution,
  gpusPerNode: number,
  instanceCount: number,
  distribution: PlatformBlock['training']['distribution'],
): TrainingShape {
  const usePeft = booleanValue(doc, 'use_peft') === true;
  const sharding = shardingOf(distribution);
  const maxLength = numberValue(doc, 'max_length');
  return {
    model,
    method: usePeft ? 'lora' : 'full',
    weightBytes: bytesPerWeight(modelDtype(doc)),
    loraParams: lora.loraParams,
    modulesToSaveParams: lora.modulesToSaveParams,
    sharding,
    worldSize: gpusPerNode * instanceCount,
    gpusPerNode,
    fp32MasterWeights: sharding !== 'replicated',
    optimizer: optimizerFamily(stringValue(doc, 'optim')),
    microBatch: numberValue(doc, 'per_device_train_batch_size') ?? 8,
    // max_length: null means no truncation; size for the data's mean length, but never below TRL's 1024.
    seqLen: maxLength ?? Math.max(1024, doc.platform.data.avg_tokens_per_example),
    gradientCheckpointing: booleanValue(doc, 'gradient_checkpointing') !== false,
    activationOffloading: booleanValue(doc, 'activation_offloading') === true,
    attention: attentionKind(stringValue(doc, 'attn_implementation')),
    // The pinned TRL computes the loss through a chunked LM head unless label smoothing needs the full logits.
    loss: (numberValue(doc, 'label_smoothing_factor') ?? 0) > 0 ? 'full' : 'chunked',
    mergeAdapter: usePeft && booleanValue(doc, 'merge_adapter') !== false,
  };
}

function methodLabel(doc: RecipeDocument, lora: LoraResolution | undefined): MethodLabel {
  if (booleanValue(doc, 'use_peft') !== true) return 'full';
  if (!lora) return 'LoRA attn';
  const attn = lora.adaptedModules.length > 0;
  if (attn && lora.touchesExperts) return 'LoRA attn+experts';
  if (attn) return 'LoRA attn';
  if (lora.touchesExperts) return 'LoRA experts';
  return 'LoRA (no targets)';
}

/** True when the estimate fits the instance with the headroom the suggestion requires. */
function fitsComfortably(memory: TrainingMemoryEstimate, instance: InstanceSpec): boolean {
  const gpu = instance.gpu;
  if (!gpu) return false;
  return (
    memory.perGpuGiB <= gpu.memoryGiB * TIGHT_MEMORY_SHARE && memory.hostBytesPerNode <= instance.hostMemoryGiB * GiB
  );
}

export interface InstanceSuggestion {
  readonly instance: InstanceSpec;
  readonly distribution: PlatformBlock['training']['distribution'];
  readonly memory: TrainingMemoryEstimate;
  readonly price: PriceQuote;
}

/**
 * The cheapest GPU training instance (by hourly price) on which the recipe's estimate fits under
 * {@link TIGHT_MEMORY_SHARE} of GPU memory, keeping its instance count. Single-GPU recipes look at single-GPU
 * types first, then at ZeRO-3 on multi-GPU types; distributed recipes keep their distribution.
 */
export function suggestTrainingInstance(
  doc: RecipeDocument,
  model: GptOssModelSpec,
  prices: Readonly<Record<string, number>> = {},
): InstanceSuggestion | undefined {
  const lora = loraResolution(doc, model);
  const count = doc.platform.training.instance_count;
  const distribution = doc.platform.training.distribution;
  const candidates = gpuTrainingInstancesByPrice(prices).filter((i) => i.gpu?.bf16);
  const attempts: [PlatformBlock['training']['distribution'], (i: InstanceSpec) => boolean][] =
    distribution === 'single-gpu' && count === 1
      ? [
          ['single-gpu', (i) => i.gpuCount === 1],
          ['zero3', (i) => i.gpuCount > 1],
        ]
      : [[distribution, (i) => i.gpuCount > 1 || count > 1]];
  for (const [dist, accept] of attempts) {
    for (const instance of candidates.filter(accept)) {
      const memory = estimateTrainingMemory(trainingShape(doc, model, lora, instance.gpuCount, count, dist));
      if (fitsComfortably(memory, instance)) {
        return { instance, distribution: dist, memory, price: instancePrice(instance, prices) };
      }
    }
  }
  return undefined;
}

/** Analyses a schema-valid recipe. Unknown model or instance leave the dependent estimates undefined. */
export function analyzeRecipe(doc: RecipeDocument, config: Pick<AppConfig, 'prices'>): RecipeAnalysis {
  const training = doc.platform.training;
  const model = resolveModel(stringValue(doc, 'model_name_or_path'));
  const found = findInstance(training.instance_type);
  const instance = found && isGpuTrainingInstance(found) ? found : undefined;
  const lora = model ? loraResolution(doc, model) : undefined;
  const method = methodLabel(doc, lora);
  const gpusPerNode = instance?.gpuCount ?? 0;
  const worldSize = gpusPerNode * training.instance_count;

  let shape: TrainingShape | undefined;
  let memory: TrainingMemoryEstimate | undefined;
  let run: RunEstimate | undefined;
  const price = found ? instancePrice(found, config.prices) : undefined;
  if (model && lora && instance?.gpu) {
    shape = trainingShape(doc, model, lora, gpusPerNode, training.instance_count, training.distribution);
    memory = estimateTrainingMemory(shape);
    const data = doc.platform.data;
    const tokens = trainingTokens({
      examples: data.examples,
      avgTokensPerExample: data.avg_tokens_per_example,
      evalSplit: numberValue(doc, 'eval_split_size') ?? 0,
      epochs: requiredNumberValue(doc, 'num_train_epochs'),
      maxSteps: requiredNumberValue(doc, 'max_steps'),
      maxLength: shape.seqLen,
      packing: booleanValue(doc, 'packing') === true,
      globalBatch: shape.microBatch * (numberValue(doc, 'gradient_accumulation_steps') ?? 1) * worldSize,
    });
    run = estimateRun({
      model,
      method: shape.method,
      gpu: instance.gpu,
      gpusPerNode,
      instanceCount: training.instance_count,
      sharding: shape.sharding,
      gradientCheckpointing: shape.gradientCheckpointing,
      trainingTokens: tokens,
      price: price as PriceQuote,
      spot: training.spot,
    });
  }

  return {
    model,
    instance,
    method,
    lora,
    worldSize,
    shape,
    memory,
    availableGiB: instance?.gpu?.memoryGiB,
    price,
    run,
    serving: resolveServingTarget(doc, model, config.prices),
  };
}

/** A loaded recipe with its analysis (what `loadValidatedRecipes` returns, without the lint verdict). */
export function analyzeLoadedRecipe(recipe: LoadedRecipe, config: Pick<AppConfig, 'prices'>): AnalyzedRecipe {
  return { ...recipe, analysis: analyzeRecipe(recipe.document, config) };
}
