import {
  DescribePipelineExecutionCommand,
  type DescribePipelineExecutionCommandOutput,
  ListPipelineExecutionStepsCommand,
  ListTrainingJobsCommand,
  type PipelineExecutionStep,
} from '@aws-sdk/client-sagemaker';
import { Command } from 'commander';
import { addAwsOptions, parseNonNegativeNumber, runCommand } from '../command';
import type { CliContext, CliEnvironment } from '../context';
import { awsCall, isNotImplemented, translateAwsError } from '../errors';
import { packageRef } from '../model-packages';
import { consoleLinks, formatDuration } from '../output';
import { EXECUTION_ARN, resolveExecution } from '../watch/resolve-execution';
import { RunStages } from '../watch/stages';
import { progressLine, TrainingJobWatch } from '../watch/training-job';

export { resolveExecution } from '../watch/resolve-execution';

export interface WatchOptions {
  /** Seconds between polls. @default 30 */
  readonly intervalSeconds?: number;
  /** Give up (exit code 2) after this many seconds. @default 172800 (48 hours) */
  readonly timeoutSeconds?: number;
  /** Seconds to wait for the register/deploy state machines to pick up a finished run. @default 600 */
  readonly deployWaitSeconds?: number;
  /** Stop after the pipeline; do not follow register/deploy. */
  readonly noDeploy?: boolean;
  /** Print the current state once and exit (0 done, 1 failed, 2 still running). */
  readonly once?: boolean;
  /** Also print the training jobs' CloudWatch log lines as they arrive. */
  readonly logs?: boolean;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}

/** How the watch ended. */
export interface WatchResult {
  readonly executionArn: string;
  readonly pipelineStatus: string;
  /** 0 success, 1 something failed, 2 still running when the watch stopped. */
  readonly exitCode: number;
  readonly failure?: string;
  /** When still running (exit code 2): what is still going on, as the last line printed says. */
  readonly pending?: string;
  readonly steps: 'listed' | 'not-implemented';
  readonly trainingJobs: readonly string[];
  readonly stateMachineExecutions: readonly { name: string; status: string }[];
  readonly modelPackage?: { arn: string; approval: string };
}

const PIPELINE_DONE = new Set(['Succeeded', 'Failed', 'Stopped']);
const SFN_DONE = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** Polls one pipeline execution, then the register/deploy state machines, printing what changes. */
class Watcher {
  private readonly printed = new Map<string, string>();
  private stepsSupported = true;
  private stepsConfirmed = false;
  private readonly jobs = new Map<string, TrainingJobWatch>();
  private readonly sfnExecutions = new Map<string, { name: string; status: string }>();
  private readonly stages: RunStages;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  private readonly startedAt: number;

  constructor(
    private readonly ctx: CliContext,
    private readonly executionArn: string,
    private readonly opts: WatchOptions,
  ) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.now ?? (() => new Date());
    this.startedAt = this.now().getTime();
    this.stages = new RunStages(ctx, executionArn, this.pipelineName);
  }

  private get pipelineName(): string {
    return EXECUTION_ARN.exec(this.executionArn)?.[1] ?? '';
  }

  private get executionId(): string {
    return EXECUTION_ARN.exec(this.executionArn)?.[2] ?? '';
  }

  private stamp(): string {
    return this.now().toISOString().slice(11, 19);
  }

  /** Prints `text` under `key` only when it differs from what was printed last for that key. */
  private report(key: string, text: string): void {
    if (this.printed.get(key) === text) return;
    this.printed.set(key, text);
    this.ctx.out.line(`${this.stamp()}  ${text}`);
  }

  private elapsed(start?: Date, end?: Date): string {
    if (!start) return '';
    return ` (${formatDuration((end ?? this.now()).getTime() - start.getTime())})`;
  }

  private timedOut(): boolean {
    const limit = (this.opts.timeoutSeconds ?? 172800) * 1000;
    return this.now().getTime() - this.startedAt >= limit;
  }

  private async describeExecution(): Promise<DescribePipelineExecutionCommandOutput> {
    return awsCall(
      {
        action: 'sagemaker:DescribePipelineExecution',
        resource: this.executionArn,
        endpointUrl: this.ctx.endpointUrl,
        onNotFound: () =>
          `pipeline execution ${this.executionArn} does not exist in this account and region; ` +
          'check the ARN and --region, or run "npm run cli -- watch <recipe>" for the latest run',
      },
      () =>
        this.ctx.aws.sagemaker.send(new DescribePipelineExecutionCommand({ PipelineExecutionArn: this.executionArn })),
    );
  }

  private async listSteps(): Promise<PipelineExecutionStep[] | undefined> {
    if (!this.stepsSupported) return undefined;
    // until one call succeeded, probe with few retries: an endpoint without this operation answers 500.
    const client = this.stepsConfirmed ? this.ctx.aws.sagemaker : this.ctx.aws.sagemakerProbe;
    try {
      const steps: PipelineExecutionStep[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListPipelineExecutionStepsCommand({
            PipelineExecutionArn: this.executionArn,
            SortOrder: 'Ascending',
            NextToken: token,
          }),
        );
        steps.push(...(page.PipelineExecutionSteps ?? []));
        token = page.NextToken;
      } while (token);
      this.stepsConfirmed = true;
      return steps;
    } catch (e) {
      if (!isNotImplemented(e)) {
        throw await translateAwsError(e, {
          action: 'sagemaker:ListPipelineExecutionSteps',
          resource: this.executionArn,
          endpointUrl: this.ctx.endpointUrl,
        });
      }
      this.stepsSupported = false;
      this.ctx.out.info(
        `note: this endpoint does not implement ListPipelineExecutionSteps; showing the execution status and ` +
          `finding its training job by name (pipelines-${this.executionId}-...) instead`,
      );
      return undefined;
    }
  }

  /** Training jobs of this execution when the steps cannot be listed: SageMaker names them pipelines-<id>-<step>-<suffix>. */
  private async trainingJobsByName(): Promise<string[]> {
    const page = await awsCall({ action: 'sagemaker:ListTrainingJobs', endpointUrl: this.ctx.endpointUrl }, () =>
      this.ctx.aws.sagemaker.send(
        new ListTrainingJobsCommand({ NameContains: `pipelines-${this.executionId}`, MaxResults: 20 }),
      ),
    );
    return (page.TrainingJobSummaries ?? []).map((j) => j.TrainingJobName ?? '').filter(Boolean);
  }

  private async followTrainingJob(jobName: string): Promise<void> {
    let job = this.jobs.get(jobName);
    if (!job) {
      job = new TrainingJobWatch(this.ctx, jobName, {
        report: (key, text) => this.report(key, text),
        elapsed: (start, end) => this.elapsed(start, end),
        logs: this.opts.logs,
      });
      this.jobs.set(jobName, job);
    }
    await job.poll();
  }

  /** One poll of the pipeline; returns its status and failure reason. */
  private async pollPipeline(): Promise<{ status: string; failure?: string }> {
    const exec = await this.describeExecution();
    const status = exec.PipelineExecutionStatus ?? 'Unknown';
    const end = PIPELINE_DONE.has(status) ? exec.LastModifiedTime : undefined;
    this.report('pipeline', `pipeline ${this.pipelineName}: ${status}${this.elapsed(exec.CreationTime, end)}`);
    const steps = await this.listSteps();
    let stepFailure: string | undefined;
    if (steps) {
      for (const step of steps) {
        const name = step.StepName ?? '?';
        const outcome = step.Metadata?.Condition?.Outcome ? `, condition ${step.Metadata.Condition.Outcome}` : '';
        this.report(
          `step:${name}`,
          `  step ${name}: ${step.StepStatus ?? '?'}${outcome}${this.elapsed(step.StartTime, step.EndTime)}`,
        );
        const jobArn = step.Metadata?.TrainingJob?.Arn;
        if (jobArn) await this.followTrainingJob(jobArn.split('/').pop() ?? jobArn);
        const reason = step.Metadata?.Fail?.ErrorMessage ?? step.FailureReason;
        if (step.StepStatus === 'Failed' && reason) stepFailure = `step ${name}: ${reason}`;
      }
    } else {
      for (const job of await this.trainingJobsByName()) await this.followTrainingJob(job);
    }
    const failure = exec.FailureReason || stepFailure;
    return {
      status,
      failure: status === 'Failed' || status === 'Stopped' ? failure || `pipeline ${status}` : undefined,
    };
  }

  /** What the pipeline is doing while it runs: the running training job's progress, if any. */
  private pipelinePending(status: string): string {
    const running = [...this.jobs.values()].find((j) => j.jobStatus === 'InProgress');
    const progress = running?.progressSummary();
    if (running && progress) return `training job ${running.jobName}: ${progressLine(progress)}`;
    if (running) return `training job ${running.jobName} is running`;
    return `pipeline ${this.pipelineName} is ${status}`;
  }

  async run(): Promise<WatchResult> {
    const intervalMs = Math.max(0, (this.opts.intervalSeconds ?? 30) * 1000);
    const region = await this.ctx.aws.region();
    this.ctx.out.info(`watching ${this.executionArn}`);
    this.ctx.out.info(`console  ${consoleLinks.pipeline(region, this.pipelineName)}`);
    const result = (extra: Partial<WatchResult> & { exitCode: number; pipelineStatus: string }): WatchResult => ({
      executionArn: this.executionArn,
      steps: this.stepsSupported ? 'listed' : 'not-implemented',
      trainingJobs: [...this.jobs.keys()],
      stateMachineExecutions: [...this.sfnExecutions.values()],
      ...extra,
    });

    // phase 1: the pipeline (training, quality gate).
    let pipeline = await this.pollPipeline();
    while (!PIPELINE_DONE.has(pipeline.status)) {
      if (this.opts.once || this.timedOut()) {
        for (const job of this.jobs.values()) job.printChart();
        const pending = this.pipelinePending(pipeline.status);
        return this.stillRunning(result({ exitCode: 2, pipelineStatus: pipeline.status, pending }));
      }
      await this.sleep(intervalMs);
      pipeline = await this.pollPipeline();
    }
    if (pipeline.status !== 'Succeeded') {
      this.ctx.out.line(`FAILED: pipeline ${this.pipelineName} ${pipeline.status}: ${pipeline.failure}`);
      return result({ exitCode: 1, pipelineStatus: pipeline.status, failure: pipeline.failure });
    }
    if (this.opts.noDeploy) return result({ exitCode: 0, pipelineStatus: pipeline.status });

    // phase 2: register (and deploy once approved) on Step Functions, started by EventBridge.
    const exec = await this.describeExecution();
    const since = exec.CreationTime ?? new Date(this.startedAt);
    const packageArns = new Set<string>();
    const waitLimit = this.now().getTime() + (this.opts.deployWaitSeconds ?? 600) * 1000;
    let modelPackage: { arn: string; approval: string } | undefined;
    for (;;) {
      const executions = await this.stages.relatedExecutions(since, packageArns);
      modelPackage = (await this.stages.registeredPackage(since, packageArns)) ?? modelPackage;
      for (const e of executions) {
        const name = e.stateMachineArn?.split(':').pop() ?? '?';
        const status = e.status ?? '?';
        this.sfnExecutions.set(e.executionArn ?? name, { name, status });
        this.report(
          `sfn:${e.executionArn}`,
          `state machine ${name}: ${status}${this.elapsed(e.startDate, e.stopDate)}`,
        );
        if (SFN_DONE.has(status) && status !== 'SUCCEEDED') {
          const reason = [e.error, e.cause].filter(Boolean).join(': ') || status;
          this.ctx.out.line(`FAILED: ${name} ${status}: ${reason}`);
          this.ctx.out.line(`        ${consoleLinks.stateMachineExecution(region, e.executionArn ?? '')}`);
          return result({ exitCode: 1, pipelineStatus: pipeline.status, failure: `${name}: ${reason}`, modelPackage });
        }
      }
      const running = executions.filter((e) => !SFN_DONE.has(e.status ?? ''));
      if (modelPackage) this.report('package', `model package ${modelPackage.arn}: ${modelPackage.approval}`);
      if (running.length === 0 && modelPackage?.approval === 'PendingManualApproval') {
        this.ctx.out.line(`waiting for approval: npm run cli -- approve ${packageRef(modelPackage.arn)}`);
        return result({ exitCode: 0, pipelineStatus: pipeline.status, modelPackage });
      }
      if (running.length === 0 && modelPackage?.approval === 'Rejected') {
        this.ctx.out.line(`model package ${packageRef(modelPackage.arn)} was rejected; it will not be deployed`);
        return result({ exitCode: 0, pipelineStatus: pipeline.status, modelPackage });
      }
      const deployDone = executions.some(
        (e) =>
          e.status === 'SUCCEEDED' &&
          /deploy/i.test(e.stateMachineArn ?? '') &&
          !/register/i.test(e.stateMachineArn ?? ''),
      );
      if (running.length === 0 && deployDone) {
        this.ctx.out.line('done: trained, registered and deployed');
        return result({ exitCode: 0, pipelineStatus: pipeline.status, modelPackage });
      }
      if (running.length === 0 && this.now().getTime() >= waitLimit) {
        const what =
          executions.length === 0
            ? 'no register/deploy execution started for this run'
            : 'no further deploy execution started';
        this.ctx.out.line(
          `${what} within ${formatDuration((this.opts.deployWaitSeconds ?? 600) * 1000)}; check that the deployment stack is ` +
            'deployed (its EventBridge rules start them), or look in the Step Functions console',
        );
        return result({ exitCode: 0, pipelineStatus: pipeline.status, modelPackage });
      }
      if (this.opts.once || this.timedOut()) {
        const pending =
          running.length > 0
            ? running
                .map((e) => `state machine ${e.stateMachineArn?.split(':').pop() ?? '?'} is ${e.status}`)
                .join(', ')
            : executions.length === 0
              ? `pipeline ${pipeline.status}; the register stage has not started yet (EventBridge starts it after a successful run)`
              : `pipeline ${pipeline.status}; waiting for the next register/deploy execution to start`;
        return this.stillRunning(result({ exitCode: 2, pipelineStatus: pipeline.status, modelPackage, pending }));
      }
      await this.sleep(intervalMs);
    }
  }

  /** The last line of a watch that stops before the end: what is still going on, then when to look again. */
  private stillRunning(r: WatchResult): WatchResult {
    const when = this.opts.once
      ? 'watch again later'
      : `stopped watching after ${formatDuration((this.opts.timeoutSeconds ?? 172800) * 1000)}; watch again later`;
    this.ctx.out.line(`still running: ${r.pending}; ${when}`);
    return r;
  }
}

/** `watch [EXECUTION]`: follows a pipeline execution and the register/deploy stage after it. */
export async function watchExecution(
  ctx: CliContext,
  target: string | undefined,
  opts: WatchOptions = {},
): Promise<WatchResult> {
  const arn = await resolveExecution(ctx, target);
  return new Watcher(ctx, arn, opts).run();
}

export function watchCommand(environment: CliEnvironment): Command {
  const cmd = new Command('watch')
    .summary('follow a pipeline run, then its register/deploy stage')
    .description(
      "Shows the steps of a pipeline execution (status, elapsed time), the training job's progress from its logs " +
        '(step of total, tokens/s, time left) with the loss so far as a text chart, then the register/deploy state ' +
        'machine executions it triggers. Exit code: 0 done (or waiting for approval), 1 something failed (the ' +
        'reason is printed), 2 still running when the watch stopped (the last line says what is still running).',
    )
    .argument(
      '[execution]',
      'pipeline execution ARN, or a recipe name for its latest run (default: latest run of any recipe)',
    )
    .option('--interval <seconds>', 'seconds between polls', parseNonNegativeNumber, 30)
    .option('--timeout <seconds>', 'stop watching after this long (exit code 2)', parseNonNegativeNumber, 172800)
    .option(
      '--deploy-wait <seconds>',
      'how long to wait for register/deploy to start after the run',
      parseNonNegativeNumber,
      600,
    )
    .option('--no-deploy', 'stop when the pipeline finishes')
    .option('--once', 'print the current state once and exit (exit code 2 and what is pending while it runs)')
    .option('--logs', "also print the training jobs' CloudWatch log lines as they arrive");
  addAwsOptions(cmd);
  return cmd.action(async (execution: string | undefined, opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      const r = await watchExecution(ctx, execution, {
        intervalSeconds: opts.interval as number,
        timeoutSeconds: opts.timeout as number,
        deployWaitSeconds: opts.deployWait as number,
        noDeploy: opts.deploy === false,
        once: opts.once === true,
        logs: opts.logs === true,
      });
      return r.exitCode;
    });
  });
}
