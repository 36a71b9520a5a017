/**
 * Physical names derived from config and recipe names, in one place so every stack, the CLI and the
 * state machines agree. SageMaker lowercases names inside ARNs, so every name here is lowercase.
 */

/** SageMaker's pattern for pipeline, model package group and endpoint names (63 is the tightest limit). */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
/** Model package group and endpoint names allow at most 63 characters; pipelines 256. */
export const SAGEMAKER_NAME_MAX_LENGTH = 63;

export interface NamingContext {
  readonly namePrefix: string;
  readonly stage: string;
}

/** `gptoss-dev`: the prefix of every stack and resource of one deployment. */
export function resourcePrefix(ctx: NamingContext): string {
  return `${ctx.namePrefix}-${ctx.stage}`;
}

/** Stack name for one part of the platform, e.g. `gptoss-dev-data`. */
export function stackName(ctx: NamingContext, part: string): string {
  return `${resourcePrefix(ctx)}-${part}`;
}

/** The SageMaker pipeline of a recipe: `gptoss-dev-<recipe>`. */
export function pipelineName(ctx: NamingContext, recipeName: string): string {
  return `${resourcePrefix(ctx)}-${recipeName}`.toLowerCase();
}

/** The model package group of a recipe; same as its pipeline name so the two are found together. */
export function modelPackageGroupName(ctx: NamingContext, recipeName: string): string {
  return pipelineName(ctx, recipeName);
}

/** The real-time endpoint serving a recipe's approved model. */
export function endpointName(ctx: NamingContext, recipeName: string): string {
  return pipelineName(ctx, recipeName);
}

/** A state machine of the register-and-deploy stage: `gptoss-dev-register`, `gptoss-dev-deploy`. */
export function stateMachineName(ctx: NamingContext, part: 'register' | 'deploy'): string {
  return `${resourcePrefix(ctx)}-${part}`;
}

/**
 * The REGISTER workflow's role name: fixed, so the data stack's bucket policy can name it before the
 * deployment stack exists (the only writer of the model registry prefix).
 */
export function registerRoleName(ctx: NamingContext): string {
  return `${resourcePrefix(ctx)}-register-workflow`;
}

/** The recipe name a pipeline/group/endpoint name belongs to, or undefined if it is not one of ours. */
export function recipeNameFromResource(ctx: NamingContext, resourceName: string): string | undefined {
  const prefix = `${resourcePrefix(ctx)}-`;
  return resourceName.startsWith(prefix) ? resourceName.slice(prefix.length) : undefined;
}
