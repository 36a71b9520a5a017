import * as path from 'node:path';
import { loadRecipe } from '../../lib/config/load-recipes';
import { handler } from '../../lib/constructs/execution-check/handler';
import { EXECUTION_CHECK_STEPS, type ExecutionCheckEvent } from '../../lib/pipeline/execution-check-step';
import { PIPELINE_PARAMETERS as P } from '../../lib/pipeline/parameters';
import { buildTrainingPipeline, PIPELINE_STEPS } from '../../lib/pipeline/training-definition';
import { CONFIG } from '../recipes/support';
import { DEPLOY_VALUES, TEST_METRICS } from './support';

/**
 * The pipeline's first step (lib/pipeline/execution-check-step.ts): the definition invokes the check function
 * with every parameter and trains only when it says valid, else fails with its message. The console path is
 * played here: the step's Arguments resolved as SageMaker would for an Execute with given values, then the
 * function's handler run in-process on them.
 */

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:gptoss-dev-execution-check';
const recipe = loadRecipe(path.join(__dirname, '..', '..', 'recipes', 'gpt-oss-20b-multilingual-lora.yaml'));

type Json = unknown;
const definition = buildTrainingPipeline(recipe, DEPLOY_VALUES, {
  metricDefinitions: TEST_METRICS,
  volumeSizeGb: 200,
  gitSha: 'test',
  executionCheck: { functionArn: FUNCTION_ARN, config: CONFIG },
}).toJson() as { Parameters: { Name: string; DefaultValue: Json }[]; Steps: Record<string, Json>[] };

/** What SageMaker does with `{"Get": "Parameters.X"}` for an execution: the given value, else the default. */
function resolveParameters(tree: Json, given: Record<string, string | number | boolean>): Json {
  if (Array.isArray(tree)) return tree.map((t) => resolveParameters(t, given));
  if (tree && typeof tree === 'object') {
    const o = tree as Record<string, Json>;
    if (typeof o.Get === 'string' && o.Get.startsWith('Parameters.')) {
      const name = o.Get.slice('Parameters.'.length);
      const param = definition.Parameters.find((p) => p.Name === name);
      if (!param) throw new Error(`no parameter ${name}`);
      return given[name] ?? param.DefaultValue;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveParameters(v, given)]));
  }
  return tree;
}

async function execute(given: Record<string, string | number | boolean> = {}) {
  const step = definition.Steps[0] as { Arguments: Json };
  return handler(resolveParameters(step.Arguments, given) as ExecutionCheckEvent);
}

describe('the check step of the pipeline definition', () => {
  test('comes first, invokes the function with every parameter, and gates the training branch', () => {
    const [check, gate] = definition.Steps as Record<string, Json>[];
    expect(definition.Steps).toHaveLength(4); // check, gate, and the two quality gates
    expect(check).toMatchObject({
      Name: EXECUTION_CHECK_STEPS.check,
      Type: 'Lambda',
      FunctionArn: FUNCTION_ARN,
      OutputParameters: [
        { OutputName: 'valid', OutputType: 'Boolean' },
        { OutputName: 'message', OutputType: 'String' },
      ],
    });
    const args = check.Arguments as { parameters: Record<string, Json> };
    expect(Object.keys(args.parameters).sort()).toEqual(definition.Parameters.map((p) => p.Name).sort());
    expect(args.parameters[P.instanceType]).toEqual({ Get: `Parameters.${P.instanceType}` });
    expect(gate).toMatchObject({
      Name: EXECUTION_CHECK_STEPS.passed,
      Type: 'Condition',
      Arguments: {
        Conditions: [
          { Type: 'Equals', LeftValue: { Get: "Steps.CheckExecution.OutputParameters['valid']" }, RightValue: true },
        ],
        IfSteps: [{ Name: PIPELINE_STEPS.capacity }],
        ElseSteps: [
          {
            Name: EXECUTION_CHECK_STEPS.refused,
            Type: 'Fail',
            Arguments: { ErrorMessage: { Get: "Steps.CheckExecution.OutputParameters['message']" } },
          },
        ],
      },
    });
  });
});

describe('Execute from the console, through the first step', () => {
  test('the recipe’s own values pass', async () => {
    expect(await execute()).toEqual({ valid: true, message: '' });
  });

  test('TrainingInstanceType=ml.p3.2xlarge is refused with the findings', async () => {
    const out = await execute({ [P.instanceType]: 'ml.p3.2xlarge' });
    expect(out.valid).toBe(false);
    expect(out.message).toMatch(/^execution refused, nothing was started: /);
    expect(out.message).toMatch(/bf16: found true; ml\.p3\.2xlarge has NVIDIA V100/);
    expect(out.message).toMatch(/\(parameter TrainingInstanceType\): found "ml\.p3\.2xlarge"; .*\[gpu-memory\]/);
  });

  test('MaxRuntimeSeconds=99999 with spot and the default max wait is refused', async () => {
    const out = await execute({ [P.maxRuntimeSeconds]: 99999 });
    expect(out.valid).toBe(false);
    expect(out.message).toMatch(/max_wait_seconds \(parameter MaxWaitSeconds\): found 28800; max wait is below/);
  });

  test('500 × ml.p5.48xlarge for 28 days is over the stage ceilings', async () => {
    const out = await execute({
      [P.instanceCount]: 500,
      [P.instanceType]: 'ml.p5.48xlarge',
      [P.maxRuntimeSeconds]: 2419200,
    });
    expect(out.valid).toBe(false);
    expect(out.message).toMatch(/found 500; above the stage "dev" ceiling of 4 instances/);
    expect(out.message).toMatch(/found 2419200; above the stage "dev" ceiling of 259200 seconds/);
  });
});
