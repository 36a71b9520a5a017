import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from './errors';
import { firstInvalidUtf8, readUtf8, readUtf8Lines } from './utf8-text';

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
  for await (const { line: n, text: line } of readUtf8Lines(file)) {
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

const [NEWLINE, BACKSLASH, QUOTE, COMMA] = [0x0a, 0x5c, 0x22, 0x2c];
const [OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE] = [0x5b, 0x5d, 0x7b, 0x7d];
/** JSON's insignificant whitespace (RFC 8259): space, tab, line feed, carriage return. */
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Finds the line where each top-level element of a JSON array starts, fed the text in pieces: it tracks
 * strings and nesting, so an error can point at the line the user opens in an editor.
 */
export class ArrayElementLines {
  private line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectElement = false;

  /** The start lines of the elements that begin in `text`. */
  feed(text: string): number[] {
    const lines: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE) this.line += 1;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (this.depth === 1 && this.expectElement && !WHITESPACE.has(c) && c !== CLOSE_BRACKET) {
        lines.push(this.line);
        this.expectElement = false;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
        this.depth += 1;
        if (this.depth === 1 && c === OPEN_BRACKET) this.expectElement = true;
      } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) this.depth -= 1;
      else if (c === COMMA && this.depth === 1) this.expectElement = true;
    }
    return lines;
  }
}

/** {@link ArrayElementLines} over a whole text. */
export function arrayElementLines(text: string): number[] {
  return new ArrayElementLines().feed(text);
}

/**
 * A JSON array, parsed as it is read (each element is handed over once complete and then dropped), so a
 * file of any size takes memory for one chunk and one element, like JSONL. A file that does not start
 * with `[` is read as JSON Lines, which many ".json" exports (pandas, datasets) are.
 */
async function* readJson(file: string): AsyncGenerator<RawRow> {
  const { JSONParser } = await import('@streamparser/json');
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  const lines = new ArrayElementLines();
  const starts: number[] = [];
  const ready: unknown[] = [];
  let item = 0;
  let sawStart = false;
  parser.onValue = ({ value }) => ready.push(value);
  const syntaxError = (e: unknown): CliError =>
    new CliError(
      `${file}: not valid JSON after item ${item} (the next item starts on line ${starts[ready.length] ?? '?'}): ` +
        `${(e as Error).message}; fix the file or export it as JSONL; nothing was uploaded`,
    );
  const take = function* (): Generator<RawRow> {
    for (const value of ready.splice(0)) {
      item += 1;
      yield { where: `line ${starts.shift() ?? '?'} (item ${item})`, value };
    }
  };
  for await (const chunk of readUtf8(file)) {
    if (!sawStart) {
      const head = chunk.text.trimStart();
      if (head === '') continue;
      sawStart = true;
      if (!head.startsWith('[')) {
        yield* readJsonl(file);
        return;
      }
    }
    starts.push(...lines.feed(chunk.text));
    try {
      parser.write(chunk.text);
    } catch (e) {
      throw syntaxError(e);
    }
    yield* take();
  }
  if (!sawStart) throw new CliError(`${file}: is empty; nothing was uploaded`);
  try {
    // the parser ends by itself when the array closes; otherwise the file stopped inside it.
    if (!parser.isEnded) parser.end();
  } catch (e) {
    throw syntaxError(e);
  }
  yield* take();
}

/** A text value of a Parquet file that is not UTF-8, kept in place so the row holding it can be named. */
class InvalidUtf8Value {
  constructor(
    readonly at: number,
    readonly bytes: string,
  ) {}
}

/**
 * hyparquet decodes text with a lenient TextDecoder (invalid bytes become U+FFFD); this parser marks them
 * instead. With `utf8: false` only columns typed as text go through it; plain binary columns stay bytes.
 */
const strictText = {
  stringFromBytes(bytes: Uint8Array | undefined): string | InvalidUtf8Value | undefined {
    if (!bytes) return undefined;
    const bad = firstInvalidUtf8(bytes, true);
    if (bad < 0) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
    const hex = Buffer.from(bytes.subarray(bad, bad + 4))
      .toString('hex')
      .replace(/(..)/g, '0x$1 ')
      .trim();
    return new InvalidUtf8Value(bad, hex);
  },
};

/** The first invalid text value anywhere in a row, with the key path to it. */
function findInvalidText(value: unknown, key: string): { key: string; bad: InvalidUtf8Value } | undefined {
  if (value instanceof InvalidUtf8Value) return { key, bad: value };
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const found = findInvalidText(v, Array.isArray(value) ? `${key}[${k}]` : key ? `${key}.${k}` : k);
    if (found) return found;
  }
  return undefined;
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
      utf8: false,
      parsers: strictText,
    });
    for (let i = 0; i < rows.length; i++) {
      const where = `row ${start + i + 1}`;
      const invalid = findInvalidText(rows[i], '');
      if (invalid) {
        yield {
          where,
          parseError:
            `${invalid.key}: not valid UTF-8: at byte ${invalid.bad.at + 1} of the text the bytes ${invalid.bad.bytes} ` +
            'are no UTF-8 character; re-export the file with UTF-8 text',
        };
      } else yield { where, value: normalize(rows[i]) };
    }
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
