import type { Finding } from '../findings';
import { suggestTrainingInstance, TIGHT_MEMORY_SHARE } from '../recipe-analysis';
import { finding, gib, show, type LintContext, type LintRule } from './rule-support';

/** The estimated per-GPU peak must fit the training GPUs. */
export function gpuMemoryRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  if (!ctx.doc || !a?.memory || !a.instance?.gpu || !a.model) return [];
  const available = a.instance.gpu.memoryGiB;
  const peak = a.memory.perGpuGiB;
  if (peak <= available * TIGHT_MEMORY_SHARE) return [];
  const top = [...a.memory.components]
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, 3)
    .map((c) => `${c.label} ${gib(c.bytes)}`)
    .join(', ');
  const t = ctx.doc.platform.training;
  if (peak <= available) {
    return [
      finding(
        ctx,
        'gpu-memory',
        'warning',
        'platform.training.instance_type',
        show(t.instance_type),
        `estimated peak ${peak.toFixed(1)} GiB per GPU is over ${TIGHT_MEMORY_SHARE * 100}% of the ${available} GiB available (${top}): little headroom for longer batches`,
        'lower per_device_train_batch_size or max_length, or choose a larger GPU',
      ),
    ];
  }
  const suggestion = suggestTrainingInstance(ctx.doc, a.model, ctx.config.prices);
  const fix = suggestion
    ? `write platform.training.instance_type: ${suggestion.instance.instanceType}${suggestion.distribution !== t.distribution ? ` with distribution: ${suggestion.distribution}` : ''} (est. ${suggestion.memory.perGpuGiB.toFixed(1)} of ${suggestion.instance.gpu?.memoryGiB} GiB, $${suggestion.price.usdPerHour.toFixed(2)}/h), or lower per_device_train_batch_size / max_length`
    : 'shard the model (distribution: zero3 on more GPUs or instances), or lower per_device_train_batch_size / max_length';
  return [
    finding(
      ctx,
      'gpu-memory',
      'error',
      'platform.training.instance_type',
      show(t.instance_type),
      `estimated peak ${peak.toFixed(1)} GiB per GPU exceeds the ${available} GiB of its ${a.instance.gpu.model} (${top})`,
      fix,
    ),
  ];
}

/** Rule `gpu-memory`. */
export const gpuMemory: LintRule = {
  id: 'gpu-memory',
  level: 'error',
  input: 'document',
  description: 'estimated peak GPU memory over the GPU (error) or over 90% (warning)',
  check: gpuMemoryRule,
};
