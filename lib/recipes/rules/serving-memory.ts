import type { Finding } from '../findings';
import { finding, gib, type LintContext, type LintRule, show } from './rule-support';

/** The merged bf16 model + KV cache must fit vLLM's budget on the serving GPUs. */
export function servingMemoryRule(ctx: LintContext): Finding[] {
  const { estimate, instance, maxModelLen } = ctx.analysis?.serving ?? {};
  if (!estimate || !instance || estimate.fitsDefaultBudget) return [];
  const written = ctx.doc?.platform.serving?.instance_type;
  const found = written === undefined ? `nothing (derived ${instance.instanceType})` : show(written);
  const detail = `merged bf16 weights ${gib(estimate.weightsPerGpuBytes)} + KV cache ${gib(estimate.kvCachePerGpuBytes)} (max_model_len ${maxModelLen}) + vLLM overhead ${gib(estimate.overheadBytes)} = ${gib(estimate.requiredPerGpuBytes)} per GPU at tensor-parallel ${estimate.tensorParallelDegree}`;
  // the serving container runs vLLM at its default gpu_memory_utilization, so that budget is the real limit.
  const [message, fix] = estimate.fitsGpu
    ? [
        `${detail} exceeds vLLM's default budget (${gib(estimate.vllmBudgetBytes)} = 90% of ${instance.gpu?.memoryGiB} GiB), which the serving container runs with`,
        'choose a larger serving instance or a higher tensor_parallel_degree, or lower max_model_len',
      ]
    : [
        `${detail} does not fit the ${instance.gpu?.memoryGiB} GiB of a ${instance.gpu?.model}`,
        'choose a serving instance with more GPU memory (e.g. ml.g6e.12xlarge for 20b, ml.p5.48xlarge for 120b) or use all its GPUs for tensor parallelism',
      ];
  return [finding(ctx, 'serving-memory', 'error', 'platform.serving.instance_type', found, message, fix)];
}

/** Rule `serving-memory`. */
export const servingMemory: LintRule = {
  id: 'serving-memory',
  level: 'error',
  input: 'document',
  description: 'merged bf16 model + KV cache must fit the serving GPUs',
  check: servingMemoryRule,
};
