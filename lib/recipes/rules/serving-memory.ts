import type { Finding } from '../findings';
import { finding, gib, show, type LintContext, type LintRule } from './rule-support';

/** The merged bf16 model + KV cache must fit the serving GPUs. */
export function servingMemoryRule(ctx: LintContext): Finding[] {
  const serving = ctx.analysis?.serving;
  const instance = ctx.analysis?.servingInstance;
  const block = ctx.doc?.platform.serving;
  if (!serving || !instance || !block) return [];
  if (serving.fitsDefaultBudget) return [];
  const detail = `merged bf16 weights ${gib(serving.weightsPerGpuBytes)} + KV cache ${gib(serving.kvCachePerGpuBytes)} (max_model_len ${block.max_model_len}) + vLLM overhead ${gib(serving.overheadBytes)} = ${gib(serving.requiredPerGpuBytes)} per GPU at tensor-parallel ${serving.tensorParallelDegree}`;
  if (serving.fitsGpu) {
    return [
      finding(
        ctx,
        'serving-memory',
        'error',
        'platform.serving.instance_type',
        show(block.instance_type),
        // the serving container runs vLLM at its default gpu_memory_utilization, so this budget is the real limit
        // (the deploy stage refuses the same recipe at synth).
        `${detail} exceeds vLLM's default budget (${gib(serving.vllmBudgetBytes)} = 90% of ${instance.gpu?.memoryGiB} GiB), which the serving container runs with`,
        'choose a larger serving instance or a higher tensor_parallel_degree, or lower max_model_len',
      ),
    ];
  }
  return [
    finding(
      ctx,
      'serving-memory',
      'error',
      'platform.serving.instance_type',
      show(block.instance_type),
      `${detail} does not fit the ${instance.gpu?.memoryGiB} GiB of a ${instance.gpu?.model}`,
      'choose a serving instance with more GPU memory (e.g. ml.g6e.12xlarge for 20b, ml.p5.48xlarge for 120b) or use all its GPUs for tensor parallelism',
    ),
  ];
}

/** Rule `serving-memory`. */
export const servingMemory: LintRule = {
  id: 'serving-memory',
  level: 'error',
  input: 'document',
  description: 'merged bf16 model + KV cache must fit the serving GPUs',
  check: servingMemoryRule,
};
