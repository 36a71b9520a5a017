import { textChart } from '../../lib/cli/watch/loss-chart';
import { progressLine } from '../../lib/cli/watch/training-job';
import { parseMetricsLine, TrainingProgress, trainingPlan } from '../../lib/cli/watch/training-progress';

/** A `[metrics]` line as training-code/gpt_oss_train/callbacks.py prints it. */
const train = (step: number, epoch: number, loss: number, tps = 2400) =>
  `[metrics] step=${step} epoch=${epoch} train_loss=${loss} grad_norm=1.2 learning_rate=0.0002 train_tokens_per_second=${tps}`;

describe('training progress from [metrics] log lines', () => {
  test('parses a metrics line, with or without a log prefix; other lines are not metrics', () => {
    expect(parseMetricsLine(`2026-12-07 10:00:00 ${train(10, 0.25, 1.5)}`, 5)).toEqual({
      time: 5,
      step: 10,
      epoch: 0.25,
      values: { train_loss: 1.5, grad_norm: 1.2, learning_rate: 0.0002, train_tokens_per_second: 2400 },
    });
    expect(parseMetricsLine("{'loss': 1.52, 'epoch': 0.5}", 0)).toBeUndefined();
    expect(parseMetricsLine('[metrics] epoch=1 train_loss=1', 0)).toBeUndefined();
  });

  test('with max_steps: exact total, time left at the logged pace, last throughput and loss', () => {
    const p = new TrainingProgress();
    // steps 10..40 logged 10 s apart: 1 s per step
    [10, 20, 30, 40].forEach((step, i) => p.add(train(step, step / 200, 2 - i * 0.1, 2000 + i), i * 10_000));
    p.add('[metrics] step=40 epoch=0.2 eval_loss=1.9', 31_000);
    p.add('some other log line', 32_000);
    const s = p.summary(trainingPlan({ max_steps: '100', num_train_epochs: '1' }));
    expect(s).toEqual({ step: 40, total: 100, estimated: false, tokensPerSecond: 2003, etaMs: 60_000, loss: 1.7 });
    expect(progressLine(s!)).toBe('step 40 of 100 (40%) · 2,003 tokens/s · about 1m 00s left · loss 1.7');
    expect(p.lossSeries().map((x) => x.step)).toEqual([10, 20, 30, 40]);
  });

  test('without max_steps (-1): total estimated from the epoch reached and num_train_epochs', () => {
    const p = new TrainingProgress();
    p.add(train(25, 0.5, 1.4), 0);
    p.add(train(50, 1.0, 1.2), 50_000);
    const s = p.summary(trainingPlan({ max_steps: '-1', num_train_epochs: '3' }));
    expect(s).toMatchObject({ step: 50, total: 150, estimated: true, etaMs: 200_000 });
    expect(progressLine(s!)).toMatch(/^step 50 of ~150 \(33%\) · 2,400 tokens\/s · about 3m 20s left · loss 1\.2$/);
  });

  test('no lines yet: no summary; no plan: the step alone', () => {
    expect(new TrainingProgress().summary({})).toBeUndefined();
    const p = new TrainingProgress();
    p.add('[metrics] step=7 train_loss=2', 0);
    expect(progressLine(p.summary(trainingPlan(undefined))!)).toBe('step 7 · loss 2');
  });
});

describe('the loss chart', () => {
  test('a falling series: the first point on the top row, the last on the bottom, labelled with max and min', () => {
    const rows = textChart([3, 2.5, 2, 1.5, 1], { width: 10, height: 5 });
    expect(rows).toEqual(['3 |*', '  | *', '  |  *', '  |   *', '1 |    *']);
  });

  test('a long series is averaged into at most `width` columns; a flat one is one line', () => {
    const long = Array.from({ length: 600 }, (_, i) => 5 - i / 150);
    const rows = textChart(long, { width: 60, height: 8 });
    expect(rows).toHaveLength(8);
    expect(Math.max(...rows.map((r) => r.split('|')[1].length))).toBe(60);
    expect(rows.join('\n').match(/\*/g)).toHaveLength(60);
    expect(textChart([1, 1, 1], { height: 4 }).filter((r) => r.includes('*'))).toEqual(['  |***']);
    expect(textChart([])).toEqual([]);
  });
});
