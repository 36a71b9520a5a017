import type { Finding } from '../findings';
import { findInstance, isGpuHostingInstance } from '../instance-catalog';
import { cheapestServingInstances } from '../serving-target';
import { finding, type LintContext, type LintRule, show } from './rule-support';

const EXAMPLES = 'ml.g6e.12xlarge (4×L40S), ml.g5.12xlarge (4×A10G) or ml.p5.48xlarge (8×H100)';

/**
 * The serving instance must be a SageMaker hosting type with NVIDIA GPUs that run bf16 (vLLM serves the merged
 * bf16 model); without a serving block, some catalog instance must serve the model at the default length.
 */
export function servingInstanceRule(ctx: LintContext): Finding[] {
  const doc = ctx.doc;
  const target = ctx.analysis?.serving;
  if (!doc || !target || target.instance) return [];
  const block = doc.platform.serving;
  const model = ctx.analysis?.model;
  if (!block) {
    // an unknown model is the unknown-model rule's error; nothing can be derived for it.
    if (!model) return [];
    return [
      finding(
        ctx,
        'serving-instance',
        'error',
        'platform.serving',
        'nothing',
        `no catalog instance serves ${model.shortName} with max_model_len ${target.maxModelLen}`,
        'add a platform.serving block with instance_type and a lower max_model_len',
      ),
    ];
  }
  const instance = findInstance(block.instance_type);
  const why = !instance
    ? 'unknown instance type (not in lib/recipes/instance-catalog.ts)'
    : !instance.hosting
      ? 'not a SageMaker endpoint instance type'
      : !isGpuHostingInstance(instance)
        ? `not a GPU hosting type (${instance.accelerator}); the vLLM serving container needs NVIDIA GPUs`
        : `its ${instance.gpu?.model} (${instance.gpu?.architecture}) has no bf16; the merged model is bf16, which needs an Ampere or newer GPU`;
  const fitting = model
    ? cheapestServingInstances(model, target.maxModelLen, ctx.config.prices)
        .slice(0, 3)
        .map((i) => i.instanceType)
    : [];
  return [
    finding(
      ctx,
      'serving-instance',
      'error',
      'platform.serving.instance_type',
      show(block.instance_type),
      why,
      fitting.length > 0
        ? `write a GPU endpoint type that serves ${model?.shortName}, cheapest first: ${fitting.join(', ')}`
        : `write a GPU endpoint type such as ${EXAMPLES}`,
    ),
  ];
}

/** Rule `serving-instance`. */
export const servingInstance: LintRule = {
  id: 'serving-instance',
  level: 'error',
  input: 'document',
  description: 'serving instance must be a known bf16 GPU hosting type (or derivable without a serving block)',
  check: servingInstanceRule,
};
