import { DEFAULT_MAX_MODEL_LEN, type RecipeDocument } from '../config/recipe-schema';
import { parseEcrImageUri } from './ecr-image';
import { findInstance, type InstanceSpec, instancesByPrice, isGpuHostingInstance } from './instance-catalog';
import type { GptOssModelSpec } from './model-catalog';
import { estimateServingMemory, type ServingEstimate } from './serving-estimator';

/**
 * Where and how a recipe's fine-tuned model is served, as the recipe analysis derives it from the `platform`
 * block (or, without one, the cheapest catalog instance that fits). The serving rules report what is wrong
 * with it; the serving plan (./serving-plan.ts) is built from it once the recipe passed.
 */

/** The vLLM SageMaker DLC used when a recipe sets no `platform.serving.image_uri`. */
export const DEFAULT_VLLM_IMAGE = {
  /** AWS Deep Learning Containers registry in most commercial regions. */
  account: '763104351884',
  repository: 'vllm',
  /** vLLM 0.14.0 (≥ 0.10.1 serves gpt-oss); aws/deep-learning-containers release notes. */
  tag: '0.14.0-gpu-py312-cu129-ubuntu22.04-sagemaker',
} as const;

/** Where the serving image comes from: the default DLC (region-dependent URI) or a recipe-given ECR URI. */
export type ServingImage =
  | { readonly kind: 'dlc'; readonly account: string; readonly repository: string; readonly tag: string }
  | {
      readonly kind: 'custom';
      readonly uri: string;
      readonly account: string;
      readonly region: string;
      readonly repository: string;
    };

export interface ServingTarget {
  /** The recipe has a `platform.serving` block (else every value below is derived). */
  readonly fromRecipe: boolean;
  readonly maxModelLen: number;
  /**
   * The recipe's instance when it is a bf16-capable GPU hosting type; without a serving block, the cheapest
   * catalog instance that serves the model. Undefined when there is none (a serving-instance finding).
   */
  readonly instance?: InstanceSpec;
  /** The recipe's degree, else all GPUs of the instance; undefined without an instance. */
  readonly tensorParallelDegree?: number;
  /** Undefined when `image_uri` is not an ECR image URI (a serving-image finding). */
  readonly image?: ServingImage;
  /** Per-GPU memory at {@link tensorParallelDegree}; undefined for an unknown model or without an instance. */
  readonly estimate?: ServingEstimate;
}

/** GPU endpoint instance types that can run bf16 (Ampere or newer). */
export function isBf16HostingInstance(instance: InstanceSpec): boolean {
  return isGpuHostingInstance(instance) && instance.gpu?.bf16 === true;
}

/** The cheapest instances that serve `model` with all their GPUs, for defaults and suggestions. */
export function cheapestServingInstances(
  model: GptOssModelSpec,
  maxModelLen: number,
  prices: Readonly<Record<string, number>> = {},
): InstanceSpec[] {
  return instancesByPrice(isBf16HostingInstance, prices).filter(
    (i) =>
      model.numAttentionHeads % i.gpuCount === 0 &&
      estimateServingMemory(model, i, i.gpuCount, maxModelLen).fitsDefaultBudget,
  );
}

/** The serving image of an `image_uri` (absent: the vLLM DLC); undefined when it is not an ECR image URI. */
export function servingImageOf(uri: string | undefined): ServingImage | undefined {
  if (uri === undefined) return { kind: 'dlc', ...DEFAULT_VLLM_IMAGE };
  const ecr = parseEcrImageUri(uri);
  return ecr ? { kind: 'custom', ...ecr } : undefined;
}

export function resolveServingTarget(
  doc: RecipeDocument,
  model: GptOssModelSpec | undefined,
  prices: Readonly<Record<string, number>>,
): ServingTarget {
  const block = doc.platform.serving;
  const maxModelLen = block?.max_model_len ?? DEFAULT_MAX_MODEL_LEN;
  let instance: InstanceSpec | undefined;
  if (block) {
    const found = findInstance(block.instance_type);
    instance = found && isBf16HostingInstance(found) ? found : undefined;
  } else if (model) {
    instance = cheapestServingInstances(model, maxModelLen, prices)[0];
  }
  const tensorParallelDegree = block?.tensor_parallel_degree ?? instance?.gpuCount;
  const estimate =
    model && instance && tensorParallelDegree !== undefined
      ? estimateServingMemory(model, instance, tensorParallelDegree, maxModelLen)
      : undefined;
  return {
    fromRecipe: block !== undefined,
    maxModelLen,
    instance,
    tensorParallelDegree,
    image: servingImageOf(block?.image_uri),
    estimate,
  };
}
