import { CreateTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { setApproval } from '../../lib/cli/approval';
import { runPipeline } from '../../lib/cli/commands/run';
import { watchExecution } from '../../lib/cli/commands/watch';
import { CliContext } from '../../lib/cli/context';
import {
  ACCOUNT,
  createPipeline,
  executeStateMachines,
  PIPELINE,
  putPreparedDataset,
  putTrainingLogs,
  registerPackage,
  ROLE_ARN,
  putStagedModel,
  startStateMachine,
  useMotoProject,
  expectCliError,
} from './support';

const cli = useMotoProject();

describe('watch', () => {
  async function startRun(): Promise<{ arn: string; id: string }> {
    await createPipeline(cli.c);
    await putStagedModel(cli.c);
    await putPreparedDataset(cli.c);
    const { ctx } = cli.context();
    const run = await runPipeline(ctx, 'demo-lora');
    ctx.close();
    return { arn: run.executionArn, id: run.executionArn.split('/').pop() ?? '' };
  }

  async function createTrainingJob(name: string, hyperParameters?: Record<string, string>): Promise<void> {
    await cli.c.sagemaker.send(
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
    await putTrainingLogs(cli.c, `pipelines-${id}-Train-a1b2c3d4e5`, [
      "{'loss': 1.52, 'learning_rate': 0.0002, 'epoch': 0.5}",
      "{'eval_loss': 1.234, 'epoch': 1.0}",
    ]);
    await executeStateMachines(cli.moto.endpoint, true);
    const packageArn = await registerPackage(cli.c, {
      eval_loss: '1.234',
      train_loss: '0.987',
      pipeline_execution_arn: arn,
    });
    await startStateMachine(
      cli.c,
      'gptoss-test-register',
      {
        StartAt: 'Register',
        States: { Register: { Type: 'Pass', Result: { ModelPackageArn: packageArn }, End: true } },
      },
      { source: 'aws.sagemaker', detail: { pipelineExecutionArn: arn, currentPipelineExecutionStatus: 'Succeeded' } },
    );
    const { ctx, env } = cli.context();
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
    await executeStateMachines(cli.moto.endpoint, true);
    const packageArn = await registerPackage(cli.c, { eval_loss: '1.1' });
    const { ctx: approver } = cli.context();
    await setApproval(approver, packageArn, 'Approved', 'recipe says approval: auto');
    approver.close();
    await startStateMachine(
      cli.c,
      'gptoss-test-register',
      {
        StartAt: 'Register',
        States: { Register: { Type: 'Pass', Result: { ModelPackageArn: packageArn }, End: true } },
      },
      { detail: { pipelineExecutionArn: arn } },
    );
    await startStateMachine(
      cli.c,
      'gptoss-test-deploy',
      { StartAt: 'Deploy', States: { Deploy: deployState } },
      {
        'detail-type': 'SageMaker Model Package State Change',
        detail: { ModelPackageArn: packageArn, ModelApprovalStatus: 'Approved' },
      },
    );
    const { ctx, env } = cli.context();
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
    await executeStateMachines(cli.moto.endpoint, true);
    await startStateMachine(
      cli.c,
      'gptoss-test-register',
      {
        StartAt: 'Boom',
        States: { Boom: { Type: 'Fail', Error: 'NoTrainingJob', Cause: 'the execution has no training step' } },
      },
      { detail: { pipelineExecutionArn: arn } },
    );
    const { ctx, env } = cli.context();
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
    const { ctx, env } = cli.context();
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
    const { ctx, env } = cli.context();
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
    await putTrainingLogs(cli.c, job, [...lines, '[metrics] step=40 epoch=0.2 eval_loss=1.6']);
    const { ctx, env } = cli.context();
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
    const { ctx, env } = cli.context();
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
    const { ctx, env } = cli.context();
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
    const running = cli.context();
    stubPipelineCalls(running.ctx, { status: 'Executing', steps: [{ StepName: 'Train', StepStatus: 'Executing' }] });
    const once = await watchExecution(running.ctx, arn, { once: true });
    expect(once.exitCode).toBe(2);
    expect(running.env.stdoutText).toMatch(
      /step Train: Executing\nstill running: pipeline gptoss-test-demo-lora is Executing; watch again later\n$/,
    );
    running.ctx.close();

    const failed = cli.context();
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
    await createPipeline(cli.c);
    const { ctx } = cli.context();
    const message = await expectCliError(
      watchExecution(ctx, `arn:aws:sagemaker:us-east-1:${ACCOUNT}:pipeline/${PIPELINE}/execution/nope`, noWait),
    );
    expect(message).toMatch(/pipeline execution .*\/execution\/nope does not exist in this account and region/);
    const never = await expectCliError(watchExecution(ctx, 'demo-lora', noWait));
    expect(never).toBe('recipe "demo-lora" has never been run; start it with "npm run cli -- run demo-lora"');
    ctx.close();
  });
});
