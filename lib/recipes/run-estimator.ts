import type { GpuSpec } from './gpu-catalog';
import type { PriceQuote } from './instance-catalog';
import type { Sharding, TrainingShape } from './memory-estimator';
import { type GptOssModelSpec, MODEL_CATALOG } from './model-catalog';

/**
 * Run time and cost of one training run, from the token count and a throughput assumption calibrated to one
 * published point: the OpenAI cookbook's gpt-oss-20b LoRA on 1×H100 takes about 18 min for 1000 examples and
 * 1 epoch (docs/facts/training.md §5). Everything else is scaled from there by stated factors.
 */

export const RUN_CONSTANTS = {
  /** Cookbook point: 1000 examples × 1 epoch ≈ 18 min on 1×H100 (gradient checkpointing on). */
  calibrationExamples: 1000,
  /** Mean tokens per example assumed for the cookbook run (the cookbook does not publish it). */
  calibrationTokensPerExample: 1024,
  calibrationMinutes: 18,
  /** Full fine-tuning computes weight gradients too: ~6·N vs ~4·N FLOPs per token. */
  fullFineTuneFactor: 4 / 6,
  /** Gradient checkpointing recomputes the forward pass (≈ +1/3 compute); without it a step is ≈ 4/3 faster. */
  noCheckpointingFactor: 4 / 3,
  /** Per-GPU efficiency of a multi-GPU job relative to one GPU. */
  scaling: { replicated: 0.9, shardedSingleNode: 0.75, shardedMultiNode: 0.6, offload: 0.35 },
  /** Billable minutes outside the training loop: image pull, weight download, load/dequantize, merge, upload. */
  setupHoursByModel: { 'openai/gpt-oss-20b': 0.25, 'openai/gpt-oss-120b': 0.75 } as Record<string, number>,
} as const;

/** Tokens/s of gpt-oss-20b LoRA on one H100, derived from the cookbook point. */
export const CALIBRATED_TOKENS_PER_SECOND =
  (RUN_CONSTANTS.calibrationExamples * RUN_CONSTANTS.calibrationTokensPerExample) /
  (RUN_CONSTANTS.calibrationMinutes * 60);

export const RUN_ASSUMPTIONS: readonly string[] = [
  `throughput: ${CALIBRATED_TOKENS_PER_SECOND.toFixed(0)} tokens/s for gpt-oss-20b LoRA on 1×H100 (cookbook: 1000 examples × 1 epoch ≈ 18 min, assuming 1024 tokens/example)`,
  'scaled by GPU (relative throughput in the instance catalog: A10G 0.12, L4 0.1, L40S 0.3, A100 0.45–0.5, H100 1, H200 1.15, B200 1.8), by model (inverse of active parameters: 120b ≈ 0.71 × 20b), full fine-tune × 2/3, no gradient checkpointing × 4/3',
  'multi-GPU efficiency per GPU: DDP 0.9, ZeRO-3 0.75 on one node and 0.6 across nodes, ZeRO-3 offload 0.35',
  'tokens = examples × (1 − eval share) × avg_tokens_per_example (capped at max_length without packing) × num_train_epochs, or max_steps × global batch × max_length',
  'billable setup/teardown outside the training loop: 0.25 h (20b) / 0.75 h (120b); evaluation time not included',
  'cost = hours × on-demand price × instance_count; with spot the bill is lower by the spot discount (varies, not guaranteed)',
  'conservative: raw optimizer steps of 20b LoRA measured 2.1-3.4k tokens/s on one H200 (test/recipes/gpu/measured-h200.json; random tokens, no data loading or evaluation), 2-3x the calibrated rate',
];

/** A measured training rate of one code path (attention implementation) on one card. */
export interface MeasuredRate {
  readonly modelHubId: string;
  readonly method: 'lora' | 'full';
  readonly attention: TrainingShape['attention'];
  readonly card: string;
  /** UTC date of the measurement. */
  readonly date: string;
  readonly tokensPerSecond: number;
  readonly what: string;
  readonly source: string;
}

/**
 * Measured rates by attention path. Only paths measured on a GPU appear here; the report says "not measured" for
 * the others instead of inventing a rate. The memory-lean attention (flex_attention) has not been measured yet:
 * training-code/benchmarks/side_by_side.py prints the numbers to add here.
 */
export const MEASURED_RATES: readonly MeasuredRate[] = [
  {
    modelHubId: 'openai/gpt-oss-20b',
    method: 'lora',
    attention: 'eager',
    card: 'NVIDIA H200',
    date: '2026-11-27',
    tokensPerSecond: 3434,
    what: 'gpt-oss-20b LoRA (attention + experts), micro-batch 2 × 2048 tokens, raw optimizer steps',
    source: 'test/recipes/gpu/measured-h200.json',
  },
];

/** The measured rates of a model, method and attention path (empty when that combination has not been measured). */
export function measuredRatesFor(
  modelHubId: string,
  method: MeasuredRate['method'],
  attention: MeasuredRate['attention'],
): readonly MeasuredRate[] {
  return MEASURED_RATES.filter((r) => r.modelHubId === modelHubId && r.method === method && r.attention === attention);
}

export interface RunInput {
  readonly model: GptOssModelSpec;
  readonly method: 'lora' | 'full';
  readonly gpu: GpuSpec;
  readonly gpusPerNode: number;
  readonly instanceCount: number;
  readonly sharding: Sharding;
  readonly gradientCheckpointing: boolean;
  readonly trainingTokens: number;
  readonly price: PriceQuote;
  readonly spot: boolean;
}

export interface RunEstimate {
  readonly trainingTokens: number;
  /** Whole-job tokens per second. */
  readonly tokensPerSecond: number;
  readonly trainingHours: number;
  readonly setupHours: number;
  readonly totalHours: number;
  /** On-demand cost of the run (an upper bound when spot is on). */
  readonly costUsd: number;
  readonly spot: boolean;
  readonly price: PriceQuote;
}

/** Tokens the run trains on, from the recipe's data size and schedule. */
export interface TokenInput {
  readonly examples: number;
  readonly avgTokensPerExample: number;
  /** `eval_split_size`: a share in (0, 1), a row count when ≥ 1, 0 for none. */
  readonly evalSplit: number;
  readonly epochs: number;
  readonly maxSteps: number;
  readonly maxLength: number;
  readonly packing: boolean;
  /** per_device_train_batch_size × gradient_accumulation_steps × total GPUs. */
  readonly globalBatch: number;
}

export function trainingTokens(input: TokenInput): number {
  if (input.maxSteps > 0) return input.maxSteps * input.globalBatch * input.maxLength;
  const heldOut = input.evalSplit >= 1 ? input.evalSplit : input.examples * input.evalSplit;
  const trainExamples = Math.max(0, input.examples - heldOut);
  const perExample = input.packing ? input.avgTokensPerExample : Math.min(input.avgTokensPerExample, input.maxLength);
  return trainExamples * perExample * input.epochs;
}

function scalingEfficiency(input: RunInput): number {
  const world = input.gpusPerNode * input.instanceCount;
  if (world === 1) return 1;
  const s = RUN_CONSTANTS.scaling;
  if (input.sharding === 'replicated') return s.replicated;
  if (input.sharding === 'sharded-offload') return s.offload;
  return input.instanceCount > 1 ? s.shardedMultiNode : s.shardedSingleNode;
}

export function estimateRun(input: RunInput): RunEstimate {
  const reference = MODEL_CATALOG['openai/gpt-oss-20b'];
  const modelFactor = reference.publishedActiveParams / input.model.publishedActiveParams;
  const methodFactor = input.method === 'full' ? RUN_CONSTANTS.fullFineTuneFactor : 1;
  const gcFactor = input.gradientCheckpointing ? 1 : RUN_CONSTANTS.noCheckpointingFactor;
  const world = input.gpusPerNode * input.instanceCount;
  const tokensPerSecond =
    CALIBRATED_TOKENS_PER_SECOND *
    input.gpu.relativeTrainingThroughput *
    modelFactor *
    methodFactor *
    gcFactor *
    world *
    scalingEfficiency(input);
  const trainingHours = input.trainingTokens / tokensPerSecond / 3600;
  const setupHours = RUN_CONSTANTS.setupHoursByModel[input.model.hubId] ?? 0.5;
  const totalHours = trainingHours + setupHours;
  return {
    trainingTokens: input.trainingTokens,
    tokensPerSecond,
    trainingHours,
    setupHours,
    totalHours,
    costUsd: totalHours * input.price.usdPerHour * input.instanceCount,
    spot: input.spot,
    price: input.price,
  };
}
