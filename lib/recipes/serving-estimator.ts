import type { InstanceSpec } from './instance-catalog';
import { GiB } from './memory-estimator';
import { type GptOssModelSpec, totalParameters } from './model-catalog';

/**
 * Per-GPU memory of serving the merged (bf16, not MXFP4) fine-tuned model with vLLM: weights split over the
 * tensor-parallel group, the KV cache of one full-length sequence, and vLLM's runtime overhead, against vLLM's
 * default `gpu_memory_utilization` budget.
 */

export const SERVING_CONSTANTS = {
  /** vLLM's default share of GPU memory it may use. */
  gpuMemoryUtilization: 0.9,
  /** CUDA context, CUDA graphs, sampler and activation buffers of the vLLM worker. */
  runtimeOverheadBytes: 2 * GiB,
  /** Merged LoRA output is bf16 (docs/facts/aws.md §2: ~42 GB for 20B, ~234 GB for 120B). */
  weightBytes: 2,
} as const;

export const SERVING_ASSUMPTIONS: readonly string[] = [
  'the merged model is bf16 (2 bytes/param), split evenly over the tensor-parallel GPUs',
  'KV cache for one sequence of max_model_len on every layer (sliding-window layers not discounted), bf16',
  'vLLM overhead 2 GiB per GPU; budget = 90% of GPU memory (vLLM gpu_memory_utilization default)',
];

export interface ServingEstimate {
  readonly tensorParallelDegree: number;
  readonly weightsPerGpuBytes: number;
  readonly kvCachePerGpuBytes: number;
  readonly overheadBytes: number;
  readonly requiredPerGpuBytes: number;
  readonly gpuMemoryBytes: number;
  /** What vLLM allows itself with the default gpu_memory_utilization. */
  readonly vllmBudgetBytes: number;
  /** Fits within vLLM's default budget. */
  readonly fitsDefaultBudget: boolean;
  /** Fits in the GPU at all (may need a higher gpu_memory_utilization). */
  readonly fitsGpu: boolean;
}

/** KV-cache bytes per token for the whole model (K and V, every layer, bf16). */
export function kvCacheBytesPerToken(model: GptOssModelSpec): number {
  return model.numHiddenLayers * 2 * model.numKeyValueHeads * model.headDim * 2;
}

export function estimateServingMemory(
  model: GptOssModelSpec,
  instance: InstanceSpec,
  tensorParallelDegree: number,
  maxModelLen: number,
): ServingEstimate {
  const c = SERVING_CONSTANTS;
  const tp = Math.max(1, tensorParallelDegree);
  const weightsPerGpuBytes = (totalParameters(model) * c.weightBytes) / tp;
  // KV heads split over TP; past the number of KV heads vLLM replicates them (one head per GPU).
  const kvHeadShare = Math.max(1, model.numKeyValueHeads / tp) / model.numKeyValueHeads;
  const kvCachePerGpuBytes = kvCacheBytesPerToken(model) * maxModelLen * kvHeadShare;
  const requiredPerGpuBytes = weightsPerGpuBytes + kvCachePerGpuBytes + c.runtimeOverheadBytes;
  const gpuMemoryBytes = (instance.gpu?.memoryGiB ?? 0) * GiB;
  const vllmBudgetBytes = gpuMemoryBytes * c.gpuMemoryUtilization;
  return {
    tensorParallelDegree: tp,
    weightsPerGpuBytes,
    kvCachePerGpuBytes,
    overheadBytes: c.runtimeOverheadBytes,
    requiredPerGpuBytes,
    gpuMemoryBytes,
    vllmBudgetBytes,
    fitsDefaultBudget: requiredPerGpuBytes <= vllmBudgetBytes,
    fitsGpu: requiredPerGpuBytes <= gpuMemoryBytes,
  };
}
