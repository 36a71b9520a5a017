import { ListPipelineParametersForExecutionCommand } from '@aws-sdk/client-sagemaker';
import { runPipeline } from '../../lib/cli/commands/run';
import {
  ARTIFACTS_BUCKET,
  createPipeline,
  PIPELINE,
  PIPELINE_PARAMETERS,
  putPreparedDataset,
  STAGED_MODEL_PREFIX,
  putStagedModel,
  useMotoProject,
  expectCliError,
} from './support';

const cli = useMotoProject();

describe('run', () => {
  test('starts the pipeline with overrides mapped onto its parameters', async () => {
    // GIVEN a deployed pipeline, its base model staged and a prepared dataset at the override location
    await createPipeline(cli.c);
    await putStagedModel(cli.c);
    await putPreparedDataset(cli.c, 'datasets/v2/');
    const { ctx, env } = cli.context();
    // WHEN it is run with overrides
    const result = await runPipeline(ctx, 'demo-lora', {
      instanceType: 'ml.p4d.24xlarge',
      instanceCount: 2,
      dataset: 's3://gptoss-test-datasets/datasets/v2/',
      spot: true,
      epochs: 3,
      params: ['MaxRuntimeSeconds=7200'],
    });
    // THEN SageMaker holds an execution with exactly those parameter values
    expect(result.executionArn).toMatch(
      /^arn:aws:sagemaker:us-east-1:123456789012:pipeline\/gptoss-test-demo-lora\/execution\/\w+$/,
    );
    const params = await cli.c.sagemaker.send(
      new ListPipelineParametersForExecutionCommand({ PipelineExecutionArn: result.executionArn }),
    );
    expect(params.PipelineParameters).toEqual([
      { Name: 'TrainingInstanceType', Value: 'ml.p4d.24xlarge' },
      { Name: 'TrainingInstanceCount', Value: '2' },
      { Name: 'DatasetS3Uri', Value: 's3://gptoss-test-datasets/datasets/v2/' },
      { Name: 'UseSpot', Value: 'true' },
      { Name: 'NumTrainEpochs', Value: '3' },
      { Name: 'MaxRuntimeSeconds', Value: '7200' },
    ]);
    // AND the preflight said what it found, then the ARN and a console link are printed
    expect(env.stdoutText).toContain(
      `model       openai/gpt-oss-20b at main (commit 6cee5e81ee83), staged at s3://${ARTIFACTS_BUCKET}/${STAGED_MODEL_PREFIX}`,
    );
    expect(env.stdoutText).toContain(
      'dataset     2 examples prepared from chat.jsonl, at s3://gptoss-test-datasets/datasets/v2/',
    );
    expect(env.stdoutText).toContain(`execution   ${result.executionArn}`);
    expect(env.stdoutText).toContain(
      'console     https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/pipelines/details/gptoss-test-demo-lora',
    );
    ctx.close();
  });

  test('fails on an unknown recipe, listing deployed recipes and recipe files', async () => {
    await createPipeline(cli.c, 'gptoss-test-other');
    const { ctx } = cli.context();
    const message = await expectCliError(runPipeline(ctx, 'missing'));
    expect(message).toMatch(/^unknown recipe "missing": there is no pipeline "gptoss-test-missing" in us-east-1/);
    expect(message).toMatch(/deployed recipes: other; recipe files: demo-lora$/);
    ctx.close();
  });

  test('fails on an override the pipeline has no parameter for', async () => {
    // GIVEN an older deployment without MaxSteps
    await createPipeline(
      cli.c,
      PIPELINE,
      PIPELINE_PARAMETERS.filter((p) => p.Name !== 'MaxSteps'),
    );
    const { ctx } = cli.context();
    const message = await expectCliError(runPipeline(ctx, 'demo-lora', { maxSteps: 10 }));
    expect(message).toMatch(
      /pipeline gptoss-test-demo-lora has no parameter for --max-steps \(its parameters: TrainingInstanceType, /,
    );
    const badType = await expectCliError(runPipeline(ctx, 'demo-lora', { params: ['TrainingInstanceCount=two'] }));
    expect(badType).toBe('--param TrainingInstanceCount: parameter TrainingInstanceCount is an Integer; found "two"');
    ctx.close();
  });
});
