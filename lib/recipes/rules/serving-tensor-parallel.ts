import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule } from './rule-support';

/** vLLM needs the TP degree to divide the instance's GPUs and the model's attention heads. */
export function servingTensorParallelRule(ctx: LintContext): Finding[] {
  const { instance, tensorParallelDegree: tp } = ctx.analysis?.serving ?? {};
  const model = ctx.analysis?.model;
  const written = ctx.doc?.platform.serving?.tensor_parallel_degree;
  if (!instance || tp === undefined) return [];
  const problems: string[] = [];
  if (tp > instance.gpuCount) problems.push(`it exceeds the ${instance.gpuCount} GPUs of ${instance.instanceType}`);
  else if (instance.gpuCount % tp !== 0)
    problems.push(`it does not divide the ${instance.gpuCount} GPUs of ${instance.instanceType}`);
  if (model && model.numAttentionHeads % tp !== 0) {
    problems.push(`it does not divide the ${model.numAttentionHeads} attention heads of ${model.shortName}`);
  }
  if (problems.length === 0) return [];
  const valid = [1, 2, 4, 8].filter(
    (d) => d <= instance.gpuCount && instance.gpuCount % d === 0 && (!model || model.numAttentionHeads % d === 0),
  );
  return [
    finding(
      ctx,
      'serving-tensor-parallel',
      'error',
      'platform.serving.tensor_parallel_degree',
      written === undefined ? `nothing (all ${tp} GPUs)` : String(tp),
      `${problems.join(' and ')}, so vLLM cannot start`,
      `write platform.serving.tensor_parallel_degree: ${valid[valid.length - 1] ?? 1} (valid here: ${valid.join(', ')}), or omit it to use all GPUs`,
    ),
  ];
}

/** Rule `serving-tensor-parallel`. */
export const servingTensorParallel: LintRule = {
  id: 'serving-tensor-parallel',
  level: 'error',
  input: 'document',
  description: 'tensor_parallel_degree must divide the GPUs and the heads',
  check: servingTensorParallelRule,
};
