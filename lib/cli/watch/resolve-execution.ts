import { ListPipelineExecutionsCommand } from '@aws-sdk/client-sagemaker';
import { resourcePrefix } from '../../config/naming';
import type { CliContext } from '../context';
import { awsCall, CliError } from '../errors';
import { deployedRecipeNames, pipelineNameFor, unknownRecipeMessage } from '../pipelines';

/** `arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>`: groups 1 name, 2 id. */
export const EXECUTION_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline\/([^/]+)\/execution\/([^/]+)$/;

/** Finds the execution to watch: an ARN as given, else the newest run of a recipe or of any recipe. */
export async function resolveExecution(ctx: CliContext, target: string | undefined): Promise<string> {
  if (target && EXECUTION_ARN.test(target)) return target;
  if (target?.startsWith('arn:')) {
    throw new CliError(
      `"${target}" is not a pipeline execution ARN; expected arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>`,
    );
  }
  const recipes = target ? [target] : await deployedRecipeNames(ctx);
  if (recipes.length === 0) {
    throw new CliError(
      `no pipelines with prefix "${resourcePrefix(ctx.naming)}-" are deployed; deploy the training stack first`,
    );
  }
  let newest: { arn: string; start: number } | undefined;
  for (const recipe of recipes) {
    const name = pipelineNameFor(ctx, recipe);
    const page = await awsCall(
      {
        action: 'sagemaker:ListPipelineExecutions',
        resource: `pipeline ${name}`,
        endpointUrl: ctx.endpointUrl,
        onNotFound: () => unknownRecipeMessage(ctx, recipe),
      },
      () =>
        ctx.aws.sagemaker.send(
          new ListPipelineExecutionsCommand({
            PipelineName: name,
            SortBy: 'CreationTime',
            SortOrder: 'Descending',
            MaxResults: 10,
          }),
        ),
    );
    for (const s of page.PipelineExecutionSummaries ?? []) {
      const start = s.StartTime?.getTime() ?? 0;
      if (s.PipelineExecutionArn && (!newest || start > newest.start)) newest = { arn: s.PipelineExecutionArn, start };
    }
  }
  if (!newest) {
    throw new CliError(
      target
        ? `recipe "${target}" has never been run; start it with "npm run cli -- run ${target}"`
        : 'no pipeline has been run yet; start one with "npm run cli -- run <recipe>"',
    );
  }
  return newest.arn;
}
