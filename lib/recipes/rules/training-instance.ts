import type { Finding } from '../findings';
import { findInstance, isGpuTrainingInstance } from '../instance-catalog';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** The training instance must be a known SageMaker training type with NVIDIA GPUs. */
export function trainingInstanceRule(ctx: LintContext): Finding[] {
  if (!ctx.doc) return [];
  const type = ctx.doc.platform.training.instance_type;
  const instance = findInstance(type);
  if (instance && isGpuTrainingInstance(instance)) return [];
  const why = !instance
    ? 'unknown instance type (not in lib/recipes/instance-catalog.ts; check the spelling against the SageMaker training types)'
    : !instance.training
      ? 'not a SageMaker training instance type'
      : `not a GPU training type (${instance.accelerator}); the training image needs NVIDIA GPUs`;
  return [
    finding(
      ctx,
      'training-instance',
      'error',
      'platform.training.instance_type',
      show(type),
      why,
      'write a GPU training type such as ml.p5.4xlarge (1×H100), ml.p4de.24xlarge (8×A100 80GB) or ml.p5.48xlarge (8×H100)',
    ),
  ];
}

/** Rule `training-instance`. */
export const trainingInstance: LintRule = {
  id: 'training-instance',
  level: 'error',
  input: 'document',
  description: 'training instance must be a known GPU training type',
  check: trainingInstanceRule,
};
