import type { Finding } from '../findings';
import { findInstance, isGpuHostingInstance } from '../instance-catalog';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** The serving instance must be a SageMaker hosting type with NVIDIA GPUs (vLLM). */
export function servingInstanceRule(ctx: LintContext): Finding[] {
  const serving = ctx.doc?.platform.serving;
  if (!serving) return [];
  const instance = findInstance(serving.instance_type);
  if (instance && isGpuHostingInstance(instance)) return [];
  const why = !instance
    ? 'unknown instance type (not in lib/recipes/instance-catalog.ts)'
    : !instance.hosting
      ? 'not a SageMaker endpoint instance type'
      : `not a GPU hosting type (${instance.accelerator}); the vLLM serving container needs NVIDIA GPUs`;
  return [
    finding(
      ctx,
      'serving-instance',
      'error',
      'platform.serving.instance_type',
      show(serving.instance_type),
      why,
      'write a GPU endpoint type such as ml.g6e.12xlarge (4×L40S), ml.g5.12xlarge (4×A10G) or ml.p5.48xlarge (8×H100)',
    ),
  ];
}

/** Rule `serving-instance`. */
export const servingInstance: LintRule = {
  id: 'serving-instance',
  level: 'error',
  input: 'document',
  description: 'serving instance must be a known GPU hosting type',
  check: servingInstanceRule,
};
