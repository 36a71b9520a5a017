import * as crypto from 'node:crypto';
import { type AppConfig, autoApprovalAllowed } from '../config/app-config';
import { ConfigError } from '../config/errors';
import { endpointName, modelPackageGroupName, pipelineName, SAGEMAKER_NAME_MAX_LENGTH } from '../config/naming';
import { instancePrice, type PriceQuote } from './instance-catalog';
import type { AnalyzedRecipe } from './recipe-analysis';
import { SERVING_CONSTANTS, type ServingEstimate } from './serving-estimator';
import type { ServingImage } from './serving-target';

export { DEFAULT_VLLM_IMAGE, type ServingImage } from './serving-target';

/**
 * How one recipe's fine-tuned model is registered and served: the vLLM serving container, its engine
 * settings, the endpoint instance type and the approval mode. Built from the recipe analysis's serving target
 * (./serving-target.ts) once the recipe check passed: everything a deploy could fail on is a serving rule in
 * ./rules, never a check here. The register and deploy state machines (lib/constructs) read this plan.
 *
 * Everything here is plain data, free of CDK tokens, so tests can use it directly.
 */

/** The single production variant every endpoint of this platform has; also the scaling dimension. */
export const SERVING_VARIANT_NAME = 'AllTraffic';

/** Where SageMaker places `ModelDataSource` (the uncompressed model prefix) inside the container. */
export const SERVING_MODEL_DIR = '/opt/ml/model';

/** Model and endpoint-config names are `<base>-v<version>`; the base leaves room for 9 version digits. */
const RESOURCE_BASE_MAX_LENGTH = SAGEMAKER_NAME_MAX_LENGTH - '-v'.length - 9;

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
  readonly price: PriceQuote;
}

function describeImage(image: ServingImage): string {
  return image.kind === 'dlc' ? `dlc:${image.repository}:${image.tag}` : image.uri;
}

/**
 * The serving plan of a recipe that passed the recipe check (lib/recipes/report.ts `loadValidatedRecipes`).
 * Throws a plain Error only when called with a recipe the check refuses: a bug in the caller, not bad input.
 */
export function planServing(recipe: AnalyzedRecipe, config: AppConfig): ServingPlan {
  const { instance, tensorParallelDegree, image, maxModelLen, estimate } = recipe.analysis.serving;
  if (!instance || tensorParallelDegree === undefined || !image) {
    throw new Error(
      `${recipe.file}: cannot plan serving for a recipe the recipe check refuses; run \`npm run recipes\` for why`,
    );
  }
  const serving = recipe.document.platform.serving;
  const minInstances = serving?.min_instances ?? 1;
  const maxInstances = serving?.max_instances ?? minInstances;
  const environment: Record<string, string> = {
    SM_VLLM_MODEL: SERVING_MODEL_DIR,
    SM_VLLM_SERVED_MODEL_NAME: recipe.name,
    SM_VLLM_TENSOR_PARALLEL_SIZE: String(tensorParallelDegree),
    SM_VLLM_MAX_MODEL_LEN: String(maxModelLen),
    SM_VLLM_GPU_MEMORY_UTILIZATION: String(SERVING_CONSTANTS.gpuMemoryUtilization),
    // the model and tokenizer come from S3; the container must never try the Hub (it has no route there).
    HF_HUB_OFFLINE: '1',
  };
  const instanceType = instance.instanceType;
  const dataCapture = serving?.data_capture ?? false;
  const settingsHash = crypto
    .createHash('sha256')
    .update(JSON.stringify({ image: describeImage(image), instanceType, minInstances, environment, dataCapture }))
    .digest('hex')
    .slice(0, 8);
  const endpoint = endpointName(config, recipe.name);
  const base = endpoint.slice(0, RESOURCE_BASE_MAX_LENGTH - settingsHash.length - 1).replace(/-+$/, '');
  const approval = recipe.document.platform.approval ?? config.defaultApprovalMode;
  if (recipe.document.platform.approval === 'auto' && !autoApprovalAllowed(config)) {
    throw new ConfigError(recipe.file, [
      `platform.approval: found "auto" in recipe "${recipe.name}", but stage "${config.stage}" does not allow ` +
        'auto-approval; remove the line (a person approves with the approver role), or set ' +
        `"allowAutoApproval": true in the config of stage "${config.stage}"`,
    ]);
  }

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
    price: instancePrice(instance, config.prices),
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
