/**
 * Reads a text file as strict UTF-8, in chunks: a byte sequence that is not UTF-8 stops the read with an
 * error naming the line and the byte offset (Node's own decoding would replace it with U+FFFD and go on,
 * silently changing the data). A leading byte-order mark is dropped.
 */
import * as fs from 'node:fs';
import { CliError } from './errors';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Index of the first byte of `bytes` that does not begin or continue a valid UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or -1. A sequence cut off by the end of
 * `bytes` counts as valid unless `final`.
 */
export function firstInvalidUtf8(bytes: Uint8Array, final: boolean): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let min: number;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) need = 2;
    else if (b >= 0xf0 && b <= 0xf4) need = 3;
    else return i;
    // the second byte's range rules out overlong forms, surrogates and code points above U+10FFFF.
    if (b === 0xe0) min = 0xa0;
    else if (b === 0xf0) min = 0x90;
    else min = 0x80;
    if (b === 0xed) max = 0x9f;
    if (b === 0xf4) max = 0x8f;
    for (let k = 1; k <= need; k++) {
      if (i + k >= bytes.length) return final ? i : -1;
      const c = bytes[i + k];
      if (k === 1 ? c < min || c > max : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** A decoded piece of the file and the 1-based line it starts on. */
export interface TextChunk {
  readonly text: string;
  readonly line: number;
}

/**
 * The file's text in chunks, checked as strict UTF-8. Throws a {@link CliError} naming the line, the
 * byte offset in the file and the bad byte at the first invalid sequence.
 */
export async function* readUtf8(file: string, chunkSize = 64 * 1024): AsyncGenerator<TextChunk> {
  let offset = 0; // file offset of `bytes[0]` below
  let line = 1;
  let lineStart = 0; // file offset where `line` starts
  let pending = Buffer.alloc(0); // the tail of an incomplete sequence from the previous chunk
  let first = true;
  const fail = (bytes: Buffer, at: number): never => {
    let errorLine = line;
    let errorLineStart = lineStart;
    for (let i = 0; i < at; i++) {
      if (bytes[i] === 0x0a) {
        errorLine += 1;
        errorLineStart = offset + i + 1;
      }
    }
    const hex = bytes
      .subarray(at, at + 4)
      .toString('hex')
      .replace(/(..)/g, '0x$1 ')
      .trim();
    throw new CliError(
      `${file}: line ${errorLine} is not valid UTF-8: at byte offset ${offset + at} (byte ${offset + at - errorLineStart + 1} ` +
        `of the line) the bytes ${hex} are no UTF-8 character; save the file as UTF-8 (for example ` +
        '"iconv -f latin1 -t utf-8 in > out") and run again; nothing was uploaded',
    );
  };
  for await (const raw of fs.createReadStream(file, { highWaterMark: chunkSize })) {
    let bytes = pending.length > 0 ? Buffer.concat([pending, raw as Buffer]) : (raw as Buffer);
    if (first) {
      // a mark split across the first reads is still a mark.
      if (bytes.length < 3 && BOM.subarray(0, bytes.length).equals(bytes)) {
        pending = Buffer.from(bytes);
        continue;
      }
      first = false;
      if (bytes.subarray(0, 3).equals(BOM)) {
        bytes = bytes.subarray(3);
        offset = 3;
        lineStart = 3;
      }
    }
    const bad = firstInvalidUtf8(bytes, false);
    if (bad >= 0) fail(bytes, bad);
    // keep an incomplete trailing sequence (at most 3 bytes) for the next chunk.
    let keep = 0;
    for (let k = 1; k <= 3 && k <= bytes.length; k++) {
      const b = bytes[bytes.length - k];
      if (b >= 0xc0) {
        if ((b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > k) keep = k;
        break;
      }
      if (b < 0x80) break;
    }
    const complete = bytes.subarray(0, bytes.length - keep);
    pending = Buffer.from(bytes.subarray(bytes.length - keep));
    yield { text: complete.toString('utf8'), line };
    for (let i = 0; i < complete.length; i++) {
      if (complete[i] === 0x0a) {
        line += 1;
        lineStart = offset + i + 1;
      }
    }
    offset += complete.length;
  }
  if (pending.length > 0) fail(pending, firstInvalidUtf8(pending, true));
}

/** The file's lines (without `\n` or `\r\n`), with their 1-based numbers, checked as strict UTF-8. */
export async function* readUtf8Lines(file: string): AsyncGenerator<{ line: number; text: string }> {
  let carry = '';
  let n = 1;
  for await (const chunk of readUtf8(file)) {
    const parts = (carry + chunk.text).split('\n');
    carry = parts.pop() ?? '';
    for (const p of parts) {
      yield { line: n, text: p.endsWith('\r') ? p.slice(0, -1) : p };
      n += 1;
    }
  }
  if (carry !== '') yield { line: n, text: carry.endsWith('\r') ? carry.slice(0, -1) : carry };
}
