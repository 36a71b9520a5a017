import { FilterLogEventsCommand, type FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeModelPackageCommand,
  DescribePipelineExecutionCommand,
  type DescribePipelineExecutionCommandOutput,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  ListModelPackagesCommand,
  ListPipelineExecutionsCommand,
  ListPipelineExecutionStepsCommand,
  ListTrainingJobsCommand,
  type PipelineExecutionStep,
} from '@aws-sdk/client-sagemaker';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ListExecutionsCommand,
  ListStateMachinesCommand,
} from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { modelPackageGroupName, recipeNameFromResource, resourcePrefix } from '../../config/naming';
import { addAwsOptions, parseNonNegativeNumber, runCommand } from '../command';
import type { CliContext, CliEnvironment } from '../context';
import { awsCall, CliError, isNotFound, isNotImplemented, translateAwsError } from '../errors';
import { packageRef } from '../model-packages';
import { consoleLinks, formatDuration } from '../output';
import { deployedRecipeNames, pipelineNameFor, unknownRecipeMessage } from '../pipelines';

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
  readonly steps: 'listed' | 'not-implemented';
  readonly trainingJobs: readonly string[];
  readonly stateMachineExecutions: readonly { name: string; status: string }[];
  readonly modelPackage?: { arn: string; approval: string };
}

const PIPELINE_DONE = new Set(['Succeeded', 'Failed', 'Stopped']);
const SFN_DONE = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const EXECUTION_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline\/([^/]+)\/execution\/([^/]+)$/;

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

function metricsLine(job: DescribeTrainingJobCommandOutput): string {
  return (job.FinalMetricDataList ?? [])
    .filter((m) => m.MetricName !== undefined && m.Value !== undefined)
    .map((m) => `${m.MetricName}=${Number(m.Value?.toPrecision(5))}`)
    .join(' ');
}

/** Polls one pipeline execution, then the register/deploy state machines, printing what changes. */
class Watcher {
  private readonly printed = new Map<string, string>();
  private stepsSupported = true;
  private stepsConfirmed = false;
  private readonly trainingJobs = new Set<string>();
  /** Per training job: newest log timestamp printed and the event ids printed at that millisecond. */
  private readonly logCursor = new Map<string, { time: number; ids: Set<string> }>();
  private readonly sfnExecutions = new Map<string, { name: string; status: string }>();
  /** Inputs of the state machine executions seen so far (an input never changes). */
  private readonly inputs = new Map<string, string>();
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
    this.trainingJobs.add(jobName);
    const job = await awsCall(
      {
        action: 'sagemaker:DescribeTrainingJob',
        resource: `training job ${jobName}`,
        endpointUrl: this.ctx.endpointUrl,
      },
      () => this.ctx.aws.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName })),
    );
    const status = `${job.TrainingJobStatus ?? '?'}${job.SecondaryStatus ? `/${job.SecondaryStatus}` : ''}`;
    this.report(
      `job:${jobName}`,
      `training job ${jobName}: ${status}${this.elapsed(job.TrainingStartTime, job.TrainingEndTime)}`,
    );
    const metrics = metricsLine(job);
    if (metrics) this.report(`metrics:${jobName}`, `  metrics ${metrics}`);
    if (job.TrainingJobStatus === 'Completed' && job.BillableTimeInSeconds && job.TrainingTimeInSeconds) {
      const saved = 1 - job.BillableTimeInSeconds / job.TrainingTimeInSeconds;
      if (saved > 0.005) {
        this.report(
          `spot:${jobName}`,
          `  spot saved ${(saved * 100).toFixed(0)}% (billable ${job.BillableTimeInSeconds}s of ${job.TrainingTimeInSeconds}s)`,
        );
      }
    }
    if (job.FailureReason) this.report(`jobfail:${jobName}`, `  failure: ${job.FailureReason}`);
    if (this.opts.logs) await this.printLogs(jobName);
  }

  /** New lines of the job's log streams (`/aws/sagemaker/TrainingJobs`, streams `<job>/algo-N-...`). */
  private async printLogs(jobName: string): Promise<void> {
    const cursor = this.logCursor.get(jobName) ?? { time: 0, ids: new Set<string>() };
    this.logCursor.set(jobName, cursor);
    let token: string | undefined;
    do {
      let page: FilterLogEventsCommandOutput;
      try {
        page = await this.ctx.aws.logs.send(
          new FilterLogEventsCommand({
            logGroupName: '/aws/sagemaker/TrainingJobs',
            logStreamNamePrefix: `${jobName}/`,
            startTime: cursor.time || undefined,
            nextToken: token,
          }),
        );
      } catch (e) {
        // the log group appears with the job's first line; until then there is nothing to show.
        if (isNotFound(e)) return;
        throw await translateAwsError(e, {
          action: 'logs:FilterLogEvents',
          resource: `/aws/sagemaker/TrainingJobs ${jobName}/*`,
          endpointUrl: this.ctx.endpointUrl,
        });
      }
      for (const event of page.events ?? []) {
        const time = event.timestamp ?? 0;
        const id = event.eventId ?? `${event.logStreamName}:${time}:${event.message}`;
        if (time < cursor.time || (time === cursor.time && cursor.ids.has(id))) continue;
        if (time > cursor.time) cursor.ids.clear();
        cursor.time = time;
        cursor.ids.add(id);
        const host = event.logStreamName?.split('/')[1]?.replace(/-\d+$/, '') ?? '';
        this.ctx.out.line(`  [${host}] ${(event.message ?? '').trimEnd()}`);
      }
      token = page.nextToken;
    } while (token);
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

  /** Our state machines (register, deploy): the ones named with this deployment's prefix. */
  private async stateMachines(): Promise<{ arn: string; name: string }[]> {
    const prefix = `${resourcePrefix(this.ctx.naming)}-`;
    const machines: { arn: string; name: string }[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall({ action: 'states:ListStateMachines', endpointUrl: this.ctx.endpointUrl }, () =>
        this.ctx.aws.sfn.send(new ListStateMachinesCommand({ nextToken: token, maxResults: 100 })),
      );
      for (const m of page.stateMachines ?? []) {
        if (m.name?.startsWith(prefix) && m.stateMachineArn) machines.push({ arn: m.stateMachineArn, name: m.name });
      }
      token = page.nextToken;
    } while (token);
    return machines;
  }

  /**
   * Executions of our state machines that belong to this run: their input names the pipeline execution
   * (register) or a model package another matched execution produced or its group (deploy), and they
   * started after the run.
   */
  private async relatedExecutions(since: Date, packageArns: Set<string>): Promise<DescribeExecutionCommandOutput[]> {
    const found: DescribeExecutionCommandOutput[] = [];
    const matches = (input: string) =>
      input.includes(this.executionArn) || [...packageArns].some((arn) => input.includes(arn));
    const describe = (executionArn: string) =>
      awsCall({ action: 'states:DescribeExecution', resource: executionArn, endpointUrl: this.ctx.endpointUrl }, () =>
        this.ctx.aws.sfn.send(new DescribeExecutionCommand({ executionArn })),
      );
    for (const machine of await this.stateMachines()) {
      const page = await awsCall(
        { action: 'states:ListExecutions', resource: machine.name, endpointUrl: this.ctx.endpointUrl },
        () => this.ctx.aws.sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.arn, maxResults: 50 })),
      );
      for (const e of page.executions ?? []) {
        if (!e.executionArn || (e.startDate && e.startDate.getTime() < since.getTime() - 60_000)) continue;
        // an execution's input never changes: it is read once, and described again only while it is ours.
        const cached = this.inputs.get(e.executionArn);
        if (cached !== undefined && !matches(cached)) continue;
        const detail = await describe(e.executionArn);
        this.inputs.set(e.executionArn, detail.input ?? '');
        if (!matches(detail.input ?? '')) continue;
        found.push(detail);
        for (const arn of `${detail.output ?? ''}`.match(/arn:aws[a-z-]*:sagemaker:[^"\s]+:model-package\/[^"\s]+/g) ??
          []) {
          packageArns.add(arn);
        }
      }
    }
    return found;
  }

  /** The model package this run registered, if the register stage has made one. */
  private async registeredPackage(
    since: Date,
    packageArns: Set<string>,
  ): Promise<{ arn: string; approval: string } | undefined> {
    const recipe = recipeNameFromResource(this.ctx.naming, this.pipelineName);
    if (!recipe) return undefined;
    const group = modelPackageGroupName(this.ctx.naming, recipe);
    const page = await awsCall(
      { action: 'sagemaker:ListModelPackages', resource: group, endpointUrl: this.ctx.endpointUrl },
      () =>
        this.ctx.aws.sagemaker.send(
          new ListModelPackagesCommand({
            ModelPackageGroupName: group,
            SortBy: 'CreationTime',
            SortOrder: 'Descending',
            MaxResults: 10,
          }),
        ),
    );
    for (const summary of page.ModelPackageSummaryList ?? []) {
      if (!summary.ModelPackageArn) continue;
      if (summary.CreationTime && summary.CreationTime.getTime() < since.getTime() - 60_000) continue;
      const pkg = await awsCall(
        {
          action: 'sagemaker:DescribeModelPackage',
          resource: summary.ModelPackageArn,
          endpointUrl: this.ctx.endpointUrl,
        },
        () =>
          this.ctx.aws.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: summary.ModelPackageArn })),
      );
      const traced =
        pkg.MetadataProperties?.GeneratedBy === this.executionArn ||
        Object.values(pkg.CustomerMetadataProperties ?? {}).includes(this.executionArn) ||
        packageArns.has(summary.ModelPackageArn);
      if (traced) {
        packageArns.add(summary.ModelPackageArn);
        return { arn: summary.ModelPackageArn, approval: pkg.ModelApprovalStatus ?? 'Unknown' };
      }
    }
    return undefined;
  }

  async run(): Promise<WatchResult> {
    const intervalMs = Math.max(0, (this.opts.intervalSeconds ?? 30) * 1000);
    const region = await this.ctx.aws.region();
    this.ctx.out.info(`watching ${this.executionArn}`);
    this.ctx.out.info(`console  ${consoleLinks.pipeline(region, this.pipelineName)}`);
    const result = (extra: Partial<WatchResult> & { exitCode: number; pipelineStatus: string }): WatchResult => ({
      executionArn: this.executionArn,
      steps: this.stepsSupported ? 'listed' : 'not-implemented',
      trainingJobs: [...this.trainingJobs],
      stateMachineExecutions: [...this.sfnExecutions.values()],
      ...extra,
    });

    // phase 1: the pipeline (training, quality gate).
    let pipeline = await this.pollPipeline();
    while (!PIPELINE_DONE.has(pipeline.status)) {
      if (this.opts.once || this.timedOut())
        return this.stillRunning(result({ exitCode: 2, pipelineStatus: pipeline.status }));
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
      const executions = await this.relatedExecutions(since, packageArns);
      modelPackage = (await this.registeredPackage(since, packageArns)) ?? modelPackage;
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
      const running = executions.some((e) => !SFN_DONE.has(e.status ?? ''));
      if (modelPackage) this.report('package', `model package ${modelPackage.arn}: ${modelPackage.approval}`);
      if (!running && modelPackage?.approval === 'PendingManualApproval') {
        this.ctx.out.line(`waiting for approval: npm run cli -- approve ${packageRef(modelPackage.arn)}`);
        return result({ exitCode: 0, pipelineStatus: pipeline.status, modelPackage });
      }
      if (!running && modelPackage?.approval === 'Rejected') {
        this.ctx.out.line(`model package ${packageRef(modelPackage.arn)} was rejected; it will not be deployed`);
        return result({ exitCode: 0, pipelineStatus: pipeline.status, modelPackage });
      }
      const deployDone = executions.some(
        (e) =>
          e.status === 'SUCCEEDED' &&
          /deploy/i.test(e.stateMachineArn ?? '') &&
          !/register/i.test(e.stateMachineArn ?? ''),
      );
      if (!running && deployDone) {
        this.ctx.out.line('done: trained, registered and deployed');
        return result({ exitCode: 0, pipelineStatus: pipeline.status, modelPackage });
      }
      if (!running && this.now().getTime() >= waitLimit) {
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
      if (this.opts.once || this.timedOut())
        return this.stillRunning(result({ exitCode: 2, pipelineStatus: pipeline.status, modelPackage }));
      await this.sleep(intervalMs);
    }
  }

  private stillRunning(r: WatchResult): WatchResult {
    this.ctx.out.line(
      this.opts.once
        ? 'still running; watch again later'
        : `still running after ${formatDuration((this.opts.timeoutSeconds ?? 172800) * 1000)}; watch again later`,
    );
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
      'Shows the steps of a pipeline execution (status, elapsed time, training metrics as they arrive), then ' +
        'the register/deploy state machine executions it triggers. Exit code: 0 done (or waiting for approval), ' +
        '1 something failed (the reason is printed), 2 still running when the watch stopped.',
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
    .option('--once', 'print the current state once and exit')
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
