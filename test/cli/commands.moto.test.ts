import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  CreateTrainingJobCommand,
  DescribeModelPackageCommand,
  ListPipelineParametersForExecutionCommand,
} from '@aws-sdk/client-sagemaker';
import { setApproval } from '../../lib/cli/approval';
import { chatOnce, chatSession } from '../../lib/cli/commands/chat';
import { listModels } from '../../lib/cli/commands/models';
import { prepareData } from '../../lib/cli/commands/prepare-data';
import { rejectCommand } from '../../lib/cli/commands/reject';
import { runPipeline } from '../../lib/cli/commands/run';
import { watchExecution } from '../../lib/cli/commands/watch';
import { CliContext } from '../../lib/cli/context';
import { CliError } from '../../lib/cli/errors';
import { preparedDatasetManifestSchema } from '../../lib/config/prepared-dataset';
import type { MotoServer } from '../support/moto-server';
import {
  ACCOUNT,
  ARTIFACTS_BUCKET,
  CapturedEnvironment,
  type Clients,
  createDatasetsBucket,
  createEndpoint,
  createPipeline,
  DATASETS_BUCKET,
  executeStateMachines,
  FIXTURES,
  motoContext,
  PIPELINE,
  PIPELINE_PARAMETERS,
  putPreparedDataset,
  putTrainingLogs,
  queueEndpointResults,
  registerPackage,
  ROLE_ARN,
  STAGED_MODEL_PREFIX,
  putStagedModel,
  startStateMachine,
  useMotoProject,
} from './support';

let moto: MotoServer;
let c: Clients;
let project: string;

useMotoProject((started) => ({ moto, c, project } = started));
beforeEach(async () => {
  await executeStateMachines(moto.endpoint, false);
});

function context() {
  return motoContext(project, moto.endpoint);
}

async function readObject(key: string): Promise<string> {
  const obj = await c.s3.send(new GetObjectCommand({ Bucket: DATASETS_BUCKET, Key: key }));
  return (await obj.Body?.transformToString()) ?? '';
}

async function keys(): Promise<string[]> {
  const out = await c.s3.send(new ListObjectsV2Command({ Bucket: DATASETS_BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

async function expectCliError(promise: Promise<unknown>): Promise<string> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CliError);
  return (e as CliError).message;
}

describe('prepare-data', () => {
  test('uploads converted Multilingual-Thinking JSONL to the pipeline dataset location and reads back', async () => {
    // GIVEN a deployed pipeline whose dataset parameter points at the datasets bucket
    await createDatasetsBucket(c);
    await createPipeline(c);
    const { ctx, env } = context();
    // WHEN the fixture is prepared for the recipe
    const result = await prepareData(ctx, path.join(FIXTURES, 'multilingual-thinking.jsonl'), { recipe: 'demo-lora' });
    // THEN one object lands under datasets/demo-lora/, one {"messages"} row per example
    expect(result.destination).toBe(`s3://${DATASETS_BUCKET}/datasets/demo-lora/train.jsonl`);
    expect(await keys()).toEqual(['datasets/demo-lora/prepared-dataset.manifest', 'datasets/demo-lora/train.jsonl']);
    const rows = (await readObject('datasets/demo-lora/train.jsonl'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(6);
    expect(rows[0]).toEqual({
      messages: [
        {
          role: 'system',
          content: 'reasoning language: French\n\nYou are a helpful cooking assistant. Keep answers short.',
        },
        { role: 'user', content: 'How long should I boil an egg for a soft yolk?' },
        {
          role: 'assistant',
          content: 'Boil it for about 6 minutes, then cool it in cold water.',
          thinking: expect.stringMatching(/^L'utilisateur veut un jaune coulant/),
        },
      ],
    });
    // AND the report has the languages, the token estimate and the recipe's cost for this data
    expect(result.languages).toEqual({ French: 2, German: 1, Italian: 1, Japanese: 1, Spanish: 1 });
    expect(result.estimatedTokens.total).toBeGreaterThan(500);
    expect(result.estimate?.instances).toBe('1 × ml.p5.48xlarge');
    expect(result.estimate?.usd).toBeGreaterThan(0);
    // AND the next step is a plain run: the pipeline reads this location by default
    expect(env.stdoutText).toContain('next        npm run cli -- run demo-lora\n');
    // AND the manifest, written after the data, describes the uploaded file and its source
    const data = await readObject('datasets/demo-lora/train.jsonl');
    const manifest = preparedDatasetManifestSchema.parse(
      JSON.parse(await readObject('datasets/demo-lora/prepared-dataset.manifest')),
    );
    expect(manifest).toMatchObject({
      recipe: 'demo-lora',
      examples: 6,
      file: {
        path: 'train.jsonl',
        size: Buffer.byteLength(data),
        sha256: createHash('sha256').update(data).digest('hex'),
      },
      source: {
        type: 'file',
        name: path.join(FIXTURES, 'multilingual-thinking.jsonl'),
        sha256: createHash('sha256')
          .update(fs.readFileSync(path.join(FIXTURES, 'multilingual-thinking.jsonl')))
          .digest('hex'),
      },
    });
    ctx.close();
  });

  test('uploads a Parquet file with --bucket, and a big file in several parts', async () => {
    // GIVEN a bucket and a dataset bigger than one 16 MiB part
    await createDatasetsBucket(c);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-oss-big-'));
    const big = path.join(tmp, 'big.jsonl');
    const line = JSON.stringify({
      messages: [
        { role: 'user', content: `Summarise: ${'lorem ipsum dolor sit amet '.repeat(40)}` },
        { role: 'assistant', content: 'A summary.', thinking: 'Short.' },
      ],
    });
    fs.writeFileSync(big, `${line}\n`.repeat(Math.ceil((17 * 1024 * 1024) / line.length)));
    const { ctx, env } = context();
    try {
      // WHEN both are uploaded
      const parquet = await prepareData(ctx, path.join(FIXTURES, 'multilingual-thinking.parquet'), {
        recipe: 'demo-lora',
        bucket: DATASETS_BUCKET,
        name: 'parquet.jsonl',
      });
      const large = await prepareData(ctx, big, {
        recipe: 'demo-lora',
        s3Uri: `s3://${DATASETS_BUCKET}/datasets/big/`,
      });
      // THEN the Parquet rows read back as JSONL, and the big file is a multipart object with progress shown
      expect(parquet.examples).toBe(6);
      expect((await readObject('datasets/demo-lora/parquet.jsonl')).trim().split('\n')).toHaveLength(6);
      const head = await c.s3.send(new HeadObjectCommand({ Bucket: DATASETS_BUCKET, Key: 'datasets/big/train.jsonl' }));
      expect(head.ContentLength).toBe(large.bytes);
      expect(head.ETag).toMatch(/-2"$/);
      expect(env.stderrText).toMatch(/uploading s3:\/\/gptoss-test-datasets\/datasets\/big\/train\.jsonl \[#+\] 100%/);
      expect(env.stdoutText).toContain(
        'next        npm run cli -- run demo-lora --dataset s3://gptoss-test-datasets/datasets/big/\n',
      );
    } finally {
      ctx.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('fails on bad rows with their line numbers and uploads nothing', async () => {
    // GIVEN a deployed pipeline and bucket
    await createDatasetsBucket(c);
    await createPipeline(c);
    const { ctx } = context();
    // WHEN a file with bad rows is prepared
    const message = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'broken.jsonl'), { recipe: 'demo-lora' }),
    );
    // THEN every bad row is named with its line and reason, and the bucket stays empty
    expect(message).toMatch(/broken\.jsonl: 8 invalid rows out of 9; nothing was uploaded/);
    expect(message).toContain('line 2: messages[0].thinking: set on a "user" turn');
    expect(message).toContain('line 3: messages[1].content: is empty');
    expect(message).toContain('line 6: not valid JSON');
    expect(message).toContain('line 7: messages[0].role: found "narrator"');
    expect(message).toContain('line 10: messages[1].content: contains the chat-format tag');
    expect(await keys()).toEqual([]);
    ctx.close();
  });

  test('fails on a bad item of a JSON array with its line number', async () => {
    await createDatasetsBucket(c);
    const { ctx } = context();
    const message = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'broken.json'), { recipe: 'demo-lora', bucket: DATASETS_BUCKET }),
    );
    expect(message).toMatch(/line 8 \(item 2\): messages\[1\]\.role: two "user" turns in a row/);
    expect(await keys()).toEqual([]);
    ctx.close();
  });

  test('fails with the fix when the datasets bucket does not exist', async () => {
    // GIVEN a pipeline pointing at a bucket that was never created
    await createPipeline(c);
    const { ctx } = context();
    const message = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'chat-messages.jsonl'), { recipe: 'demo-lora' }),
    );
    expect(message).toBe(
      `bucket "${DATASETS_BUCKET}" does not exist; deploy the data stack ("npx cdk deploy gptoss-test-data") or pass ` +
        '--bucket with the datasets bucket',
    );
    ctx.close();
  });

  test('fails on a recipe without a deployed pipeline, naming what exists', async () => {
    // GIVEN only another recipe's pipeline is deployed
    await createDatasetsBucket(c);
    await createPipeline(c, 'gptoss-test-other');
    const { ctx } = context();
    const notDeployed = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'chat-messages.jsonl'), { recipe: 'demo-lora' }),
    );
    expect(notDeployed).toMatch(
      /^unknown recipe "demo-lora": there is no pipeline "gptoss-test-demo-lora" in us-east-1/,
    );
    expect(notDeployed).toMatch(
      /deployed recipes: other; recipe files: demo-lora; recipes\/demo-lora\.yaml exists but is not deployed/,
    );
    const noFile = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'chat-messages.jsonl'), { recipe: 'nope' }),
    );
    expect(noFile).toMatch(/^unknown recipe "nope": there is no recipes\/nope\.yaml in .*; known recipes: demo-lora$/);
    expect(await keys()).toEqual([]);
    ctx.close();
  });

  test('a dry run validates and reports without any AWS call', async () => {
    // GIVEN an endpoint nothing listens on
    const env = new CapturedEnvironment(project);
    const ctx = new CliContext({ endpointUrl: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1 }, env);
    // WHEN the flat JSON fixture is checked
    const result = await prepareData(ctx, path.join(FIXTURES, 'flat-multilingual-thinking.json'), {
      recipe: 'demo-lora',
      dryRun: true,
    });
    // THEN it reports and uploads nothing
    expect(result.uploaded).toBe(false);
    expect(result.languages).toEqual({ English: 1, Spanish: 1 });
    expect(env.stdoutText).toMatch(/dry run {5}nothing uploaded/);
    expect(env.stdoutText).toMatch(/examples {4}2 \(2 with reasoning\)/);
    ctx.close();
  });
});

describe('run', () => {
  test('starts the pipeline with overrides mapped onto its parameters', async () => {
    // GIVEN a deployed pipeline, its base model staged and a prepared dataset at the override location
    await createPipeline(c);
    await putStagedModel(c);
    await putPreparedDataset(c, 'datasets/v2/');
    const { ctx, env } = context();
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
    const params = await c.sagemaker.send(
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
    await createPipeline(c, 'gptoss-test-other');
    const { ctx } = context();
    const message = await expectCliError(runPipeline(ctx, 'missing'));
    expect(message).toMatch(/^unknown recipe "missing": there is no pipeline "gptoss-test-missing" in us-east-1/);
    expect(message).toMatch(/deployed recipes: other; recipe files: demo-lora$/);
    ctx.close();
  });

  test('fails on an override the pipeline has no parameter for', async () => {
    // GIVEN an older deployment without MaxSteps
    await createPipeline(
      c,
      PIPELINE,
      PIPELINE_PARAMETERS.filter((p) => p.Name !== 'MaxSteps'),
    );
    const { ctx } = context();
    const message = await expectCliError(runPipeline(ctx, 'demo-lora', { maxSteps: 10 }));
    expect(message).toMatch(
      /pipeline gptoss-test-demo-lora has no parameter for --max-steps \(its parameters: TrainingInstanceType, /,
    );
    const badType = await expectCliError(runPipeline(ctx, 'demo-lora', { params: ['TrainingInstanceCount=two'] }));
    expect(badType).toBe('--param TrainingInstanceCount: parameter TrainingInstanceCount is an Integer; found "two"');
    ctx.close();
  });
});

describe('watch', () => {
  async function startRun(): Promise<{ arn: string; id: string }> {
    await createPipeline(c);
    await putStagedModel(c);
    await putPreparedDataset(c);
    const { ctx } = context();
    const run = await runPipeline(ctx, 'demo-lora');
    ctx.close();
    return { arn: run.executionArn, id: run.executionArn.split('/').pop() ?? '' };
  }

  async function createTrainingJob(name: string, hyperParameters?: Record<string, string>): Promise<void> {
    await c.sagemaker.send(
      new CreateTrainingJobCommand({
        TrainingJobName: name,
        HyperParameters: hyperParameters,
        RoleArn: ROLE_ARN,
        AlgorithmSpecification: {
          TrainingImage: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/pytorch:latest`,
          TrainingInputMode: 'File',
        },
        OutputDataConfig: { S3OutputPath: 's3://gptoss-test-artifacts/models/' },
        ResourceConfig: { InstanceType: 'ml.p5.48xlarge', InstanceCount: 1, VolumeSizeInGB: 200 },
        StoppingCondition: { MaxRuntimeInSeconds: 86400 },
      }),
    );
  }

  const noWait = { intervalSeconds: 0.05, deployWaitSeconds: 0.2, timeoutSeconds: 30 };

  test('follows a run to registration: step listing unsupported by moto, training job found by name', async () => {
    // GIVEN a finished run (moto completes executions at once), its training job, a register state machine
    // that ran for it (real ASL interpretation) and the package it registered, pending approval
    const { arn, id } = await startRun();
    await createTrainingJob(`pipelines-${id}-Train-a1b2c3d4e5`);
    await putTrainingLogs(c, `pipelines-${id}-Train-a1b2c3d4e5`, [
      "{'loss': 1.52, 'learning_rate': 0.0002, 'epoch': 0.5}",
      "{'eval_loss': 1.234, 'epoch': 1.0}",
    ]);
    await executeStateMachines(moto.endpoint, true);
    const packageArn = await registerPackage(c, {
      eval_loss: '1.234',
      train_loss: '0.987',
      pipeline_execution_arn: arn,
    });
    await startStateMachine(
      c,
      'gptoss-test-register',
      {
        StartAt: 'Register',
        States: { Register: { Type: 'Pass', Result: { ModelPackageArn: packageArn }, End: true } },
      },
      { source: 'aws.sagemaker', detail: { pipelineExecutionArn: arn, currentPipelineExecutionStatus: 'Succeeded' } },
    );
    const { ctx, env } = context();
    // WHEN the run is watched
    const result = await watchExecution(ctx, arn, { ...noWait, logs: true });
    // THEN moto's missing ListPipelineExecutionSteps is reported, not fatal (it is not implemented there)
    expect(result.steps).toBe('not-implemented');
    expect(env.stderrText).toMatch(/note: this endpoint does not implement ListPipelineExecutionSteps/);
    // AND the training job with its metrics, the state machine and the pending package are shown
    expect(result.trainingJobs).toEqual([`pipelines-${id}-Train-a1b2c3d4e5`]);
    expect(env.stdoutText).toMatch(new RegExp(`training job pipelines-${id}-Train-a1b2c3d4e5: Completed/Completed`));
    expect(env.stdoutText).toMatch(/ {2}metrics train:progress=100/);
    expect(env.stdoutText).toContain(
      "  [algo-1] {'loss': 1.52, 'learning_rate': 0.0002, 'epoch': 0.5}\n  [algo-1] {'eval_loss': 1.234, 'epoch': 1.0}\n",
    );
    expect(env.stdoutText.match(/\[algo-1\]/g)).toHaveLength(2);
    expect(env.stdoutText).toMatch(/pipeline gptoss-test-demo-lora: Succeeded/);
    expect(result.stateMachineExecutions).toEqual([{ name: 'gptoss-test-register', status: 'SUCCEEDED' }]);
    expect(result.modelPackage).toEqual({ arn: packageArn, approval: 'PendingManualApproval' });
    expect(env.stdoutText).toContain('waiting for approval: npm run cli -- approve gptoss-test-demo-lora/1');
    expect(result.exitCode).toBe(0);
    ctx.close();
  });

  test.each([
    ['succeeds', { Type: 'Pass', End: true }, 0, 'done: trained, registered and deployed'],
    [
      'fails',
      { Type: 'Fail', Error: 'EndpointUpdateFailed', Cause: 'rolled back; the previous endpoint config keeps serving' },
      1,
      'FAILED: gptoss-test-deploy FAILED: EndpointUpdateFailed: rolled back; the previous endpoint config keeps serving',
    ],
  ])('follows an auto-approved package into the deploy stage, which %s', async (_name, deployState, code, line) => {
    // GIVEN a run, its register execution naming the package, the package approved, and a deploy execution for it
    const { arn } = await startRun();
    await executeStateMachines(moto.endpoint, true);
    const packageArn = await registerPackage(c, { eval_loss: '1.1' });
    const { ctx: approver } = context();
    await setApproval(approver, packageArn, 'Approved', 'recipe says approval: auto');
    approver.close();
    await startStateMachine(
      c,
      'gptoss-test-register',
      {
        StartAt: 'Register',
        States: { Register: { Type: 'Pass', Result: { ModelPackageArn: packageArn }, End: true } },
      },
      { detail: { pipelineExecutionArn: arn } },
    );
    await startStateMachine(
      c,
      'gptoss-test-deploy',
      { StartAt: 'Deploy', States: { Deploy: deployState } },
      {
        'detail-type': 'SageMaker Model Package State Change',
        detail: { ModelPackageArn: packageArn, ModelApprovalStatus: 'Approved' },
      },
    );
    const { ctx, env } = context();
    // WHEN the run is watched
    const result = await watchExecution(ctx, arn, noWait);
    // THEN both state machines are followed (deploy matched through the package ARN) and the outcome decides the exit code
    expect(result.stateMachineExecutions.map((e) => e.name).sort()).toEqual([
      'gptoss-test-deploy',
      'gptoss-test-register',
    ]);
    expect(result.modelPackage).toEqual({ arn: packageArn, approval: 'Approved' });
    expect(env.stdoutText).toContain(line);
    expect(result.exitCode).toBe(code);
    ctx.close();
  });

  test('fails with the reason when the register state machine fails', async () => {
    // GIVEN a run whose register execution ends in a Fail state
    const { arn } = await startRun();
    await executeStateMachines(moto.endpoint, true);
    await startStateMachine(
      c,
      'gptoss-test-register',
      {
        StartAt: 'Boom',
        States: { Boom: { Type: 'Fail', Error: 'NoTrainingJob', Cause: 'the execution has no training step' } },
      },
      { detail: { pipelineExecutionArn: arn } },
    );
    const { ctx, env } = context();
    // WHEN it is watched (found as the newest run of the recipe)
    const result = await watchExecution(ctx, 'demo-lora', noWait);
    // THEN the watch fails with the state machine's error and cause
    expect(result.exitCode).toBe(1);
    expect(result.failure).toBe('gptoss-test-register: NoTrainingJob: the execution has no training step');
    expect(env.stdoutText).toContain(
      'FAILED: gptoss-test-register FAILED: NoTrainingJob: the execution has no training step',
    );
    ctx.close();
  });

  test('says so when nothing picks the run up, and --once reports without waiting', async () => {
    const { arn } = await startRun();
    const { ctx, env } = context();
    const result = await watchExecution(ctx, arn, noWait);
    expect(result.exitCode).toBe(0);
    expect(env.stdoutText).toMatch(
      /no register\/deploy execution started for this run within 0s; check that the deployment stack/,
    );
    const once = await watchExecution(ctx, arn, { noDeploy: true, once: true });
    expect(once.exitCode).toBe(0);
    ctx.close();
  });

  test('--once after the run succeeded but before register starts: one consistent state, exit 2', async () => {
    // GIVEN a run that finished (moto completes it at once) and no register execution yet
    const { arn } = await startRun();
    const { ctx, env } = context();
    // WHEN it is watched once
    const once = await watchExecution(ctx, arn, { once: true });
    // THEN it says the pipeline succeeded and, as the last line, that the register stage is what is pending
    expect(once).toMatchObject({ exitCode: 2, pipelineStatus: 'Succeeded' });
    expect(once.pending).toMatch(/^pipeline Succeeded; the register stage has not started yet/);
    const lines = env.stdoutText.trimEnd().split('\n');
    expect(lines[0]).toMatch(/pipeline gptoss-test-demo-lora: Succeeded/);
    expect(lines[lines.length - 1]).toBe(
      'still running: pipeline Succeeded; the register stage has not started yet (EventBridge starts it after a ' +
        'successful run); watch again later',
    );
    expect(env.stdoutText).not.toMatch(/^still running; /m);
    ctx.close();
  });

  test("shows the training progress and the loss chart from the job's [metrics] log lines", async () => {
    // GIVEN a running pipeline whose Train step names a job with max_steps 100, and the job's metrics lines
    const { arn } = await startRun();
    const job = 'train-job-with-metrics';
    await createTrainingJob(job, { max_steps: '100', num_train_epochs: '1' });
    const lines = [10, 20, 30, 40].map(
      (step, i) =>
        `[metrics] step=${step} epoch=${step / 200} train_loss=${2 - i * 0.25} learning_rate=0.0002 train_tokens_per_second=${2000 + i}`,
    );
    await putTrainingLogs(c, job, [...lines, '[metrics] step=40 epoch=0.2 eval_loss=1.6']);
    const { ctx, env } = context();
    stubPipelineCalls(ctx, {
      status: 'Executing',
      steps: [
        {
          StepName: 'Train',
          StepStatus: 'Executing',
          Metadata: { TrainingJob: { Arn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:training-job/${job}` } },
        },
      ],
    });
    // WHEN it is watched once
    const once = await watchExecution(ctx, arn, { once: true });
    // THEN the progress line has the step of max_steps, throughput and time left (putTrainingLogs writes lines
    // 1 s apart: 10 steps a second, 60 steps to go), and the chart shows the four losses falling
    expect(once.exitCode).toBe(2);
    expect(env.stdoutText).toMatch(
      / {2}progress step 40 of 100 \(40%\) · 2,003 tokens\/s · about 6s left · loss 1\.25\n/,
    );
    expect(env.stdoutText).toContain('  train_loss, 4 points, steps 10-40:\n');
    const chart = env.stdoutText.split('\n').filter((l) => /^ {4} *\S* \|/.test(l));
    expect(chart).toHaveLength(8);
    expect(chart[0]).toBe('       2 |*');
    expect(chart[7]).toBe('    1.25 |   *');
    ctx.close();
  });

  /**
   * moto has no ListPipelineExecutionSteps and completes every execution at once, so the path real AWS
   * takes (step metadata naming the training job; a failed quality gate) is driven by answering those two
   * calls in the SDK middleware; every other call still goes to moto over HTTP.
   */
  function stubPipelineCalls(
    ctx: CliContext,
    answers: { status: string; failure?: string; steps: Record<string, unknown>[] },
  ): void {
    for (const client of [ctx.aws.sagemaker, ctx.aws.sagemakerProbe]) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { PipelineExecutionArn?: string };
          if (context.commandName === 'ListPipelineExecutionStepsCommand') {
            return { output: { PipelineExecutionSteps: answers.steps, $metadata: {} }, response: {} };
          }
          if (context.commandName === 'DescribePipelineExecutionCommand') {
            const now = new Date();
            return {
              output: {
                PipelineExecutionArn: input.PipelineExecutionArn,
                PipelineExecutionStatus: answers.status,
                FailureReason: answers.failure,
                CreationTime: new Date(now.getTime() - 3_723_000),
                LastModifiedTime: now,
                $metadata: {},
              },
              response: {},
            };
          }
          return next(args);
        },
        { step: 'initialize', name: 'stubPipelineCalls' },
      );
    }
  }

  test('without permission to read the training logs: one note, and the watch goes on without progress', async () => {
    // GIVEN a finished run with a training job, and a caller whose FilterLogEvents is denied
    const { arn, id } = await startRun();
    await createTrainingJob(`pipelines-${id}-Train-a1b2c3d4e5`);
    const { ctx, env } = context();
    ctx.aws.logs.middlewareStack.add(
      () => async () => {
        throw Object.assign(new Error('not authorized to perform: logs:FilterLogEvents'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 },
        });
      },
      { step: 'initialize', name: 'denyLogs' },
    );
    // WHEN it is watched
    const result = await watchExecution(ctx, arn, { ...noWait, noDeploy: true });
    // THEN it finishes as usual, saying once why there is no progress line
    expect(result.exitCode).toBe(0);
    expect(env.stderrText.match(/note: no permission to read the training logs/g)).toHaveLength(1);
    expect(env.stdoutText).toMatch(/training job pipelines-\w+-Train-a1b2c3d4e5: Completed/);
    expect(env.stdoutText).not.toMatch(/progress step/);
    ctx.close();
  });

  test('shows steps, the training job metrics and fails with the quality gate message', async () => {
    // GIVEN a run whose steps name a training job and whose quality gate failed
    const { arn } = await startRun();
    await createTrainingJob('train-job-from-step-metadata');
    const { ctx, env } = context();
    const start = new Date(Date.now() - 3_600_000);
    stubPipelineCalls(ctx, {
      status: 'Failed',
      failure: 'Step failure: One or multiple steps failed.',
      steps: [
        {
          StepName: 'Train',
          StepStatus: 'Succeeded',
          StartTime: start,
          EndTime: new Date(start.getTime() + 3_000_000),
          Metadata: {
            TrainingJob: { Arn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:training-job/train-job-from-step-metadata` },
          },
        },
        { StepName: 'QualityGate', StepStatus: 'Succeeded', Metadata: { Condition: { Outcome: 'False' } } },
        {
          StepName: 'EvalLossTooHigh',
          StepStatus: 'Failed',
          FailureReason: 'fail step',
          Metadata: { Fail: { ErrorMessage: 'eval_loss 2.31 is above the recipe threshold 1.5' } },
        },
      ],
    });
    // WHEN it is watched
    const result = await watchExecution(ctx, arn, { intervalSeconds: 0 });
    // THEN each step, the job and its metrics are printed, and the watch fails with the pipeline's reason
    expect(result.steps).toBe('listed');
    expect(env.stdoutText).toMatch(/ {2}step Train: Succeeded \(50m 00s\)/);
    expect(env.stdoutText).toMatch(/ {2}step QualityGate: Succeeded, condition False/);
    expect(env.stdoutText).toMatch(/training job train-job-from-step-metadata: Completed\/Completed/);
    expect(env.stdoutText).toMatch(/ {2}metrics train:progress=100\n/);
    expect(env.stdoutText).toMatch(/pipeline gptoss-test-demo-lora: Failed \(1h 02m 03s\)/);
    expect(result).toMatchObject({ exitCode: 1, failure: 'Step failure: One or multiple steps failed.' });
    ctx.close();
  });

  test('--once on a running pipeline exits 2; a failed step gives the reason when the run has none', async () => {
    const { arn } = await startRun();
    const running = context();
    stubPipelineCalls(running.ctx, { status: 'Executing', steps: [{ StepName: 'Train', StepStatus: 'Executing' }] });
    const once = await watchExecution(running.ctx, arn, { once: true });
    expect(once.exitCode).toBe(2);
    expect(running.env.stdoutText).toMatch(
      /step Train: Executing\nstill running: pipeline gptoss-test-demo-lora is Executing; watch again later\n$/,
    );
    running.ctx.close();

    const failed = context();
    stubPipelineCalls(failed.ctx, {
      status: 'Failed',
      steps: [{ StepName: 'Gate', StepStatus: 'Failed', Metadata: { Fail: { ErrorMessage: 'eval_loss 2.3 > 1.5' } } }],
    });
    const r = await watchExecution(failed.ctx, arn, { intervalSeconds: 0 });
    expect(r).toMatchObject({ exitCode: 1, failure: 'step Gate: eval_loss 2.3 > 1.5' });
    expect(failed.env.stdoutText).toContain(
      'FAILED: pipeline gptoss-test-demo-lora Failed: step Gate: eval_loss 2.3 > 1.5',
    );
    failed.ctx.close();
  });

  test('fails on an execution that does not exist', async () => {
    await createPipeline(c);
    const { ctx } = context();
    const message = await expectCliError(
      watchExecution(ctx, `arn:aws:sagemaker:us-east-1:${ACCOUNT}:pipeline/${PIPELINE}/execution/nope`, noWait),
    );
    expect(message).toMatch(/pipeline execution .*\/execution\/nope does not exist in this account and region/);
    const never = await expectCliError(watchExecution(ctx, 'demo-lora', noWait));
    expect(never).toBe('recipe "demo-lora" has never been run; start it with "npm run cli -- run demo-lora"');
    ctx.close();
  });
});

describe('models, approve, reject', () => {
  test('lists packages per recipe with metrics from the customer metadata', async () => {
    await registerPackage(c, { eval_loss: '1.234', train_loss: '0.987', recipe_hash: 'abc123def456' });
    await registerPackage(c, { eval_loss: '1.1' });
    const { ctx, env } = context();
    const rows = await listModels(ctx, undefined);
    expect(rows.map((r) => [r.ref, r.approval, r.metrics])).toEqual([
      ['gptoss-test-demo-lora/2', 'PendingManualApproval', { eval_loss: 1.1 }],
      ['gptoss-test-demo-lora/1', 'PendingManualApproval', { eval_loss: 1.234, train_loss: 0.987 }],
    ]);
    expect(env.stdoutText.split('\n')[0]).toMatch(/^PACKAGE\s+APPROVAL\s+CREATED\s+METRICS$/);
    expect(env.stdoutText).toMatch(
      /gptoss-test-demo-lora\/1\s+PendingManualApproval\s+\S+ \S+Z\s+eval_loss=1\.234 train_loss=0\.987/,
    );
    ctx.close();
  });

  test('approves a package by recipe/version and reads the status back', async () => {
    // GIVEN a pending package
    const arn = await registerPackage(c, { eval_loss: '1.2' });
    const { ctx, env } = context();
    // WHEN it is approved with a description
    const result = await setApproval(ctx, 'demo-lora/1', 'Approved', 'eval loss below 1.3; spot-checked French');
    // THEN SageMaker holds the new status and the description
    const pkg = await c.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    expect(pkg.ModelApprovalStatus).toBe('Approved');
    // (moto's STS answers GetCallerIdentity with its default user)
    expect(pkg.ApprovalDescription).toBe(
      'Approved by arn:aws:sts::123456789012:user/moto: eval loss below 1.3; spot-checked French',
    );
    expect(result).toMatchObject({ previous: 'PendingManualApproval', status: 'Approved' });
    expect(env.stdoutText).toContain('gptoss-test-demo-lora/1: PendingManualApproval -> Approved');
    ctx.close();
  });

  test('keeps the earlier notes: a rejection after an approval appends, naming who decided each time', async () => {
    // GIVEN an approved package with a note
    const arn = await registerPackage(c, { eval_loss: '1.2' });
    const { ctx } = context();
    await setApproval(ctx, 'demo-lora/1', 'Approved', 'looked fine');
    // WHEN it is rejected later
    await setApproval(ctx, 'demo-lora/1', 'Rejected', 'answers in the wrong language');
    // THEN both notes are there, oldest first
    const pkg = await c.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    expect(pkg.ApprovalDescription).toBe(
      [
        'Approved by arn:aws:sts::123456789012:user/moto: looked fine',
        'Rejected by arn:aws:sts::123456789012:user/moto: answers in the wrong language',
      ].join('\n'),
    );
    ctx.close();
  });

  test('rejects a package by ARN through the commander command, with a default description', async () => {
    const arn = await registerPackage(c, { eval_loss: '3.2' });
    const env = new CapturedEnvironment(project, { USER: 'tester' });
    await rejectCommand(env).parseAsync(['--endpoint-url', moto.endpoint, '--region', 'us-east-1', arn], {
      from: 'user',
    });
    expect(env.exitCode).toBe(0);
    const pkg = await c.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    expect(pkg.ModelApprovalStatus).toBe('Rejected');
    expect(pkg.ApprovalDescription).toBe(
      'Rejected by arn:aws:sts::123456789012:user/moto: with the gpt-oss CLI (local user tester)',
    );
  });

  test('fails on an unknown version or recipe, listing what exists', async () => {
    await registerPackage(c, { eval_loss: '1.2' });
    const { ctx } = context();
    expect(await expectCliError(setApproval(ctx, 'demo-lora/7', 'Approved', undefined))).toBe(
      'model package group gptoss-test-demo-lora has no version 7; versions: 1',
    );
    expect(await expectCliError(setApproval(ctx, 'ghost/1', 'Approved', undefined))).toBe(
      'unknown recipe "ghost": there is no model package group "gptoss-test-ghost"; recipes with a model registry: demo-lora',
    );
    expect(await expectCliError(listModels(ctx, 'ghost'))).toMatch(/^unknown recipe "ghost"/);
    expect(await expectCliError(setApproval(ctx, 'demo-lora', 'Approved', undefined))).toMatch(
      /"demo-lora" does not name a model package; write <recipe>\/<version>/,
    );
    ctx.close();
  });
});

describe('chat', () => {
  const completion = (content: string, reasoning?: string) =>
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, reasoning_content: reasoning ?? null },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
    });

  test('invokes the recipe endpoint and prints reasoning and answer separately', async () => {
    // GIVEN an InService endpoint with a canned vLLM chat completion
    await createEndpoint(c);
    await queueEndpointResults(moto.endpoint, [
      completion('Paris.', "L'utilisateur demande la capitale de la France."),
    ]);
    const { ctx, env } = context();
    // WHEN the recipe's endpoint is asked, reasoning in French
    const reply = await chatOnce(ctx, 'demo-lora', 'What is the capital of France?', { reasoningLanguage: 'French' });
    // THEN the reasoning and the answer come out separately
    expect(reply.endpoint).toBe(PIPELINE);
    expect(reply.reasoning).toBe("L'utilisateur demande la capitale de la France.");
    expect(reply.answer).toBe('Paris.');
    expect(env.stdoutText).toBe(
      "reasoning (French):\n  L'utilisateur demande la capitale de la France.\nanswer:\n  Paris.\n",
    );
    expect(env.stderrText).toContain('tokens: 42 prompt, 17 completion');
    ctx.close();
  });

  test('keeps a conversation in an interactive session', async () => {
    await createEndpoint(c);
    await queueEndpointResults(moto.endpoint, [completion('Hello!', 'Greet.'), completion('Bye!', 'Farewell.')]);
    const { ctx } = context();
    const replies = await chatSession(ctx, PIPELINE, Readable.from(['hi\n', '\n', 'bye\n', '/exit\n', 'ignored\n']));
    expect(replies.map((r) => r.answer)).toEqual(['Hello!', 'Bye!']);
    ctx.close();
  });

  test('fails on an unknown endpoint, listing the deployment endpoints', async () => {
    await createEndpoint(c);
    const { ctx } = context();
    const message = await expectCliError(chatOnce(ctx, 'ghost', 'hi'));
    expect(message).toBe(
      'endpoint "ghost" does not exist (also tried gptoss-test-ghost); endpoints of this deployment: gptoss-test-demo-lora (InService)',
    );
    ctx.close();
  });
});
