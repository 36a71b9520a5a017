/** Terminal output helpers shared by the operator commands: tables, durations, sizes, progress, links. */

/** Where a command writes: stdout for results, stderr for progress and warnings. */
export interface OutputStreams {
  readonly stdout: { write(chunk: string): unknown; isTTY?: boolean };
  readonly stderr: { write(chunk: string): unknown; isTTY?: boolean };
}

export class Output {
  constructor(private readonly streams: OutputStreams) {}

  /** True when stderr is a terminal (progress bars redraw in place only then). */
  get interactive(): boolean {
    return this.streams.stderr.isTTY === true;
  }

  /** A result line on stdout. */
  line(text = ''): void {
    this.streams.stdout.write(`${text}\n`);
  }

  /** A status line on stderr (kept out of piped results). */
  info(text: string): void {
    this.streams.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.streams.stderr.write(`warning: ${text}\n`);
  }

  /** Raw text on stderr, for progress redraws. */
  progress(text: string): void {
    this.streams.stderr.write(text);
  }

  /** JSON on stdout (`--json`). */
  json(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  table(headers: readonly string[], rows: readonly (readonly string[])[]): void {
    for (const l of formatTable(headers, rows)) this.line(l);
  }
}

/** Left-aligned columns separated by two spaces, with a header row. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [render(headers), ...rows.map(render)];
}

/** `1h 02m 03s`, `4m 05s`, `12s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(s).padStart(2, '0')}s`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `512 B`, `1.5 KiB`, `12.0 MiB`, `3.20 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 && unit >= 2 ? 2 : 1)} ${units[unit]}`;
}

/** `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `$1,234.56`. */
export function formatUsd(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/**
 * An upload progress bar on stderr. On a terminal it redraws one line; otherwise it prints a line at
 * every 25% so CI logs stay short.
 */
export class ProgressBar {
  private lastQuarter = -1;
  private done = false;

  constructor(
    private readonly out: Output,
    private readonly label: string,
    private readonly total: number,
    private readonly width = 30,
  ) {}

  update(loaded: number): void {
    if (this.done) return;
    const fraction = this.total > 0 ? Math.min(1, loaded / this.total) : 1;
    const percent = Math.floor(fraction * 100);
    const text = `${this.label} ${renderBar(fraction, this.width)} ${String(percent).padStart(3)}% ${formatBytes(loaded)} / ${formatBytes(this.total)}`;
    if (this.out.interactive) {
      this.out.progress(`\r${text}`);
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      this.out.info(text);
    }
  }

  finish(): void {
    if (this.done) return;
    this.update(this.total);
    this.done = true;
    if (this.out.interactive) this.out.progress('\n');
  }
}

export function renderBar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Console host for a partition (aws, aws-cn, aws-us-gov). */
function consoleHost(region: string): string {
  if (region.startsWith('cn-')) return 'console.amazonaws.cn';
  if (region.startsWith('us-gov-')) return `${region}.console.amazonaws-us-gov.com`;
  return `${region}.console.aws.amazon.com`;
}

/** Console links the commands print next to ARNs. */
export const consoleLinks = {
  /** The pipeline's page in the SageMaker console (Pipelines), where its executions and steps are shown. */
  pipeline(region: string, pipeline: string): string {
    return `https://${consoleHost(region)}/sagemaker/home?region=${region}#/pipelines/details/${encodeURIComponent(pipeline)}`;
  },
  stateMachineExecution(region: string, executionArn: string): string {
    return `https://${consoleHost(region)}/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
  },
  trainingJob(region: string, jobName: string): string {
    return `https://${consoleHost(region)}/sagemaker/home?region=${region}#/jobs/${encodeURIComponent(jobName)}`;
  },
  modelPackageGroup(region: string, group: string): string {
    return `https://${consoleHost(region)}/sagemaker/home?region=${region}#/model-registry/${encodeURIComponent(group)}`;
  },
};
