import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { readRows, type RawRow } from '../../lib/cli/dataset-reader';
import { firstInvalidUtf8, readUtf8 } from '../../lib/cli/utf8-text';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-oss-reader-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const row = (n: number) =>
  JSON.stringify({
    messages: [
      { role: 'user', content: `question ${n}` },
      { role: 'assistant', content: 'answer' },
    ],
  });

describe('strict UTF-8', () => {
  test.each([
    ['ASCII, 2-, 3- and 4-byte characters', Buffer.from('a é € 😀'), -1],
    ['a lone continuation byte', Buffer.from([0x61, 0x80]), 1],
    ['an overlong "/"', Buffer.from([0x61, 0xc0, 0xaf]), 1],
    ['an overlong 3-byte form', Buffer.from([0xe0, 0x80, 0xaf]), 0],
    ['a UTF-16 surrogate', Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]), 2],
    ['a code point above U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80]), 0],
    ['a Latin-1 é between ASCII', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20]), 3],
  ])('%s', (_what, bytes, expected) => {
    expect(firstInvalidUtf8(bytes, true)).toBe(expected);
    // the same bytes as Node's decoder judges them (it replaces what is invalid with U+FFFD)
    expect(bytes.toString('utf8').includes('\ufffd')).toBe(expected >= 0);
  });

  test('a sequence cut by the end of a chunk is valid until the file ends there', () => {
    const euro = Buffer.from('€');
    expect(firstInvalidUtf8(euro.subarray(0, 2), false)).toBe(-1);
    expect(firstInvalidUtf8(euro.subarray(0, 2), true)).toBe(0);
  });

  test('characters split across read chunks decode whole, at every chunk size', async () => {
    const text = 'é€😀\nZeile zwei: größer\n日本語のテキスト\n'.repeat(3);
    const file = path.join(tmp, 'multi.txt');
    fs.writeFileSync(file, `\ufeff${text}`);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      let got = '';
      for await (const chunk of readUtf8(file, size)) got += chunk.text;
      expect(got).toBe(text);
    }
  });

  test('a file ending inside a character is an error', async () => {
    const file = path.join(tmp, 'cut.jsonl');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('ab\ncd'), Buffer.from('€').subarray(0, 2)]));
    await expect(async () => {
      for await (const chunk of readUtf8(file)) void chunk;
    }).rejects.toThrow(/line 2 is not valid UTF-8: at byte offset 5 \(byte 3 of the line\) the bytes 0xe2 0x82/);
  });
});

describe('streaming', () => {
  /**
   * Reads rows from a named pipe while the writer still holds it open: a reader that loads the whole
   * file first would wait for the writer to finish, so the first row arriving early proves the rows are
   * parsed as the bytes come (memory bounded by a chunk and a row, whatever the file's size).
   */
  async function firstRowBeforeEnd(name: string, head: string, tail: string): Promise<RawRow[]> {
    const fifo = path.join(tmp, name);
    execFileSync('mkfifo', [fifo]);
    const rows = readRows(fifo)[Symbol.asyncIterator]();
    const first = rows.next();
    const writer = fs.createWriteStream(fifo);
    writer.write(head);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000));
    const early = await Promise.race([first, timeout]);
    writer.end(tail);
    expect(early).not.toBe('timeout');
    const all = [(early as IteratorResult<RawRow>).value as RawRow];
    for (let r = await rows.next(); !r.done; r = await rows.next()) all.push(r.value);
    return all;
  }

  test('a JSON array yields its first item before the file is complete', async () => {
    const rows = await firstRowBeforeEnd('data.json', `[\n${row(1)},\n`, `${row(2)}\n]\n`);
    expect(rows.map((r) => r.where)).toEqual(['line 2 (item 1)', 'line 3 (item 2)']);
    expect(rows[1]).toMatchObject({ value: { messages: [{ content: 'question 2' }, { content: 'answer' }] } });
  });

  test('JSONL yields its first line before the file is complete', async () => {
    const rows = await firstRowBeforeEnd('data.jsonl', `${row(1)}\n`, `${row(2)}\n`);
    expect(rows.map((r) => r.where)).toEqual(['line 1', 'line 2']);
  });

  test('a large JSON array is not kept in memory while it is read', async () => {
    // 20 MB of rows, written in batches so the writing leaves little garbage behind.
    const file = path.join(tmp, 'big.json');
    const fd = fs.openSync(file, 'w');
    const count = 50_000;
    const pad = 'x'.repeat(300);
    fs.writeSync(fd, '[\n');
    for (let i = 0; i < count; i += 1000) {
      const batch = Array.from({ length: 1000 }, (_, k) => row(i + k).replace('question', `question ${pad}`));
      fs.writeSync(fd, `${i ? ',\n' : ''}${batch.join(',\n')}`);
    }
    fs.writeSync(fd, '\n]\n');
    fs.closeSync(fd);
    const size = fs.statSync(file).size;
    // a forced collection makes heapUsed the memory still referenced, not garbage awaiting collection.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    let retained = 0;
    let n = 0;
    for await (const r of readRows(file)) {
      n += 1;
      if (n % 10_000 === 0) {
        gc();
        retained = Math.max(retained, process.memoryUsage().heapUsed - before);
      }
      void r;
    }
    expect(n).toBe(count);
    expect(size).toBeGreaterThan(18_000_000);
    // the rows read so far (40,000 by the last check) are 16 MB of text; a reader that kept them would hold more.
    expect(retained).toBeLessThan(4_000_000);
  });
});
