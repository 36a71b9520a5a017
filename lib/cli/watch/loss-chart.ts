/**
 * A small text chart of a series (the training loss): at most `width` columns (longer series are averaged into
 * buckets) and `height` rows, the top and bottom rows labelled with the largest and smallest value shown. Plain
 * ASCII so it survives CI logs and any terminal; a chart this size does not need a dependency.
 */
export function textChart(values: readonly number[], options: { width?: number; height?: number } = {}): string[] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [];
  const width = Math.max(2, options.width ?? 60);
  const height = Math.max(2, options.height ?? 8);
  const columns = finite.length <= width ? [...finite] : bucketAverages(finite, width);
  const max = Math.max(...columns);
  const min = Math.min(...columns);
  const span = max - min;
  const rowOf = (v: number) => (span === 0 ? Math.floor(height / 2) : Math.round(((max - v) / span) * (height - 1)));
  const grid = Array.from({ length: height }, () => Array<string>(columns.length).fill(' '));
  columns.forEach((v, x) => (grid[rowOf(v)][x] = '*'));
  const top = format(max);
  const bottom = format(min);
  const pad = Math.max(top.length, bottom.length);
  return grid.map((row, y) => {
    const label = y === 0 ? top : y === height - 1 ? bottom : '';
    return `${label.padStart(pad)} |${row.join('').trimEnd()}`;
  });
}

function bucketAverages(values: readonly number[], buckets: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * values.length) / buckets));
    const slice = values.slice(from, to);
    out.push(slice.reduce((a, v) => a + v, 0) / slice.length);
  }
  return out;
}

function format(v: number): string {
  return String(Number(v.toPrecision(4)));
}
