import * as crypto from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { ConfigError } from '../config/errors';
import type { LoadedRecipe } from '../config/load-recipes';
import { endpointName, modelPackageGroupName, pipelineName, SAGEMAKER_NAME_MAX_LENGTH } from '../config/naming';
import {
  findInstance,
  INSTANCE_CATALOG,
  type InstanceSpec,
  instancePrice,
  isGpuHostingInstance,
  type PriceQuote,
} from '../recipes/instance-catalog';
import { GiB } from '../recipes/memory-estimator';
import { type GptOssModelSpec, resolveModel } from '../recipes/model-catalog';
import { stringValue } from '../recipes/recipe-values';
import { estimateServingMemory, SERVING_CONSTANTS, type ServingEstimate } from '../recipes/serving-estimator';

/**
 * How one recipe's fine-tuned model is registered and served: the vLLM serving container, its engine
 * settings, the endpoint instance type and the approval mode, all derived from the recipe's `platform`
 * block and checked at synth against the instance and model catalogs (merged bf16 weights must fit).
 *
 * Everything here is plain data, free of CDK tokens, so tests and the recipe report can use it directly.
 */

/** The vLLM SageMaker DLC used when a recipe sets no `platform.serving.image_uri`. */
export const DEFAULT_VLLM_IMAGE = {
  /** AWS Deep Learning Containers registry in most commercial regions (docs/facts/aws.md §1). */
  account: '763104351884',
  repository: 'vllm',
  /** vLLM 0.14.0 (≥ 0.10.1 serves gpt-oss; docs/facts/aws.md §1). */
  tag: '0.14.0-gpu-py312-cu129-ubuntu22.04-sagemaker',
} as const;

/** The single production variant every endpoint of this platform has; also the scaling dimension. */
export const SERVING_VARIANT_NAME = 'AllTraffic';

/** Where SageMaker places `ModelDataSource` (the uncompressed model prefix) inside the container. */
export const SERVING_MODEL_DIR = '/opt/ml/model';

/** Model and endpoint-config names are `<base>-v<version>`; the base leaves room for 9 version digits. */
const RESOURCE_BASE_MAX_LENGTH = SAGEMAKER_NAME_MAX_LENGTH - '-v'.length - 9;

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

/** Everything the register and deploy state machines need about one recipe. */
export interface ServingPlan {
  readonly recipe: string;
  /** The recipe file, for messages. */
  readonly file: string;
  /** `sha256(recipe)[:12]`, recorded on the model package. */
  readonly recipeHash: string;
  readonly pipelineName: string;
  readonly modelPackageGroupName: string;
  readonly endpointName: string;
  /** `PendingManualApproval` (manual) or `Approved` (auto) for new model packages. */
  readonly approvalStatus: 'PendingManualApproval' | 'Approved';
  readonly image: ServingImage;
  readonly instanceType: string;
  readonly tensorParallelDegree: number;
  readonly maxModelLen: number;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly dataCapture: boolean;
  /** Serving container environment: `SM_VLLM_*` variables become `vllm serve` flags. */
  readonly environment: Readonly<Record<string, string>>;
  /** Hash of every setting that shapes a Model or EndpointConfig; part of their names. */
  readonly settingsHash: string;
  /** Name base of this recipe's models and endpoint configs (`<base>-v<version>`), at most 52 characters. */
  readonly resourceBase: string;
  /**
   * lib/recipes' serving estimate (merged bf16 weights, one full-length KV cache, vLLM overhead, per GPU).
   * Undefined when the base model is not in the catalog (the recipe then names the instance type itself).
   */
  readonly estimate?: ServingEstimate;
  /** Indicative price of one serving instance (catalog or config override). */
  readonly price?: PriceQuote;
  /** Non-fatal findings, e.g. a model the estimator does not know. */
  readonly warnings: readonly string[];
}

/** GPU endpoint instance types that can run bf16 (Ampere or newer), cheapest first. */
function servingCandidates(prices: Readonly<Record<string, number>>): InstanceSpec[] {
  return Object.values(INSTANCE_CATALOG)
    .filter((i) => isGpuHostingInstance(i) && i.gpu?.bf16 === true)
    .sort(
      (a, b) =>
        instancePrice(a, prices).usdPerHour - instancePrice(b, prices).usdPerHour ||
        a.instanceType.localeCompare(b.instanceType),
    );
}

/** The cheapest instances that serve `model` with all their GPUs, for defaults and suggestions. */
export function cheapestServingInstances(
  model: GptOssModelSpec,
  maxModelLen: number,
  prices: Readonly<Record<string, number>> = {},
): InstanceSpec[] {
  return servingCandidates(prices).filter(
    (i) =>
      model.numAttentionHeads % i.gpuCount === 0 &&
      estimateServingMemory(model, i, i.gpuCount, maxModelLen).fitsDefaultBudget,
  );
}

const ECR_IMAGE =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+)(?::[\w.-]+|@sha256:[0-9a-f]{64})$/;

function parseImage(uri: string | undefined, where: string, problems: string[]): ServingImage {
  if (uri === undefined) return { kind: 'dlc', ...DEFAULT_VLLM_IMAGE };
  const m = ECR_IMAGE.exec(uri);
  if (!m) {
    problems.push(
      `${where}: found ${JSON.stringify(uri)}; SageMaker endpoints pull from a private ECR repository: write ` +
        '"<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>" (copy public images to your ECR first), ' +
        'or remove the key to use the vLLM SageMaker DLC',
    );
    return { kind: 'dlc', ...DEFAULT_VLLM_IMAGE };
  }
  return { kind: 'custom', uri, account: m[1], region: m[2], repository: m[3] };
}

function describeImage(image: ServingImage): string {
  return image.kind === 'dlc' ? `dlc:${image.repository}:${image.tag}` : image.uri;
}

const fmt = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

/**
 * Resolves and validates how a recipe is served. Throws a {@link ConfigError} naming the recipe file and
 * key for anything that would fail on AWS: an unknown or non-GPU instance type, GPUs without bf16, a
 * tensor-parallel degree the instance or model cannot use, or merged weights that do not fit.
 */
export function planServing(recipe: LoadedRecipe, config: AppConfig): ServingPlan {
  const problems: string[] = [];
  const warnings: string[] = [];
  const serving = recipe.document.platform.serving;
  const modelId = stringValue(recipe.document, 'model_name_or_path');
  const model = resolveModel(modelId);
  const maxModelLen = serving?.max_model_len ?? 8192;
  const prices = config.prices;

  const endpoint = endpointName(config, recipe.name);
  if (endpoint.length > SAGEMAKER_NAME_MAX_LENGTH) {
    problems.push(
      `(file name): the endpoint name "${endpoint}" has ${endpoint.length} characters; SageMaker allows ` +
        `${SAGEMAKER_NAME_MAX_LENGTH}: shorten the recipe file name or config.namePrefix`,
    );
  }
  if (model && maxModelLen > model.maxPositionEmbeddings) {
    problems.push(
      `platform.serving.max_model_len: found ${maxModelLen}; ${model.shortName} supports at most ` +
        `${model.maxPositionEmbeddings} tokens`,
    );
  }

  let instance: InstanceSpec | undefined;
  if (serving?.instance_type !== undefined) {
    instance = findInstance(serving.instance_type);
    const where = 'platform.serving.instance_type';
    const suggestions = model
      ? cheapestServingInstances(model, maxModelLen, prices)
          .slice(0, 3)
          .map((i) => i.instanceType)
          .join(', ')
      : '';
    const hint = suggestions ? `; for ${model?.shortName} try ${suggestions}` : '';
    if (!instance) {
      problems.push(`${where}: found "${serving.instance_type}"; not in the instance catalog${hint}`);
    } else if (!isGpuHostingInstance(instance)) {
      problems.push(
        `${where}: found "${instance.instanceType}"; vLLM needs an NVIDIA GPU endpoint instance type${hint}`,
      );
      instance = undefined;
    } else if (instance.gpu?.bf16 !== true) {
      problems.push(
        `${where}: found "${instance.instanceType}" (${instance.gpu?.model}); the merged model is bf16, ` +
          `which needs an Ampere or newer GPU${hint}`,
      );
      instance = undefined;
    }
  } else if (model) {
    instance = cheapestServingInstances(model, maxModelLen, prices)[0];
    if (!instance) {
      problems.push(
        `platform.serving: no catalog instance serves ${model.shortName} with max_model_len ${maxModelLen}; ` +
          'set platform.serving.instance_type and a lower max_model_len',
      );
    }
  } else {
    problems.push(
      `platform.serving.instance_type: found nothing; model_name_or_path ${JSON.stringify(modelId)} is not ` +
        'in the model catalog, so no serving instance can be derived: add a platform.serving block with ' +
        'instance_type (e.g. "ml.g6e.12xlarge")',
    );
  }

  const gpuCount = instance?.gpuCount ?? 1;
  const tensorParallelDegree = serving?.tensor_parallel_degree ?? gpuCount;
  if (instance && tensorParallelDegree > gpuCount) {
    problems.push(
      `platform.serving.tensor_parallel_degree: found ${tensorParallelDegree}; ${instance.instanceType} has ` +
        `${gpuCount} GPU${gpuCount === 1 ? '' : 's'}: write ${gpuCount} or less, or remove the key`,
    );
  }
  if (instance && tensorParallelDegree <= gpuCount && gpuCount % tensorParallelDegree !== 0) {
    problems.push(
      `platform.serving.tensor_parallel_degree: found ${tensorParallelDegree}; it does not divide the ${gpuCount} ` +
        `GPUs of ${instance.instanceType}: use a divisor of ${gpuCount}, or remove the key`,
    );
  }
  if (model && model.numAttentionHeads % tensorParallelDegree !== 0) {
    problems.push(
      `platform.serving.tensor_parallel_degree: found ${tensorParallelDegree}; vLLM splits the ` +
        `${model.numAttentionHeads} attention heads evenly: use 1, 2, 4 or 8`,
    );
  }

  let estimate: ServingEstimate | undefined;
  if (model && instance && tensorParallelDegree <= gpuCount && model.numAttentionHeads % tensorParallelDegree === 0) {
    estimate = estimateServingMemory(model, instance, tensorParallelDegree, maxModelLen);
    // the container runs with vLLM's default budget (SM_VLLM_GPU_MEMORY_UTILIZATION below), so that is the limit.
    if (!estimate.fitsDefaultBudget) {
      const fitting = cheapestServingInstances(model, maxModelLen, prices)
        .slice(0, 3)
        .map((i) => i.instanceType)
        .join(', ');
      problems.push(
        `platform.serving.instance_type: found "${instance.instanceType}" with tensor_parallel_degree ` +
          `${tensorParallelDegree}; each GPU needs ${fmt(estimate.requiredPerGpuBytes)} (${fmt(estimate.weightsPerGpuBytes)} ` +
          `bf16 weights + ${fmt(estimate.kvCachePerGpuBytes)} KV cache for ${maxModelLen} tokens + ` +
          `${fmt(estimate.overheadBytes)} vLLM overhead) but vLLM may use ${fmt(estimate.vllmBudgetBytes)} of a ` +
          `${instance.gpu?.model}: use ${fitting || 'a larger instance'} or more GPUs`,
      );
    }
  } else if (!model && instance) {
    warnings.push(
      `${recipe.file}: model_name_or_path ${JSON.stringify(modelId)} is not in the model catalog; the serving ` +
        `memory of ${instance.instanceType} was not checked`,
    );
  }

  const image = parseImage(serving?.image_uri, 'platform.serving.image_uri', problems);
  const minInstances = serving?.min_instances ?? 1;
  const maxInstances = serving?.max_instances ?? minInstances;
  if (problems.length > 0) throw new ConfigError(recipe.file, problems);

  const environment: Record<string, string> = {
    SM_VLLM_MODEL: SERVING_MODEL_DIR,
    SM_VLLM_SERVED_MODEL_NAME: recipe.name,
    SM_VLLM_TENSOR_PARALLEL_SIZE: String(tensorParallelDegree),
    SM_VLLM_MAX_MODEL_LEN: String(maxModelLen),
    SM_VLLM_GPU_MEMORY_UTILIZATION: String(SERVING_CONSTANTS.gpuMemoryUtilization),
    // the model and tokenizer come from S3; the container must never try the Hub (it has no route there).
    HF_HUB_OFFLINE: '1',
  };
  const instanceType = (instance as InstanceSpec).instanceType;
  const dataCapture = serving?.data_capture ?? false;
  const settingsHash = crypto
    .createHash('sha256')
    .update(JSON.stringify({ image: describeImage(image), instanceType, minInstances, environment, dataCapture }))
    .digest('hex')
    .slice(0, 8);
  const base = endpoint.slice(0, RESOURCE_BASE_MAX_LENGTH - settingsHash.length - 1).replace(/-+$/, '');
  const approval = recipe.document.platform.approval ?? config.defaultApprovalMode;

  return {
    recipe: recipe.name,
    file: recipe.file,
    recipeHash: recipe.hash,
    pipelineName: pipelineName(config, recipe.name),
    modelPackageGroupName: modelPackageGroupName(config, recipe.name),
    endpointName: endpoint,
    approvalStatus: approval === 'auto' ? 'Approved' : 'PendingManualApproval',
    image,
    instanceType,
    tensorParallelDegree,
    maxModelLen,
    minInstances,
    maxInstances,
    dataCapture,
    environment,
    settingsHash,
    resourceBase: `${base}-${settingsHash}`,
    estimate,
    price: instance ? instancePrice(instance, prices) : undefined,
    warnings,
  };
}

/**
 * The serving image URI. The DLC's URI depends on the region, so pass the stack's `region` and `urlSuffix`
 * (tokens in an environment-agnostic stack).
 */
export function servingImageUri(image: ServingImage, region: string, urlSuffix: string): string {
  return image.kind === 'custom'
    ? image.uri
    : `${image.account}.dkr.ecr.${region}.${urlSuffix}/${image.repository}:${image.tag}`;
}
