import {
  DescribePipelineCommand,
  ListPipelinesCommand,
  type ListPipelinesCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { pipelineName, recipeNameFromResource, resourcePrefix, stackName } from '../config/naming';
import type { CliContext } from './context';
import { awsCall, CliError } from './errors';

/** One parameter of a pipeline definition (the values a user may change when pressing Execute). */
export interface PipelineParameter {
  readonly Name: string;
  readonly Type: 'String' | 'Integer' | 'Float' | 'Boolean' | string;
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

/** What a user can override at `run`, and how each maps onto the pipeline's parameter names. */
export const OVERRIDABLE = {
  instanceType: { label: '--instance-type', pattern: /^(training)?instance_?type$/i },
  instanceCount: { label: '--instance-count', pattern: /^(training)?instance_?count$/i },
  dataset: { label: '--dataset', pattern: /^(training_?)?(dataset|data)(_?s3)?(_?uri|_?url|_?location)?$/i },
  spot: { label: '--spot/--no-spot', pattern: /^(use_?|enable_?)?(managed_?)?spot(_?training)?$/i },
  epochs: { label: '--epochs', pattern: /^(num_?train_?)?epochs$/i },
  maxSteps: { label: '--max-steps', pattern: /^max_?steps$/i },
  maxRuntime: { label: '--max-runtime', pattern: /^max_?runtime(_?(seconds|in_?seconds))?$/i },
} as const;

export type Overridable = keyof typeof OVERRIDABLE;

/** The pipeline parameter a `run` flag sets, or undefined when the pipeline has none. */
export function findParameter(params: readonly PipelineParameter[], kind: Overridable): PipelineParameter | undefined {
  return params.find((p) => OVERRIDABLE[kind].pattern.test(p.Name));
}

/** The dataset S3 URI a pipeline reads by default (its dataset parameter's default value). */
export function defaultDatasetUri(params: readonly PipelineParameter[]): string | undefined {
  const p = findParameter(params, 'dataset');
  return typeof p?.DefaultValue === 'string' && p.DefaultValue.startsWith('s3://') ? p.DefaultValue : undefined;
}
