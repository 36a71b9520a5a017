import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { prepareData, prepareDataCommand } from '../../lib/cli/commands/prepare-data';
import { convertRow } from '../../lib/cli/dataset';
import { CliError } from '../../lib/cli/errors';
import { preparedDatasetManifestSchema } from '../../lib/config/prepared-dataset';
import { FakeHub, sha256 } from '../support/fake-hub';
import {
  CapturedEnvironment,
  createDatasetsBucket,
  DATASETS_BUCKET,
  FIXTURES,
  motoContext,
  useMotoProject,
} from './support';

const DATASET = 'HuggingFaceH4/Multilingual-Thinking';
const COMMIT = 'c0ffee0000000000000000000000000000000001';
const TRAIN = 'data/train-00000-of-00001.parquet';
const TEST = 'data/test-00000-of-00001.parquet';

const cli = useMotoProject();
let hub: FakeHub;
let tmp: string;

beforeEach(async () => {
  await createDatasetsBucket(cli.c);
  hub = new FakeHub();
  await hub.start();
  hub.add({
    type: 'dataset',
    name: DATASET,
    commit: COMMIT,
    files: {
      '.gitattributes': { content: Buffer.from('*.parquet filter=lfs diff=lfs merge=lfs -text\n') },
      'README.md': { content: Buffer.from('---\nlicense: apache-2.0\n---\n') },
      [TRAIN]: { content: fs.readFileSync(path.join(FIXTURES, 'multilingual-thinking.parquet')), lfs: true },
      [TEST]: { content: fs.readFileSync(path.join(FIXTURES, 'chat-messages.parquet')), lfs: true },
    },
  });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-oss-inputs-'));
});
afterEach(async () => {
  await hub.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function keys(): Promise<string[]> {
  const out = await cli.c.s3.send(new ListObjectsV2Command({ Bucket: DATASETS_BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

async function read(key: string): Promise<string> {
  const obj = await cli.c.s3.send(new GetObjectCommand({ Bucket: DATASETS_BUCKET, Key: key }));
  return (await obj.Body?.transformToString()) ?? '';
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CliError);
  return (e as CliError).message;
}

function prepare(file: string | undefined, opts: Partial<Parameters<typeof prepareData>[2]> = {}) {
  const { ctx, env } = motoContext(cli.project, cli.moto.endpoint);
  const run = prepareData(ctx, file, { recipe: 'demo-lora', bucket: DATASETS_BUCKET, hubUrl: hub.url, ...opts });
  return { run: run.finally(() => ctx.close()), env };
}

/** The rows a local JSONL fixture converts to, to compare what came through the Hub with. */
function expectedRows(fixture: string): unknown[] {
  return fs
    .readFileSync(path.join(FIXTURES, fixture), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = convertRow(JSON.parse(l));
      if (!r.ok) throw new Error(r.reason);
      return r.info.row;
    });
}

describe('prepare-data --from-hub', () => {
  test("reads the train split's Parquet at a pinned commit, uploads JSONL and records the source", async () => {
    const { run, env } = prepare(undefined, { fromHub: DATASET });
    const result = await run;
    // THEN the uploaded JSONL holds the converted rows of the train file only
    expect(result.destination).toBe(`s3://${DATASETS_BUCKET}/datasets/demo-lora/train.jsonl`);
    const rows = (await read('datasets/demo-lora/train.jsonl'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toEqual(expectedRows('multilingual-thinking.jsonl'));
    // AND only that file was downloaded, by commit
    expect(hub.downloads()).toEqual([`/datasets/${DATASET}/resolve/${COMMIT}/${TRAIN}`]);
    // AND the manifest records dataset, revision, commit, split and the file read with its checksum
    const manifest = preparedDatasetManifestSchema.parse(
      JSON.parse(await read('datasets/demo-lora/prepared-dataset.manifest')),
    );
    const parquet = fs.readFileSync(path.join(FIXTURES, 'multilingual-thinking.parquet'));
    expect(manifest.source).toEqual({
      type: 'hub',
      datasetId: DATASET,
      revision: 'main',
      commitSha: COMMIT,
      split: 'train',
      files: [{ path: TRAIN, size: parquet.length, sha256: sha256(parquet) }],
    });
    expect(manifest.examples).toBe(6);
    expect(env.stdoutText).toContain(
      `dataset     ${DATASET} train split at ${COMMIT.slice(0, 12)} (parquet, 1 file, all 6 rows valid)`,
    );
  });

  test('--split picks another split; an unknown split lists the ones there are', async () => {
    const result = await prepare(undefined, { fromHub: DATASET, split: 'test' }).run;
    expect(result.examples).toBe(3);
    const manifest = JSON.parse(await read('datasets/demo-lora/prepared-dataset.manifest'));
    expect(manifest.source.split).toBe('test');
    await cli.moto.reset();
    await createDatasetsBucket(cli.c);
    const message = await failure(prepare(undefined, { fromHub: DATASET, split: 'validation' }).run);
    expect(message).toMatch(
      /has no Parquet files for split "validation" at main; its splits: test, train; pass --split/,
    );
    expect(await keys()).toEqual([]);
  });

  test("--revision refs/convert/parquet reads the Hub's Parquet conversion", async () => {
    // GIVEN a dataset kept as JSONL on main, with the Hub's conversion on its own ref
    const conversion = 'c0ffee0000000000000000000000000000000002';
    hub.add({
      type: 'dataset',
      name: 'someone/jsonl-only',
      commit: 'c0ffee0000000000000000000000000000000003',
      files: { 'train.jsonl': { content: Buffer.from('{}\n') } },
    });
    const onMain = await failure(prepare(undefined, { fromHub: 'someone/jsonl-only' }).run);
    expect(onMain).toMatch(/has no Parquet files at main .*pass --revision refs\/convert\/parquet/);
    hub.add({
      type: 'dataset',
      name: 'someone/jsonl-only',
      commit: conversion,
      refs: ['refs/convert/parquet'],
      files: {
        'default/train/0000.parquet': {
          content: fs.readFileSync(path.join(FIXTURES, 'chat-messages.parquet')),
          lfs: true,
        },
      },
    });
    const result = await prepare(undefined, { fromHub: 'someone/jsonl-only', revision: 'refs/convert/parquet' }).run;
    expect(result.examples).toBe(3);
    const manifest = JSON.parse(await read('datasets/demo-lora/prepared-dataset.manifest'));
    expect(manifest.source).toMatchObject({ revision: 'refs/convert/parquet', commitSha: conversion, split: 'train' });
  });

  test('a corrupted download is caught before anything is uploaded', async () => {
    hub.corrupt.set(TRAIN, 100);
    const message = await failure(prepare(undefined, { fromHub: DATASET }).run);
    expect(message).toMatch(new RegExp(`${DATASET}@${COMMIT.slice(0, 12)}/${TRAIN}: read SHA-256 .* was expected`));
    expect(await keys()).toEqual([]);
  });

  test('a file and --from-hub together, or --split without --from-hub, are refused', async () => {
    const file = path.join(FIXTURES, 'chat-messages.jsonl');
    expect(await failure(prepare(file, { fromHub: DATASET }).run)).toMatch(/either a file or --from-hub/);
    expect(await failure(prepare(file, { split: 'train' }).run)).toMatch(
      /--split and --revision choose what --from-hub reads/,
    );
    expect(await failure(prepare(undefined).run)).toMatch(/a local file, or --from-hub/);
    expect(hub.requests).toEqual([]);
  });
});

describe('prepare-data bad inputs: a clear error and nothing uploaded', () => {
  const chatLine = (text: string) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: text },
        { role: 'assistant', content: 'ok' },
      ],
    });

  test('invalid UTF-8 names the line and the byte offset', async () => {
    const file = path.join(tmp, 'latin1.jsonl');
    const lines = [chatLine('one'), chatLine('two'), chatLine('caf\u00e9')];
    // the third line written in Latin-1: é is the single byte 0xE9
    fs.writeFileSync(file, Buffer.concat([Buffer.from(`${lines[0]}\n${lines[1]}\n`), Buffer.from(lines[2], 'latin1')]));
    const offset = Buffer.byteLength(`${lines[0]}\n${lines[1]}\n`) + lines[2].indexOf('\u00e9');
    const message = await failure(prepare(file).run);
    expect(message).toBe(
      `${file}: line 3 is not valid UTF-8: at byte offset ${offset} (byte ${lines[2].indexOf('\u00e9') + 1} of the line) ` +
        'the bytes 0xe9 0x22 0x7d 0x2c are no UTF-8 character; save the file as UTF-8 (for example "iconv -f latin1 -t utf-8 ' +
        'in > out") and run again; nothing was uploaded',
    );
    expect(await keys()).toEqual([]);
  });

  test('invalid UTF-8 in a JSON array is caught the same way', async () => {
    const file = path.join(tmp, 'bad.json');
    fs.writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`[\n${chatLine('x')},\n${chatLine('y').slice(0, 20)}`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}]}]'),
      ]),
    );
    expect(await failure(prepare(file).run)).toMatch(
      /bad\.json: line 3 is not valid UTF-8: at byte offset \d+ .* 0xc3 0x28/,
    );
    expect(await keys()).toEqual([]);
  });

  test('invalid UTF-8 in a Parquet text value names the row and the key', async () => {
    // fixtures/not-utf8.parquet: row 2's first message holds the byte 0xFF (see fixtures/make_parquet.py)
    const message = await failure(prepare(path.join(FIXTURES, 'not-utf8.parquet')).run);
    expect(message).toMatch(/not-utf8\.parquet: 1 invalid row out of 3; nothing was uploaded/);
    expect(message).toContain(
      'row 2: messages[0].content: not valid UTF-8: at byte 8 of the text the bytes 0xff 0x51 0x51 0x51 are no UTF-8 character',
    );
    expect(await keys()).toEqual([]);
  });

  test('a byte-order mark is accepted and dropped', async () => {
    const file = path.join(tmp, 'bom.jsonl');
    fs.writeFileSync(file, `\ufeff${chatLine('héllo')}\n`);
    const result = await prepare(file).run;
    expect(result.examples).toBe(1);
    expect(JSON.parse(await read('datasets/demo-lora/train.jsonl')).messages[0].content).toBe('héllo');
  });

  test('a JSON array cut off part-way is an error', async () => {
    const file = path.join(tmp, 'cut.json');
    fs.writeFileSync(file, `[\n${chatLine('a')},\n${chatLine('b').slice(0, 30)}`);
    expect(await failure(prepare(file).run)).toMatch(
      /cut\.json: not valid JSON after item 1 \(the next item starts on line 3\)/,
    );
    expect(await keys()).toEqual([]);
  });

  test.each([
    ['../escape.jsonl', /--name "\.\.\/escape\.jsonl" is not a plain file name/],
    ['sub/train.jsonl', /--name "sub\/train\.jsonl" is not a plain file name/],
    ['..', /--name "\.\." is not a plain file name/],
    ['train.parquet', /--name "train\.parquet" does not end in \.jsonl, but prepare-data writes JSON Lines/],
    ['train.json', /does not end in \.jsonl/],
  ])('--name %s is refused', async (name, error) => {
    expect(await failure(prepare(path.join(FIXTURES, 'chat-messages.jsonl'), { name }).run)).toMatch(error);
    expect(await keys()).toEqual([]);
  });

  test('an --s3-uri object name with another extension is refused', async () => {
    const message = await failure(
      prepare(path.join(FIXTURES, 'chat-messages.jsonl'), {
        bucket: undefined,
        s3Uri: `s3://${DATASETS_BUCKET}/datasets/x/data.parquet`,
      }).run,
    );
    expect(message).toMatch(/--s3-uri object name "data\.parquet" does not end in \.jsonl/);
    expect(await keys()).toEqual([]);
  });

  test('the command exits non-zero with one error line', async () => {
    const env = new CapturedEnvironment(cli.project, { USER: 'tester' });
    await prepareDataCommand(env).parseAsync(
      [
        path.join(FIXTURES, 'chat-messages.jsonl'),
        '-r',
        'demo-lora',
        '--bucket',
        DATASETS_BUCKET,
        '--name',
        '../x.jsonl',
      ],
      { from: 'user' },
    );
    expect(env.exitCode).toBe(1);
    expect(env.stderrText).toMatch(/^error: --name "\.\.\/x\.jsonl" is not a plain file name/);
    expect(await keys()).toEqual([]);
  });
});
