import { formatBytes, formatDuration, type Output, renderBar } from './output';

/**
 * Progress of a copy of many bytes: done/total, throughput and time left. On a terminal it redraws one
 * line at most every 200 ms; in a log it prints a line at every 10% so CI logs stay short.
 */
export class TransferProgress {
  private done = 0;
  private readonly started: number;
  private lastDraw = 0;
  private lastTenth = -1;

  constructor(
    private readonly out: Output,
    private readonly total: number,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** Bytes per second since the start. */
  get rate(): number {
    const seconds = (this.now() - this.started) / 1000;
    return seconds > 0 ? this.done / seconds : 0;
  }

  /** `12.0 MiB / 40.0 GiB  85.3 MiB/s  ETA 7m 58s`. */
  text(): string {
    const rate = this.rate;
    // the first second's rate is mostly connection set-up; an estimate from it would mislead.
    const settled = this.now() - this.started >= 1000 || this.done >= this.total;
    const left = settled && rate > 0 ? formatDuration(((this.total - this.done) / rate) * 1000) : 'estimating';
    const fraction = this.total > 0 ? this.done / this.total : 1;
    return (
      `${renderBar(fraction, 30)} ${String(Math.floor(fraction * 100)).padStart(3)}% ` +
      `${formatBytes(this.done)} / ${formatBytes(this.total)}  ${formatBytes(rate)}/s  ETA ${left}`
    );
  }

  add(bytes: number): void {
    this.done += bytes;
    const t = this.now();
    if (this.out.interactive) {
      if (t - this.lastDraw >= 200 || this.done >= this.total) {
        this.lastDraw = t;
        this.out.progress(`\r${this.text()}`);
      }
      return;
    }
    const tenth = this.total > 0 ? Math.floor((this.done / this.total) * 10) : 10;
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.out.info(`copying ${this.text()}`);
    }
  }

  /** A status line (e.g. the file being copied) that does not garble the redrawn progress line. */
  note(text: string): void {
    if (this.out.interactive) {
      this.out.progress(`\r\x1b[K${text}\n`);
      if (this.done > 0) this.out.progress(`\r${this.text()}`);
      return;
    }
    this.out.info(text);
  }

  /** Ends the redrawn line; returns the average throughput. */
  finish(): number {
    if (this.out.interactive) this.out.progress('\n');
    return this.rate;
  }
}
