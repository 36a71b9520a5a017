import * as path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListPipelineExecutionsCommand, ListPipelineParametersForExecutionCommand } from '@aws-sdk/client-sagemaker';
import { prepareData } from '../../lib/cli/commands/prepare-data';
import { runPipeline } from '../../lib/cli/commands/run';
import {
  ARTIFACTS_BUCKET,
  createPipeline,
  DATASETS_BUCKET,
  FIXTURES,
  PIPELINE,
  PIPELINE_PARAMETERS,
  putPreparedDataset,
  STAGED_MODEL_PREFIX,
  putStagedModel,
  useMotoProject,
  expectCliError,
} from './support';

/**
 * `run` checks, against moto S3 over HTTP, that the base model is staged and the dataset prepared before it starts
 * anything (lib/cli/preflight.ts); the staged and prepared fixtures are what stage-model and prepare-data leave.
 */

const cli = useMotoProject();

describe('run preflight', () => {
  async function executions(): Promise<number> {
    const out = await cli.c.sagemaker.send(new ListPipelineExecutionsCommand({ PipelineName: PIPELINE }));
    return (out.PipelineExecutionSummaries ?? []).length;
  }

  async function refused(opts: Parameters<typeof runPipeline>[2] = {}): Promise<string> {
    const before = await executions();
    const { ctx } = cli.context();
    const message = await expectCliError(runPipeline(ctx, 'demo-lora', opts));
    ctx.close();
    // nothing was started: no execution, no GPU
    expect(await executions()).toBe(before);
    return message;
  }

  beforeEach(async () => {
    await putPreparedDataset(cli.c);
  });

  test('refuses a model that was never staged, or whose copy never finished, naming stage-model', async () => {
    await createPipeline(cli.c);
    // GIVEN no staged model WHEN run THEN one line names the location and the command
    const expected =
      `the base model is not staged at s3://${ARTIFACTS_BUCKET}/${STAGED_MODEL_PREFIX} (no staging-manifest.json, ` +
      'which stage-model writes last); run "npm run cli -- stage-model openai/gpt-oss-20b --revision main" first, ' +
      'or pass --base-model-s3-uri with a staged copy; nothing was started';
    await cli.c.s3.send(new CreateBucketCommand({ Bucket: ARTIFACTS_BUCKET }));
    expect(await refused()).toBe(expected);
    // AND a half-finished copy (files but no manifest) is refused the same way
    await cli.c.s3.send(
      new PutObjectCommand({ Bucket: ARTIFACTS_BUCKET, Key: `${STAGED_MODEL_PREFIX}config.json`, Body: '{}' }),
    );
    expect(await refused()).toBe(expected);
  });

  test('refuses a manifest of another revision and one that does not parse', async () => {
    await createPipeline(cli.c);
    await putStagedModel(cli.c, STAGED_MODEL_PREFIX, { revision: 'v2' });
    expect(await refused()).toMatch(
      /staging-manifest\.json holds openai\/gpt-oss-20b at v2, not openai\/gpt-oss-20b at main; run "npm run cli -- stage-model openai\/gpt-oss-20b --revision main" first/,
    );
    await putStagedModel(cli.c, STAGED_MODEL_PREFIX, { commitSha: 'main' });
    expect(await refused()).toMatch(/staging-manifest\.json: commitSha: .*; run "npm run cli -- stage-model/);
  });

  test('--base-model-s3-uri checks and passes the copy it names', async () => {
    await createPipeline(cli.c);
    // GIVEN the model staged at a pinned revision only
    const pinned = 'base-models/openai/gpt-oss-20b/6cee5e81ee83917806bbde320786a8fb61efebee/';
    await putStagedModel(cli.c, pinned, { revision: '6cee5e81ee83917806bbde320786a8fb61efebee' });
    // WHEN run with that prefix THEN the execution reads it
    const { ctx } = cli.context();
    const result = await runPipeline(ctx, 'demo-lora', { baseModelS3Uri: `s3://${ARTIFACTS_BUCKET}/${pinned}` });
    ctx.close();
    const params = await cli.c.sagemaker.send(
      new ListPipelineParametersForExecutionCommand({ PipelineExecutionArn: result.executionArn }),
    );
    expect(params.PipelineParameters).toEqual([
      { Name: 'BaseModelS3Uri', Value: `s3://${ARTIFACTS_BUCKET}/${pinned}` },
    ]);
    // AND an override where nothing is staged names the model and revision of that layout
    const other = `s3://${ARTIFACTS_BUCKET}/base-models/openai/gpt-oss-120b/v1/`;
    expect(await refused({ baseModelS3Uri: other })).toMatch(
      /run "npm run cli -- stage-model openai\/gpt-oss-120b --revision v1" first/,
    );
    expect(await refused({ baseModelS3Uri: 'base-models/x' })).toMatch(/^--base-model-s3-uri: found "base-models\/x"/);
  });

  test('refuses a dataset prefix without a prepared dataset, or one whose files changed, naming prepare-data', async () => {
    await createPipeline(cli.c);
    await putStagedModel(cli.c);
    expect(await refused({ dataset: `s3://${DATASETS_BUCKET}/datasets/raw/` })).toBe(
      `s3://${DATASETS_BUCKET}/datasets/raw/ holds no dataset prepared by prepare-data (no prepared-dataset.manifest); ` +
        `run "npm run cli -- prepare-data <file> --recipe demo-lora --s3-uri s3://${DATASETS_BUCKET}/datasets/raw/" ` +
        'first; nothing was started',
    );
    // GIVEN the prepared file replaced by hand after prepare-data
    await cli.c.s3.send(
      new PutObjectCommand({ Bucket: DATASETS_BUCKET, Key: 'datasets/demo-lora/train.jsonl', Body: '{}\n' }),
    );
    expect(await refused()).toMatch(
      /^s3:\/\/gptoss-test-datasets\/datasets\/demo-lora\/train\.jsonl has 3 bytes, .*prepared-dataset\.manifest says \d+; run "npm run cli -- prepare-data <file> --recipe demo-lora" first/,
    );
  });

  test('accepts what prepare-data itself uploaded', async () => {
    // GIVEN the model staged and the dataset prefix emptied, then filled by the real prepare-data
    await createPipeline(cli.c);
    await putStagedModel(cli.c);
    const { ctx, env } = cli.context();
    const prefix = `s3://${DATASETS_BUCKET}/datasets/fresh/`;
    await prepareData(ctx, path.join(FIXTURES, 'multilingual-thinking.jsonl'), { recipe: 'demo-lora', s3Uri: prefix });
    // WHEN run on it THEN it starts, and says what the manifest recorded
    await runPipeline(ctx, 'demo-lora', { dataset: prefix });
    ctx.close();
    expect(env.stdoutText).toContain(`examples prepared from ${path.join(FIXTURES, 'multilingual-thinking.jsonl')}`);
    expect(await executions()).toBe(1);
  });

  test('a pipeline that reads the Hub (VPC with egress) has no model to check; --skip-preflight checks nothing', async () => {
    // GIVEN a pipeline without BaseModelS3Uri and no staged model
    await createPipeline(
      cli.c,
      PIPELINE,
      PIPELINE_PARAMETERS.filter((p) => p.Name !== 'BaseModelS3Uri'),
    );
    const { ctx, env } = cli.context();
    await runPipeline(ctx, 'demo-lora');
    expect(env.stdoutText).not.toContain('model       ');
    // AND --skip-preflight starts even without a prepared dataset, with a warning
    await runPipeline(ctx, 'demo-lora', { skipPreflight: true, dataset: `s3://${DATASETS_BUCKET}/nothing/` });
    expect(env.stderrText).toContain('--skip-preflight: the model and the dataset were not checked');
    ctx.close();
    expect(await executions()).toBe(2);
  });
});

describe('run checks the execution with the recipe rules before anything starts', () => {
  async function executions(): Promise<number> {
    const out = await cli.c.sagemaker.send(new ListPipelineExecutionsCommand({ PipelineName: PIPELINE }));
    return (out.PipelineExecutionSummaries ?? []).length;
  }

  async function refusedRun(opts: Parameters<typeof runPipeline>[2]): Promise<string> {
    const { ctx } = cli.context();
    const message = await expectCliError(runPipeline(ctx, 'demo-lora', opts));
    ctx.close();
    expect(await executions()).toBe(0);
    return message;
  }

  beforeEach(async () => {
    await createPipeline(cli.c);
    await putStagedModel(cli.c);
    await putPreparedDataset(cli.c);
  });

  test('--instance-type ml.p3.2xlarge is refused by the same rules as the recipe check', async () => {
    const message = await refusedRun({ instanceType: 'ml.p3.2xlarge' });
    expect(message).toMatch(
      /^the execution of gptoss-test-demo-lora does not pass the recipe check; nothing was started:/,
    );
    expect(message).toMatch(
      /demo-lora\.yaml: bf16: found true; ml\.p3\.2xlarge has NVIDIA V100 16GB \(Volta\) GPUs without bf16/,
    );
    expect(message).toMatch(
      /platform\.training\.instance_type \(parameter TrainingInstanceType\): found "ml\.p3\.2xlarge"; .*\[gpu-memory\]/,
    );
  });

  test('--spot --max-runtime 200000 is refused: the deployed max wait (2 × the recipe runtime) is below it', async () => {
    const message = await refusedRun({ spot: true, maxRuntime: 200000 });
    expect(message).toMatch(
      /max_wait_seconds \(parameter MaxWaitSeconds\): found \d+; max wait is below max_runtime_seconds \(200000\)/,
    );
  });

  test('--instance-count 500 --instance-type ml.p5.48xlarge --max-runtime 2419200 is over the stage ceilings', async () => {
    const message = await refusedRun({ instanceCount: 500, instanceType: 'ml.p5.48xlarge', maxRuntime: 2419200 });
    expect(message).toMatch(
      /instance_count \(parameter TrainingInstanceCount\): found 500; above the stage "test" ceiling of 4/,
    );
    expect(message).toMatch(
      /max_runtime_seconds \(parameter MaxRuntimeSeconds\): found 2419200; above the stage "test" ceiling/,
    );
  });

  test('--dry-run prints the plan and the estimate and starts nothing', async () => {
    const { ctx, env } = cli.context();
    const result = await runPipeline(ctx, 'demo-lora', { dryRun: true, epochs: 2 });
    ctx.close();
    expect(result.executionArn).toBe('');
    expect(await executions()).toBe(0);
    const text = env.stdoutText;
    expect(text).toMatch(/^plan {8}gptoss-test-demo-lora \(recipe demo-lora\); dry run, nothing started$/m);
    expect(text).toMatch(/^ {2}NumTrainEpochs +2$/m);
    expect(text).toMatch(/^estimate {4}~[\d.]+ h, ~\$[\d,.]+ on demand; price /m);
  });
});
