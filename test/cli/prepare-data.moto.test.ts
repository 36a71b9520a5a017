import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { prepareData } from '../../lib/cli/commands/prepare-data';
import { CliContext } from '../../lib/cli/context';
import { preparedDatasetManifestSchema } from '../../lib/config/prepared-dataset';
import {
  CapturedEnvironment,
  createDatasetsBucket,
  createPipeline,
  DATASETS_BUCKET,
  FIXTURES,
  useMotoProject,
  expectCliError,
} from './support';

const cli = useMotoProject();

async function readObject(key: string): Promise<string> {
  const obj = await cli.c.s3.send(new GetObjectCommand({ Bucket: DATASETS_BUCKET, Key: key }));
  return (await obj.Body?.transformToString()) ?? '';
}

async function keys(): Promise<string[]> {
  const out = await cli.c.s3.send(new ListObjectsV2Command({ Bucket: DATASETS_BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

describe('prepare-data', () => {
  test('uploads converted Multilingual-Thinking JSONL to the pipeline dataset location and reads back', async () => {
    // GIVEN a deployed pipeline whose dataset parameter points at the datasets bucket
    await createDatasetsBucket(cli.c);
    await createPipeline(cli.c);
    const { ctx, env } = cli.context();
    // WHEN the fixture is prepared for the recipe
    const result = await prepareData(ctx, path.join(FIXTURES, 'multilingual-thinking.jsonl'), { recipe: 'demo-lora' });
    // THEN one object lands under datasets/demo-lora/, one {"messages"} row per example
    expect(result.destination).toBe(`s3://${DATASETS_BUCKET}/datasets/demo-lora/train.jsonl`);
    expect(await keys()).toEqual(['datasets/demo-lora/prepared-dataset.manifest', 'datasets/demo-lora/train.jsonl']);
    const rows = (await readObject('datasets/demo-lora/train.jsonl'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(6);
    expect(rows[0]).toEqual({
      messages: [
        {
          role: 'system',
          content: 'reasoning language: French\n\nYou are a helpful cooking assistant. Keep answers short.',
        },
        { role: 'user', content: 'How long should I boil an egg for a soft yolk?' },
        {
          role: 'assistant',
          content: 'Boil it for about 6 minutes, then cool it in cold water.',
          thinking: expect.stringMatching(/^L'utilisateur veut un jaune coulant/),
        },
      ],
    });
    // AND the report has the languages, the token estimate and the recipe's cost for this data
    expect(result.languages).toEqual({ French: 2, German: 1, Italian: 1, Japanese: 1, Spanish: 1 });
    expect(result.estimatedTokens.total).toBeGreaterThan(500);
    expect(result.estimate?.instances).toBe('1 × ml.p5.48xlarge');
    expect(result.estimate?.usd).toBeGreaterThan(0);
    // AND the next step is a plain run: the pipeline reads this location by default
    expect(env.stdoutText).toContain('next        npm run cli -- run demo-lora\n');
    // AND the manifest, written after the data, describes the uploaded file and its source
    const data = await readObject('datasets/demo-lora/train.jsonl');
    const manifest = preparedDatasetManifestSchema.parse(
      JSON.parse(await readObject('datasets/demo-lora/prepared-dataset.manifest')),
    );
    expect(manifest).toMatchObject({
      recipe: 'demo-lora',
      examples: 6,
      file: {
        path: 'train.jsonl',
        size: Buffer.byteLength(data),
        sha256: createHash('sha256').update(data).digest('hex'),
      },
      source: {
        type: 'file',
        name: path.join(FIXTURES, 'multilingual-thinking.jsonl'),
        sha256: createHash('sha256')
          .update(fs.readFileSync(path.join(FIXTURES, 'multilingual-thinking.jsonl')))
          .digest('hex'),
      },
    });
    ctx.close();
  });

  test('uploads a Parquet file with --bucket, and a big file in several parts', async () => {
    // GIVEN a bucket and a dataset bigger than one 16 MiB part
    await createDatasetsBucket(cli.c);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-oss-big-'));
    const big = path.join(tmp, 'big.jsonl');
    const line = JSON.stringify({
      messages: [
        { role: 'user', content: `Summarise: ${'lorem ipsum dolor sit amet '.repeat(40)}` },
        { role: 'assistant', content: 'A summary.', thinking: 'Short.' },
      ],
    });
    fs.writeFileSync(big, `${line}\n`.repeat(Math.ceil((17 * 1024 * 1024) / line.length)));
    const { ctx, env } = cli.context();
    try {
      // WHEN both are uploaded
      const parquet = await prepareData(ctx, path.join(FIXTURES, 'multilingual-thinking.parquet'), {
        recipe: 'demo-lora',
        bucket: DATASETS_BUCKET,
        name: 'parquet.jsonl',
      });
      const large = await prepareData(ctx, big, {
        recipe: 'demo-lora',
        s3Uri: `s3://${DATASETS_BUCKET}/datasets/big/`,
      });
      // THEN the Parquet rows read back as JSONL, and the big file is a multipart object with progress shown
      expect(parquet.examples).toBe(6);
      expect((await readObject('datasets/demo-lora/parquet.jsonl')).trim().split('\n')).toHaveLength(6);
      const head = await cli.c.s3.send(
        new HeadObjectCommand({ Bucket: DATASETS_BUCKET, Key: 'datasets/big/train.jsonl' }),
      );
      expect(head.ContentLength).toBe(large.bytes);
      expect(head.ETag).toMatch(/-2"$/);
      expect(env.stderrText).toMatch(/uploading s3:\/\/gptoss-test-datasets\/datasets\/big\/train\.jsonl \[#+\] 100%/);
      expect(env.stdoutText).toContain(
        'next        npm run cli -- run demo-lora --dataset s3://gptoss-test-datasets/datasets/big/\n',
      );
    } finally {
      ctx.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('fails on bad rows with their line numbers and uploads nothing', async () => {
    // GIVEN a deployed pipeline and bucket
    await createDatasetsBucket(cli.c);
    await createPipeline(cli.c);
    const { ctx } = cli.context();
    // WHEN a file with bad rows is prepared
    const message = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'broken.jsonl'), { recipe: 'demo-lora' }),
    );
    // THEN every bad row is named with its line and reason, and the bucket stays empty
    expect(message).toMatch(/broken\.jsonl: 8 invalid rows out of 9; nothing was uploaded/);
    expect(message).toContain('line 2: messages[0].thinking: set on a "user" turn');
    expect(message).toContain('line 3: messages[1].content: is empty');
    expect(message).toContain('line 6: not valid JSON');
    expect(message).toContain('line 7: messages[0].role: found "narrator"');
    expect(message).toContain('line 10: messages[1].content: contains the chat-format tag');
    expect(await keys()).toEqual([]);
    ctx.close();
  });

  test('fails on a bad item of a JSON array with its line number', async () => {
    await createDatasetsBucket(cli.c);
    const { ctx } = cli.context();
    const message = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'broken.json'), { recipe: 'demo-lora', bucket: DATASETS_BUCKET }),
    );
    expect(message).toMatch(/line 8 \(item 2\): messages\[1\]\.role: two "user" turns in a row/);
    expect(await keys()).toEqual([]);
    ctx.close();
  });

  test('fails with the fix when the datasets bucket does not exist', async () => {
    // GIVEN a pipeline pointing at a bucket that was never created
    await createPipeline(cli.c);
    const { ctx } = cli.context();
    const message = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'chat-messages.jsonl'), { recipe: 'demo-lora' }),
    );
    expect(message).toBe(
      `bucket "${DATASETS_BUCKET}" does not exist; deploy the data stack ("npx cdk deploy gptoss-test-data") or pass ` +
        '--bucket with the datasets bucket',
    );
    ctx.close();
  });

  test('fails on a recipe without a deployed pipeline, naming what exists', async () => {
    // GIVEN only another recipe's pipeline is deployed
    await createDatasetsBucket(cli.c);
    await createPipeline(cli.c, 'gptoss-test-other');
    const { ctx } = cli.context();
    const notDeployed = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'chat-messages.jsonl'), { recipe: 'demo-lora' }),
    );
    expect(notDeployed).toMatch(
      /^unknown recipe "demo-lora": there is no pipeline "gptoss-test-demo-lora" in us-east-1/,
    );
    expect(notDeployed).toMatch(
      /deployed recipes: other; recipe files: demo-lora; recipes\/demo-lora\.yaml exists but is not deployed/,
    );
    const noFile = await expectCliError(
      prepareData(ctx, path.join(FIXTURES, 'chat-messages.jsonl'), { recipe: 'nope' }),
    );
    expect(noFile).toMatch(/^unknown recipe "nope": there is no recipes\/nope\.yaml in .*; known recipes: demo-lora$/);
    expect(await keys()).toEqual([]);
    ctx.close();
  });

  test('a dry run validates and reports without any AWS call', async () => {
    // GIVEN an endpoint nothing listens on
    const env = new CapturedEnvironment(cli.project);
    const ctx = new CliContext({ endpointUrl: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1 }, env);
    // WHEN the flat JSON fixture is checked
    const result = await prepareData(ctx, path.join(FIXTURES, 'flat-multilingual-thinking.json'), {
      recipe: 'demo-lora',
      dryRun: true,
    });
    // THEN it reports and uploads nothing
    expect(result.uploaded).toBe(false);
    expect(result.languages).toEqual({ English: 1, Spanish: 1 });
    expect(env.stdoutText).toMatch(/dry run {5}nothing uploaded/);
    expect(env.stdoutText).toMatch(/examples {4}2 \(2 with reasoning\)/);
    ctx.close();
  });
});
