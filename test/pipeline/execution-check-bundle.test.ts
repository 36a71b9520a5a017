import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadRecipe } from '../../lib/config/load-recipes';
import { ExecutionCheckFunction } from '../../lib/constructs/execution-check/execution-check-function';
import { executionCheckSteps, type ExecutionCheckEvent } from '../../lib/pipeline/execution-check-step';
import { PIPELINE_PARAMETERS as P } from '../../lib/pipeline/parameters';
import { FailStep } from '../../lib/pipeline/steps';
import { CONFIG } from '../recipes/support';
import { appContext } from '../support/template';

/**
 * The execution check function bundles offline (local esbuild, no Docker, no network) and the bundle, not the
 * TypeScript source, refuses a bad execution: the asset's index.js is loaded and its handler run.
 */

jest.setTimeout(120_000);

test('the bundled handler refuses ml.p3.2xlarge and passes the recipe values', async () => {
  // GIVEN a stack with the function, synthesized with bundling on (appContext without the bundling switch)
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'execution-check-'));
  const context = { ...appContext() } as Record<string, unknown>;
  delete context['aws:cdk:bundling-stacks'];
  const app = new cdk.App({ context, outdir });
  const stack = new cdk.Stack(app, 'Bundle');
  new ExecutionCheckFunction(stack, 'ExecutionCheck');
  Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 1);
  const assembly = app.synth();
  const assetDir = fs
    .readdirSync(assembly.directory)
    .map((d) => path.join(assembly.directory, d))
    .find((d) => d.includes('asset.') && fs.existsSync(path.join(d, 'index.js')));
  expect(assetDir).toBeDefined();

  // WHEN the bundle's handler gets the event the pipeline's first step sends
  const recipe = loadRecipe(path.join(__dirname, '..', '..', 'recipes', 'gpt-oss-20b-multilingual-lora.yaml'));
  const { check } = executionCheckSteps(
    recipe,
    [],
    { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:x', config: CONFIG },
    [new FailStep('TrainingNotRunHere', 'the training branch is not part of this test')],
  );
  const args = (check.toJson() as { Arguments: Omit<ExecutionCheckEvent, 'parameters'> }).Arguments;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the bundle esbuild just wrote
  const bundled = require(path.join(assetDir as string, 'index.js')) as {
    handler: (e: ExecutionCheckEvent) => Promise<{ valid: boolean; message: string }>;
  };
  // THEN the recipe's values pass and a V100 is refused with the rule's text
  expect(await bundled.handler({ ...args, parameters: {} })).toEqual({ valid: true, message: '' });
  const refused = await bundled.handler({ ...args, parameters: { [P.instanceType]: 'ml.p3.2xlarge' } });
  expect(refused.valid).toBe(false);
  expect(refused.message).toMatch(/ml\.p3\.2xlarge has NVIDIA V100 16GB \(Volta\) GPUs without bf16 support/);
  fs.rmSync(outdir, { recursive: true, force: true });
});
