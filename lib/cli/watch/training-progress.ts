/**
 * Training progress from the job's `[metrics]` log lines (training-code/gpt_oss_train/callbacks.py prints one per
 * Trainer log: `[metrics] step=40 epoch=0.33 train_loss=1.52 ... train_tokens_per_second=2400`). From them: the
 * step reached, the step total (the job's `max_steps` hyperparameter when above 0, else estimated from the epoch
 * reached and `num_train_epochs`), the throughput, the time left at the pace of the steps logged so far, and the
 * loss curve.
 */

const METRICS_LINE = /\[metrics\]((?:\s+[\w.]+=\S+)+)/;

/** One parsed `[metrics]` line. */
export interface MetricsPoint {
  /** Log event time, ms since the epoch. */
  readonly time: number;
  readonly step: number;
  readonly epoch?: number;
  readonly values: Readonly<Record<string, number>>;
}

/** Parses a `[metrics]` log line; undefined for any other line or one without a step. */
export function parseMetricsLine(message: string, time: number): MetricsPoint | undefined {
  const match = METRICS_LINE.exec(message);
  if (!match) return undefined;
  const values: Record<string, number> = {};
  for (const pair of match[1].trim().split(/\s+/)) {
    const [key, raw] = pair.split('=', 2);
    const n = Number(raw);
    if (raw !== undefined && raw !== '' && Number.isFinite(n)) values[key] = n;
  }
  const { step, epoch, ...rest } = values;
  if (step === undefined) return undefined;
  return { time, step, epoch, values: rest };
}

/** What the job was asked to do: its `max_steps` and `num_train_epochs` hyperparameters (strings in the API). */
export interface TrainingPlan {
  readonly maxSteps?: number;
  readonly numTrainEpochs?: number;
}

export function trainingPlan(hyperParameters: Readonly<Record<string, string>> | undefined): TrainingPlan {
  const num = (key: string) => {
    const v = hyperParameters?.[key];
    const n = v === undefined ? NaN : Number(v.replace(/^"|"$/g, ''));
    return Number.isFinite(n) ? n : undefined;
  };
  return { maxSteps: num('max_steps'), numTrainEpochs: num('num_train_epochs') };
}

export interface ProgressSummary {
  readonly step: number;
  /** Step total; `estimated` when derived from the epoch (no max_steps). */
  readonly total?: number;
  readonly estimated: boolean;
  readonly tokensPerSecond?: number;
  /** ms left at the pace of the logged steps. */
  readonly etaMs?: number;
  readonly loss?: number;
}

/** The metrics lines of one training job, in arrival order. */
export class TrainingProgress {
  private readonly points: MetricsPoint[] = [];

  /** Adds a log line; returns whether it was a metrics line. */
  add(message: string, time: number): boolean {
    const point = parseMetricsLine(message, time);
    if (!point) return false;
    this.points.push(point);
    return true;
  }

  /** The training loss of every logged step, in step order. */
  lossSeries(): { step: number; loss: number }[] {
    return this.points
      .filter((p) => p.values.train_loss !== undefined)
      .map((p) => ({ step: p.step, loss: p.values.train_loss }));
  }

  summary(plan: TrainingPlan): ProgressSummary | undefined {
    if (this.points.length === 0) return undefined;
    const last = this.points.reduce((a, b) => (b.step >= a.step ? b : a));
    const train = this.points.filter((p) => p.values.train_loss !== undefined);
    const withEpoch = [...this.points].reverse().find((p) => p.epoch !== undefined && p.epoch > 0);
    let total: number | undefined;
    let estimated = false;
    if (plan.maxSteps !== undefined && plan.maxSteps > 0) {
      total = plan.maxSteps;
    } else if (withEpoch?.epoch && plan.numTrainEpochs && plan.numTrainEpochs > 0) {
      total = Math.max(last.step, Math.round((withEpoch.step / withEpoch.epoch) * plan.numTrainEpochs));
      estimated = true;
    }
    const tokens = [...train].reverse().find((p) => p.values.train_tokens_per_second !== undefined);
    let etaMs: number | undefined;
    const first = train[0];
    const lastTrain = train[train.length - 1];
    if (total !== undefined && first && lastTrain && lastTrain.step > first.step && lastTrain.time > first.time) {
      const msPerStep = (lastTrain.time - first.time) / (lastTrain.step - first.step);
      etaMs = Math.max(0, (total - last.step) * msPerStep);
    }
    return {
      step: last.step,
      total,
      estimated,
      tokensPerSecond: tokens?.values.train_tokens_per_second,
      etaMs,
      loss: lastTrain?.values.train_loss,
    };
  }
}
