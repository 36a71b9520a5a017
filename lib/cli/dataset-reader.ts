import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { CliError } from './errors';

/** One raw row from a dataset file, with where it came from (`line 7` for JSON/JSONL, `row 7` for Parquet). */
export type RawRow =
  { readonly where: string; readonly value: unknown } | { readonly where: string; readonly parseError: string };

export type DatasetFormat = 'jsonl' | 'json' | 'parquet';

/** The format from the file name: `.jsonl`/`.ndjson`, `.json`, `.parquet`. */
export function detectFormat(file: string): DatasetFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.parquet') return 'parquet';
  throw new CliError(
    `${file}: unsupported file type "${ext || '(none)'}"; use a .jsonl (one JSON object per line), .json (an array of objects) or .parquet file`,
  );
}

async function* readJsonl(file: string): AsyncGenerator<RawRow> {
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim() === '') continue;
    try {
      yield { where: `line ${n}`, value: JSON.parse(line) };
    } catch (e) {
      yield {
        where: `line ${n}`,
        parseError: `not valid JSON (${(e as Error).message}); each line must be one JSON object`,
      };
    }
  }
}

/**
 * Line number where each top-level element of a JSON array starts, found by a scan that tracks strings
 * and nesting, so an error can point at the line the user opens in an editor.
 */
export function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line += 1;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectElement && !/\s/.test(c) && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth += 1;
      if (depth === 1 && c === '[') expectElement = true;
    } else if (c === ']' || c === '}') depth -= 1;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

async function* readJson(file: string): AsyncGenerator<RawRow> {
  const text = await fs.promises.readFile(file, 'utf8');
  if (!text.trimStart().startsWith('[')) {
    // many ".json" exports (pandas, datasets) are JSON Lines in disguise.
    yield* readJsonl(file);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file}: not valid JSON (${(e as Error).message}); fix the file or export it as JSONL`);
  }
  const rows = parsed as unknown[];
  const lines = arrayElementLines(text);
  for (let i = 0; i < rows.length; i++) {
    yield { where: `line ${lines[i] ?? '?'} (item ${i + 1})`, value: rows[i] };
  }
}

async function* readParquet(file: string): AsyncGenerator<RawRow> {
  // hyparquet is ESM-only; a dynamic import keeps this CommonJS module loadable everywhere.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const buffer = await asyncBufferFromFile(file);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw new CliError(`${file}: not a readable Parquet file (${(e as Error).message}); re-export it or use JSONL`);
  }
  const total = Number(metadata.num_rows);
  const CHUNK = 5000;
  for (let start = 0; start < total; start += CHUNK) {
    const rows = await parquetReadObjects({
      file: buffer,
      metadata,
      compressors,
      rowStart: start,
      rowEnd: Math.min(total, start + CHUNK),
    });
    for (let i = 0; i < rows.length; i++) yield { where: `row ${start + i + 1}`, value: normalize(rows[i]) };
  }
}

/** Parquet readers return BigInt for int64 columns; JSON cannot hold them. */
function normalize(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

/** Streams the rows of a JSONL, JSON or Parquet file. */
export function readRows(file: string): AsyncGenerator<RawRow> {
  if (!fs.existsSync(file)) throw new CliError(`${file}: file not found; check the path`);
  switch (detectFormat(file)) {
    case 'jsonl':
      return readJsonl(file);
    case 'json':
      return readJson(file);
    case 'parquet':
      return readParquet(file);
  }
}
