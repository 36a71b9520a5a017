import { FilterLogEventsCommand, type FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTrainingJobCommand, type DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import type { CliContext } from '../context';
import { awsCall, isNotFound, translateAwsError } from '../errors';
import { formatDuration } from '../output';
import { textChart } from './loss-chart';
import { type ProgressSummary, TrainingProgress, trainingPlan } from './training-progress';

/**
 * One training job as `watch` shows it: status and elapsed time, its final metrics, and — from the job's
 * CloudWatch log lines — the progress (step of total, tokens/s, time left) and the loss so far as a text chart.
 * `--logs` also prints every log line.
 */

export interface TrainingJobView {
  /** Prints `text` under `key` when it differs from what was printed last for that key. */
  readonly report: (key: string, text: string) => void;
  /** ` (1m 05s)` from start to end (or now). */
  readonly elapsed: (start?: Date, end?: Date) => string;
  /** Print every log line of the job. */
  readonly logs?: boolean;
}

/** Missing permission for this one call (not bad or expired credentials, which fail every call). */
function isAccessDenied(e: unknown): boolean {
  const name = (e as { name?: string } | undefined)?.name;
  return name === 'AccessDeniedException' || name === 'AccessDenied';
}

const JOB_DONE = new Set(['Completed', 'Failed', 'Stopped']);
/** While the job runs, the chart is printed again after this many new loss points. */
const CHART_EVERY_POINTS = 20;

function metricsLine(job: DescribeTrainingJobCommandOutput): string {
  return (job.FinalMetricDataList ?? [])
    .filter((m) => m.MetricName !== undefined && m.Value !== undefined)
    .map((m) => `${m.MetricName}=${Number(m.Value?.toPrecision(5))}`)
    .join(' ');
}

/** `step 40 of ~120 (33%) · 2,400 tokens/s · about 12m 30s left · loss 1.52` */
export function progressLine(p: ProgressSummary): string {
  const parts: string[] = [];
  if (p.total !== undefined) {
    const pct = Math.min(100, Math.floor((p.step / Math.max(1, p.total)) * 100));
    parts.push(`step ${p.step} of ${p.estimated ? '~' : ''}${p.total} (${pct}%)`);
  } else {
    parts.push(`step ${p.step}`);
  }
  if (p.tokensPerSecond !== undefined) parts.push(`${Math.round(p.tokensPerSecond).toLocaleString('en-US')} tokens/s`);
  if (p.etaMs !== undefined && p.total !== undefined && p.step < p.total) {
    parts.push(`about ${formatDuration(p.etaMs)} left`);
  }
  if (p.loss !== undefined) parts.push(`loss ${Number(p.loss.toPrecision(4))}`);
  return parts.join(' · ');
}

export class TrainingJobWatch {
  private readonly progress = new TrainingProgress();
  /** Newest log timestamp read and the event ids read at that millisecond. */
  private readonly cursor = { time: 0, ids: new Set<string>() };
  private logsReadable = true;
  private chartedPoints = 0;
  private status = '';
  private job?: DescribeTrainingJobCommandOutput;

  constructor(
    private readonly ctx: CliContext,
    readonly jobName: string,
    private readonly view: TrainingJobView,
  ) {}

  /** The job's status (`InProgress`, `Completed`, ...) as of the last poll. */
  get jobStatus(): string {
    return this.status;
  }

  /** One poll: describe the job, read new log lines, print what changed. */
  async poll(): Promise<void> {
    const job = await awsCall(
      {
        action: 'sagemaker:DescribeTrainingJob',
        resource: `training job ${this.jobName}`,
        endpointUrl: this.ctx.endpointUrl,
      },
      () => this.ctx.aws.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: this.jobName })),
    );
    this.job = job;
    this.status = job.TrainingJobStatus ?? '?';
    const { report } = this.view;
    const status = `${this.status}${job.SecondaryStatus ? `/${job.SecondaryStatus}` : ''}`;
    report(
      `job:${this.jobName}`,
      `training job ${this.jobName}: ${status}${this.view.elapsed(job.TrainingStartTime, job.TrainingEndTime)}`,
    );
    await this.readLogs();
    const summary = this.progressSummary();
    if (summary) report(`progress:${this.jobName}`, `  progress ${progressLine(summary)}`);
    const metrics = metricsLine(job);
    if (metrics) report(`metrics:${this.jobName}`, `  metrics ${metrics}`);
    if (this.status === 'Completed' && job.BillableTimeInSeconds && job.TrainingTimeInSeconds) {
      const saved = 1 - job.BillableTimeInSeconds / job.TrainingTimeInSeconds;
      if (saved > 0.005) {
        report(
          `spot:${this.jobName}`,
          `  spot saved ${(saved * 100).toFixed(0)}% (billable ${job.BillableTimeInSeconds}s of ${job.TrainingTimeInSeconds}s)`,
        );
      }
    }
    if (job.FailureReason) report(`jobfail:${this.jobName}`, `  failure: ${job.FailureReason}`);
    const points = this.progress.lossSeries().length;
    if (JOB_DONE.has(this.status) || points >= this.chartedPoints + CHART_EVERY_POINTS) this.printChart();
  }

  progressSummary(): ProgressSummary | undefined {
    return this.progress.summary(trainingPlan(this.job?.HyperParameters));
  }

  /** Prints the loss so far as a chart, unless it was printed with these points already. */
  printChart(): void {
    const series = this.progress.lossSeries();
    if (series.length < 2 || series.length === this.chartedPoints) return;
    this.chartedPoints = series.length;
    const steps = `steps ${series[0].step}-${series[series.length - 1].step}`;
    this.ctx.out.line(`  train_loss, ${series.length} points, ${steps}:`);
    for (const row of textChart(series.map((s) => s.loss))) this.ctx.out.line(`    ${row}`);
  }

  /** New lines of the job's log streams (`/aws/sagemaker/TrainingJobs`, streams `<job>/algo-N-...`). */
  private async readLogs(): Promise<void> {
    if (!this.logsReadable) return;
    const cursor = this.cursor;
    let token: string | undefined;
    do {
      let page: FilterLogEventsCommandOutput;
      try {
        page = await this.ctx.aws.logs.send(
          new FilterLogEventsCommand({
            logGroupName: '/aws/sagemaker/TrainingJobs',
            logStreamNamePrefix: `${this.jobName}/`,
            startTime: cursor.time || undefined,
            nextToken: token,
          }),
        );
      } catch (e) {
        // the log group appears with the job's first line; until then there is nothing to show.
        if (isNotFound(e)) return;
        if (isAccessDenied(e) && !this.view.logs) {
          // progress needs the logs, the rest of the watch does not: say so once and go on without them.
          this.logsReadable = false;
          this.ctx.out.info(
            `note: no permission to read the training logs (logs:FilterLogEvents on /aws/sagemaker/TrainingJobs); ` +
              'showing the job status and its final metrics without progress',
          );
          return;
        }
        throw await translateAwsError(e, {
          action: 'logs:FilterLogEvents',
          resource: `/aws/sagemaker/TrainingJobs ${this.jobName}/*`,
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
        const message = (event.message ?? '').trimEnd();
        this.progress.add(message, time);
        if (this.view.logs) {
          const host = event.logStreamName?.split('/')[1]?.replace(/-\d+$/, '') ?? '';
          this.ctx.out.line(`  [${host}] ${message}`);
        }
      }
      token = page.nextToken;
    } while (token);
  }
}
