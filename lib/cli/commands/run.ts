import * as crypto from 'node:crypto';
import { StartPipelineExecutionCommand } from '@aws-sdk/client-sagemaker';
import { Command } from 'commander';
import { INSTANCE_TYPE_PATTERN } from '../../config/recipe-schema';
import { findInstance, isGpuTrainingInstance } from '../../recipes/instance-catalog';
import { addAwsOptions, parsePositiveInt, parsePositiveNumber, runCommand } from '../command';
import type { CliContext, CliEnvironment } from '../context';
import { awsCall, CliError } from '../errors';
import { checkRunExecution, executionValues, planLines } from '../execution-check';
import { consoleLinks } from '../output';
import {
  describeRecipePipeline,
  findParameter,
  OVERRIDABLE,
  type Overridable,
  type PipelineParameter,
  parameterType,
  unknownRecipeMessage,
} from '../pipelines';
import { runPreflight } from '../preflight';
import { checkTrainingQuota } from '../quota';

export interface RunOptions {
  readonly instanceType?: string;
  readonly instanceCount?: number;
  /** S3 URI of the training data (a prefix or one file). */
  readonly dataset?: string;
  /** S3 prefix of a staged base model (BaseModelS3Uri). */
  readonly baseModelS3Uri?: string;
  /** Start without checking that the model is staged and the dataset prepared. */
  readonly skipPreflight?: boolean;
  readonly spot?: boolean;
  readonly epochs?: number;
  readonly maxSteps?: number;
  readonly maxRuntime?: number;
  /** Any other pipeline parameter, `Name=Value`. */
  readonly params?: readonly string[];
  readonly displayName?: string;
  readonly description?: string;
  /** Print the result as JSON instead of text. */
  readonly json?: boolean;
  /** Check and print the plan and estimate; start nothing. */
  readonly dryRun?: boolean;
}

export interface RunResult {
  readonly recipe: string;
  readonly pipelineName: string;
  readonly executionArn: string;
  readonly parameters: { Name: string; Value: string }[];
  readonly consoleUrl: string;
}

function checkValue(param: PipelineParameter, value: string, flag: string, type: string = param.Type): string {
  switch (type) {
    case 'Integer':
      if (!/^-?\d+$/.test(value))
        throw new CliError(`${flag}: parameter ${param.Name} is an Integer; found "${value}"`);
      return value;
    case 'Float':
      if (!Number.isFinite(Number(value))) {
        throw new CliError(`${flag}: parameter ${param.Name} is a Float; found "${value}"`);
      }
      return value;
    case 'Boolean':
      if (!/^(true|false)$/i.test(value)) {
        throw new CliError(`${flag}: parameter ${param.Name} is a Boolean; write true or false, found "${value}"`);
      }
      return value.toLowerCase();
    default:
      return value;
  }
}

/** Maps the `run` flags onto the pipeline's own parameter names, checking types. */
export function buildOverrides(
  pipeline: { pipelineName: string; parameters: readonly PipelineParameter[] },
  opts: RunOptions,
  warn: (text: string) => void = () => undefined,
): { Name: string; Value: string }[] {
  const params = pipeline.parameters;
  const overrides = new Map<string, string>();
  const listed = params.map((p) => p.Name).join(', ') || 'none';
  const set = (kind: Overridable, value: string | number | boolean | undefined) => {
    if (value === undefined) return;
    const param = findParameter(params, kind);
    const flag = OVERRIDABLE[kind].label;
    if (!param) {
      throw new CliError(
        `pipeline ${pipeline.pipelineName} has no parameter for ${flag} (its parameters: ${listed}); ` +
          'use --param Name=Value with one of those, or redeploy the training stack',
      );
    }
    overrides.set(param.Name, checkValue(param, String(value), flag, parameterType(kind)));
  };

  if (opts.instanceType !== undefined) {
    if (!INSTANCE_TYPE_PATTERN.test(opts.instanceType)) {
      throw new CliError(
        `--instance-type: found "${opts.instanceType}"; expected a SageMaker type like "ml.p5.48xlarge"`,
      );
    }
    const spec = findInstance(opts.instanceType);
    if (!spec) warn(`${opts.instanceType} is not in the platform's instance catalog; check the name and its quota`);
    else if (!isGpuTrainingInstance(spec))
      warn(`${opts.instanceType} is not a GPU training instance; GPT-OSS needs one`);
  }
  const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;
  if (opts.dataset !== undefined && !S3_URI.test(opts.dataset)) {
    throw new CliError(`--dataset: found "${opts.dataset}"; expected an S3 URI like s3://bucket/datasets/<recipe>/`);
  }
  if (opts.baseModelS3Uri !== undefined && !S3_URI.test(opts.baseModelS3Uri)) {
    throw new CliError(
      `--base-model-s3-uri: found "${opts.baseModelS3Uri}"; expected an S3 prefix like ` +
        's3://<artifacts bucket>/base-models/openai/gpt-oss-20b/main/',
    );
  }
  set('instanceType', opts.instanceType);
  set('instanceCount', opts.instanceCount);
  set('dataset', opts.dataset);
  set('baseModel', opts.baseModelS3Uri);
  set('spot', opts.spot);
  set('epochs', opts.epochs);
  set('maxSteps', opts.maxSteps);
  set('maxRuntime', opts.maxRuntime);
  for (const pair of opts.params ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--param: found "${pair}"; write Name=Value`);
    const name = pair.slice(0, eq);
    const param = params.find((p) => p.Name === name);
    if (!param) {
      throw new CliError(
        `--param: pipeline ${pipeline.pipelineName} has no parameter "${name}"; its parameters: ${listed}`,
      );
    }
    overrides.set(name, checkValue(param, pair.slice(eq + 1), `--param ${name}`));
  }
  return [...overrides.entries()].map(([Name, Value]) => ({ Name, Value }));
}

function displayName(recipe: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  // display names allow letters, digits and inner hyphens, at most 82 characters.
  return `${recipe.replace(/[^a-zA-Z0-9]+/g, '-')}-${stamp}`.replace(/^-+/, '').slice(0, 82);
}

/** `run RECIPE`: starts the recipe's pipeline with the given overrides. */
export async function runPipeline(ctx: CliContext, recipe: string, opts: RunOptions = {}): Promise<RunResult> {
  const pipeline = await describeRecipePipeline(ctx, recipe);
  const parameters = buildOverrides(pipeline, opts, (w) => ctx.out.warn(w));
  // The same rules as the PR check, on the values this execution would run with (throws: nothing started).
  const check = checkRunExecution(ctx, pipeline, parameters);
  if (opts.dryRun) {
    for (const line of planLines(pipeline, executionValues(pipeline, parameters), check)) ctx.out.line(line);
    return {
      recipe: pipeline.recipe,
      pipelineName: pipeline.pipelineName,
      executionArn: '',
      parameters,
      consoleUrl: '',
    };
  }
  if (opts.skipPreflight) ctx.out.warn('--skip-preflight: the model and the dataset were not checked');
  else await runPreflight(ctx, pipeline, parameters, opts.json !== true);
  await checkTrainingQuota(ctx, pipeline, parameters);
  const started = await awsCall(
    {
      action: 'sagemaker:StartPipelineExecution',
      resource: `pipeline ${pipeline.pipelineName}`,
      endpointUrl: ctx.endpointUrl,
      onNotFound: () => unknownRecipeMessage(ctx, recipe),
    },
    () =>
      ctx.aws.sagemaker.send(
        new StartPipelineExecutionCommand({
          PipelineName: pipeline.pipelineName,
          PipelineExecutionDisplayName: opts.displayName ?? displayName(pipeline.recipe, new Date()),
          PipelineExecutionDescription: opts.description ?? `started by ${ctx.userName} with the gpt-oss CLI`,
          PipelineParameters: parameters.length > 0 ? parameters : undefined,
          ClientRequestToken: crypto.randomUUID(),
        }),
      ),
  );
  const executionArn = started.PipelineExecutionArn ?? '';
  const region = await ctx.aws.region();
  const consoleUrl = consoleLinks.pipeline(region, pipeline.pipelineName);
  const result = { recipe: pipeline.recipe, pipelineName: pipeline.pipelineName, executionArn, parameters, consoleUrl };
  const out = ctx.out;
  if (opts.json) {
    out.json(result);
    return result;
  }
  out.line(`started     ${pipeline.pipelineName} (recipe ${pipeline.recipe})`);
  out.line(`execution   ${executionArn}`);
  if (parameters.length > 0) out.line(`overrides   ${parameters.map((p) => `${p.Name}=${p.Value}`).join(', ')}`);
  out.line(`console     ${consoleUrl}`);
  out.line(`watch       npm run cli -- watch ${executionArn}`);
  return result;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function runCommandDefinition(environment: CliEnvironment): Command {
  const cmd = new Command('run')
    .summary("start a recipe's training pipeline")
    .description(
      "Starts the recipe's SageMaker pipeline (the same as Execute in the console). Flags override the " +
        "pipeline's parameters, which default to the recipe's values. First it checks that the base model is " +
        'staged (stage-model) and the dataset prepared (prepare-data); otherwise it starts nothing and says ' +
        'which command to run. The execution (recipe with the flags applied) must pass the recipe check; --dry-run ' +
        'prints the plan and the estimate instead of starting.',
    )
    .argument('<recipe>', 'recipe name (recipes/<name>.yaml) or the pipeline name')
    .option('--instance-type <type>', 'training instance type, e.g. ml.p5.48xlarge')
    .option('--instance-count <n>', 'number of training instances', parsePositiveInt)
    .option('--dataset <s3-uri>', 'training data location (prefix or file)')
    .option(
      '--base-model-s3-uri <s3-uri>',
      'staged base model prefix (default: where stage-model puts the recipe model)',
    )
    .option('--skip-preflight', 'start without checking that the base model is staged and the dataset prepared')
    .option('--spot', 'use managed spot training')
    .option('--no-spot', 'use on-demand capacity')
    .option(
      '--epochs <n>',
      'number of training epochs (NumTrainEpochs is a Float: 0.5 is half an epoch)',
      parsePositiveNumber,
    )
    .option('--max-steps <n>', 'stop after this many optimizer steps', parsePositiveInt)
    .option('--max-runtime <seconds>', 'training job time limit', parsePositiveInt)
    .option('--param <name=value>', 'set any other pipeline parameter (repeatable)', collect)
    .option('--display-name <name>', 'execution display name (default: <recipe>-<UTC time>)')
    .option('--description <text>', 'execution description')
    .option('--dry-run', 'check the execution and print the plan and estimate; start nothing')
    .option('--json', 'print the result as JSON');
  addAwsOptions(cmd);
  return cmd.action(async (recipe: string, opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      await runPipeline(ctx, recipe, {
        instanceType: opts.instanceType as string | undefined,
        instanceCount: opts.instanceCount as number | undefined,
        dataset: opts.dataset as string | undefined,
        baseModelS3Uri: opts.baseModelS3Uri as string | undefined,
        skipPreflight: opts.skipPreflight === true,
        spot: opts.spot as boolean | undefined,
        epochs: opts.epochs as number | undefined,
        maxSteps: opts.maxSteps as number | undefined,
        maxRuntime: opts.maxRuntime as number | undefined,
        params: opts.param as string[] | undefined,
        displayName: opts.displayName as string | undefined,
        description: opts.description as string | undefined,
        json: opts.json === true,
        dryRun: opts.dryRun === true,
      });
    });
  });
}
