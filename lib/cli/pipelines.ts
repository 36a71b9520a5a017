import {
  DescribePipelineCommand,
  ListPipelinesCommand,
  type ListPipelinesCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { pipelineName, recipeNameFromResource, resourcePrefix, stackName } from '../config/naming';
import type { PrimitiveType } from '../pipeline/expressions';
import { PIPELINE_PARAMETER_TYPES, PIPELINE_PARAMETERS, type PipelineParameterKey } from '../pipeline/parameters';
import type { CliContext } from './context';
import { awsCall, CliError } from './errors';

/** One parameter of a pipeline definition (the values a user may change when pressing Execute). */
export interface PipelineParameter {
  readonly Name: string;
  readonly Type: PrimitiveType | string;
  readonly DefaultValue?: string | number | boolean;
}

/** A deployed recipe pipeline and its parameters. */
export interface RecipePipeline {
  readonly recipe: string;
  readonly pipelineName: string;
  readonly pipelineArn: string;
  readonly parameters: readonly PipelineParameter[];
}

/** The pipeline name for a recipe name, or the name itself when it already is one of ours. */
export function pipelineNameFor(ctx: CliContext, recipeOrPipeline: string): string {
  const prefix = `${resourcePrefix(ctx.naming)}-`;
  return recipeOrPipeline.toLowerCase().startsWith(prefix)
    ? recipeOrPipeline.toLowerCase()
    : pipelineName(ctx.naming, recipeOrPipeline);
}

/** Recipe names of the pipelines deployed for this prefix and stage. */
export async function deployedRecipeNames(ctx: CliContext): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  const prefix = resourcePrefix(ctx.naming);
  do {
    const page: ListPipelinesCommandOutput = await awsCall({ action: 'sagemaker:ListPipelines' }, () =>
      ctx.aws.sagemaker.send(
        new ListPipelinesCommand({ PipelineNamePrefix: prefix, NextToken: token, MaxResults: 100 }),
      ),
    );
    for (const p of page.PipelineSummaries ?? []) {
      const recipe = p.PipelineName ? recipeNameFromResource(ctx.naming, p.PipelineName) : undefined;
      if (recipe) names.push(recipe);
    }
    token = page.NextToken;
  } while (token);
  return names.sort();
}

/**
 * The sentence shown when a recipe has no pipeline: what was looked for, what is deployed, what the
 * checkout holds, and how to get the missing one.
 */
export async function unknownRecipeMessage(ctx: CliContext, recipe: string): Promise<string> {
  const wanted = pipelineNameFor(ctx, recipe);
  const region = await ctx.aws.region().catch(() => 'the current region');
  let deployed: string;
  try {
    const names = await deployedRecipeNames(ctx);
    deployed = names.length > 0 ? names.join(', ') : 'none';
  } catch (e) {
    deployed = `unknown (${(e as Error).message})`;
  }
  const local = ctx.localRecipeNames();
  const notDeployed = local.includes(recipe)
    ? `; recipes/${recipe}.yaml exists but is not deployed: run "npx cdk deploy ${stackName(ctx.naming, 'training')}"`
    : '';
  return (
    `unknown recipe "${recipe}": there is no pipeline "${wanted}" in ${region} ` +
    `(prefix "${ctx.config.namePrefix}", stage "${ctx.config.stage}"); deployed recipes: ${deployed}; ` +
    `recipe files: ${local.length > 0 ? local.join(', ') : 'none'}${notDeployed}`
  );
}

/** Reads a recipe's deployed pipeline and its parameter list. */
export async function describeRecipePipeline(ctx: CliContext, recipe: string): Promise<RecipePipeline> {
  const name = pipelineNameFor(ctx, recipe);
  const out = await awsCall(
    {
      action: 'sagemaker:DescribePipeline',
      resource: `pipeline ${name}`,
      endpointUrl: ctx.endpointUrl,
      onNotFound: () => unknownRecipeMessage(ctx, recipe),
    },
    () => ctx.aws.sagemaker.send(new DescribePipelineCommand({ PipelineName: name })),
  );
  return {
    recipe: recipeNameFromResource(ctx.naming, name) ?? recipe,
    pipelineName: out.PipelineName ?? name,
    pipelineArn: out.PipelineArn ?? '',
    parameters: parseParameters(out.PipelineDefinition, name),
  };
}

/** The `Parameters` list of a pipeline definition JSON. */
export function parseParameters(definition: string | undefined, pipeline: string): PipelineParameter[] {
  if (!definition) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(definition);
  } catch {
    throw new CliError(`the definition of pipeline ${pipeline} is not JSON; redeploy the training stack`);
  }
  const params = (parsed as { Parameters?: unknown }).Parameters;
  if (!Array.isArray(params)) return [];
  return params.filter(
    (p): p is PipelineParameter =>
      typeof p === 'object' && p !== null && typeof (p as PipelineParameter).Name === 'string',
  );
}

/**
 * The `run` flags and the pipeline parameter each sets. Names and types come from the pipeline builder's
 * exported contract (lib/pipeline/parameters.ts), never from the deployed definition's spelling.
 */
export const OVERRIDABLE = {
  instanceType: { label: '--instance-type', parameter: 'instanceType' },
  instanceCount: { label: '--instance-count', parameter: 'instanceCount' },
  dataset: { label: '--dataset', parameter: 'datasetS3Uri' },
  baseModel: { label: '--base-model-s3-uri', parameter: 'baseModelS3Uri' },
  spot: { label: '--spot/--no-spot', parameter: 'useSpot' },
  epochs: { label: '--epochs', parameter: 'numTrainEpochs' },
  maxSteps: { label: '--max-steps', parameter: 'maxSteps' },
  maxRuntime: { label: '--max-runtime', parameter: 'maxRuntimeSeconds' },
} as const satisfies Record<string, { label: string; parameter: PipelineParameterKey }>;

export type Overridable = keyof typeof OVERRIDABLE;

/** The pipeline parameter a `run` flag sets, or undefined when the deployed pipeline has none. */
export function findParameter(params: readonly PipelineParameter[], kind: Overridable): PipelineParameter | undefined {
  const name = PIPELINE_PARAMETERS[OVERRIDABLE[kind].parameter];
  return params.find((p) => p.Name === name);
}

/** The type the builder declares the parameter of a `run` flag with. */
export function parameterType(kind: Overridable): PrimitiveType {
  return PIPELINE_PARAMETER_TYPES[OVERRIDABLE[kind].parameter];
}

/** The S3 URI a pipeline parameter of a `run` flag holds by default (undefined when absent or not S3). */
export function defaultS3Uri(params: readonly PipelineParameter[], kind: 'dataset' | 'baseModel'): string | undefined {
  const p = findParameter(params, kind);
  return typeof p?.DefaultValue === 'string' && p.DefaultValue.startsWith('s3://') ? p.DefaultValue : undefined;
}

/** The dataset S3 URI a pipeline reads by default (its dataset parameter's default value). */
export function defaultDatasetUri(params: readonly PipelineParameter[]): string | undefined {
  return defaultS3Uri(params, 'dataset');
}
