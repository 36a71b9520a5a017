import type { Finding } from '../findings';
import { GiB } from '../memory-estimator';
import { finding, gib, show, type LintContext, type LintRule } from './rule-support';

/** Host RAM: offloaded ZeRO-3 state must fit; the LoRA merge builds the bf16 model in host RAM. */
export function hostMemoryRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  if (!ctx.doc || !a?.memory || !a.instance) return [];
  const ram = a.instance.hostMemoryGiB * GiB;
  const [processes, offloaded, merge] = a.memory.hostComponents;
  const out: Finding[] = [];
  if (processes.bytes + offloaded.bytes > ram) {
    out.push(
      finding(
        ctx,
        'host-memory',
        'error',
        'platform.training.distribution',
        show(ctx.doc.platform.training.distribution),
        `estimated host RAM for training ${gib(processes.bytes + offloaded.bytes)} per instance (offloaded state ${gib(offloaded.bytes)}) exceeds the ${a.instance.hostMemoryGiB} GiB of ${a.instance.instanceType}`,
        'write distribution: zero3 (no offload), or choose an instance with more host RAM / more instances',
      ),
    );
  }
  if (merge.bytes > 0 && merge.bytes + processes.bytes / a.instance.gpuCount > ram) {
    out.push(
      finding(
        ctx,
        'host-memory',
        'warning',
        'merge_adapter',
        'true',
        `the LoRA merge builds the ${gib(merge.bytes)} bf16 model in host RAM, more than the ${a.instance.hostMemoryGiB} GiB of ${a.instance.instanceType}`,
        'choose an instance with more host RAM, or write merge_adapter: false and serve the adapter',
      ),
    );
  }
  return out;
}

/** Rule `host-memory`. */
export const hostMemory: LintRule = {
  id: 'host-memory',
  level: 'error',
  input: 'document',
  description: 'offloaded state or the LoRA merge over host RAM',
  check: hostMemoryRule,
};
