import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { CreatePipelineCommand } from '@aws-sdk/client-sagemaker';
import { stageModel, stageModelCommand } from '../../lib/cli/commands/stage-model';
import { CliError } from '../../lib/cli/errors';
import { Output } from '../../lib/cli/output';
import { TransferProgress } from '../../lib/cli/transfer-progress';
import { STAGED_MODEL_MANIFEST, stagedModelManifestSchema, stagedModelPrefix } from '../../lib/config/staged-model';
import { FakeHub, sha256 } from '../support/fake-hub';
import { CapturedEnvironment, motoContext, PIPELINE, PIPELINE_PARAMETERS, ROLE_ARN, useMotoProject } from './support';
import { BIG_SHARD, SMALL_SHARD, TINY_COMMIT, TINY_ID, tinyModelFiles, tinyModelRepo } from './tiny-model';

const BUCKET = 'gptoss-test-artifacts';
const PREFIX = stagedModelPrefix(TINY_ID, 'main');
const STAGED = [
  'README.md',
  'config.json',
  'generation_config.json',
  BIG_SHARD,
  SMALL_SHARD,
  'model.safetensors.index.json',
  'tokenizer.json',
];

const cli = useMotoProject();
let hub: FakeHub;

beforeEach(async () => {
  await cli.c.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  hub = new FakeHub();
  await hub.start();
});
afterEach(async () => {
  await hub.stop();
});

async function keys(prefix = PREFIX): Promise<string[]> {
  const out = await cli.c.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => (o.Key ?? '').slice(prefix.length)).sort();
}

async function body(key: string): Promise<Buffer> {
  const obj = await cli.c.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from((await obj.Body?.transformToByteArray()) ?? []);
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CliError);
  return (e as CliError).message;
}

function stage(opts: Parameters<typeof stageModel>[2] = {}, env: Record<string, string> = {}) {
  const { ctx, env: captured } = motoContext(cli.project, cli.moto.endpoint);
  Object.assign(captured.env, env);
  return {
    run: stageModel(ctx, TINY_ID, { bucket: BUCKET, hubUrl: hub.url, ...opts }).finally(() => ctx.close()),
    out: captured,
  };
}

describe('stage-model from the Hub', () => {
  test('copies the files at the pinned commit, skips original/ and metal/, verifies and writes the manifest last', async () => {
    // GIVEN a repository on the Hub laid out like gpt-oss
    hub.add(tinyModelRepo());
    // WHEN it is staged by branch name
    const { run, out } = stage();
    const result = await run;
    // THEN exactly the files the jobs read are under base-models/<id>/main/, plus the manifest
    expect(await keys()).toEqual([...STAGED, STAGED_MODEL_MANIFEST].sort());
    const files = tinyModelFiles();
    for (const f of STAGED) expect(sha256(await body(`${PREFIX}${f}`))).toBe(sha256(files[f].content));
    // AND the manifest pins the commit and lists every file with the size and SHA-256 of its bytes
    const manifest = stagedModelManifestSchema.parse(
      JSON.parse((await body(`${PREFIX}${STAGED_MODEL_MANIFEST}`)).toString()),
    );
    expect(manifest).toMatchObject({ repoId: TINY_ID, revision: 'main', commitSha: TINY_COMMIT, source: 'hub' });
    expect(manifest.files.map((f) => f.path).sort()).toEqual([...STAGED].sort());
    for (const f of manifest.files) {
      expect(f).toEqual({ path: f.path, size: files[f.path].content.length, sha256: sha256(files[f.path].content) });
    }
    // AND the skipped copies are named with the reason
    expect(manifest.skipped.map((s) => s.path)).toEqual(['.gitattributes', 'metal/', 'original/']);
    expect(manifest.skipped.find((s) => s.path === 'original/')?.reason).toMatch(
      /reference-implementation.*\(2 files\)/,
    );
    expect(out.stdoutText).toMatch(/skipped {5}metal\/: Apple Metal/);
    // AND every read used the commit, never the moving branch
    expect(hub.downloads().length).toBe(STAGED.length);
    expect(hub.downloads().every((p) => p.includes(`/resolve/${TINY_COMMIT}/`))).toBe(true);
    // AND the 17 MiB shard went up in parts, with its SHA-256 recorded on the object for a later resume
    const head = await cli.c.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${BIG_SHARD}` }));
    expect(head.ETag).toMatch(/-2"$/);
    expect(head.Metadata?.sha256).toBe(sha256(files[BIG_SHARD].content));
    // AND progress shows throughput and time left
    expect(out.stderrText).toMatch(/100% .*\/s {2}ETA 0s/);
    expect(result.copied).toHaveLength(STAGED.length);
  });

  test('an interrupted copy resumes: verified files are kept, the rest copied, the manifest only at the end', async () => {
    // GIVEN the connection drops part-way through the small shard (copied after the big one)
    hub.add(tinyModelRepo());
    hub.dropAfter.set(SMALL_SHARD, 100);
    const first = stage();
    const message = await failure(first.run);
    expect(message).toMatch(
      new RegExp(`${SMALL_SHARD}: reading the source broke off after \\d+ of \\d+ bytes .*run the command again`),
    );
    // THEN the files before it are stored and nothing says the model is staged
    const after = await keys();
    expect(after).toContain(BIG_SHARD);
    expect(after).not.toContain(SMALL_SHARD);
    expect(after).not.toContain(STAGED_MODEL_MANIFEST);
    // WHEN the command runs again with the network back
    hub.dropAfter.clear();
    hub.requests.length = 0;
    const second = stage();
    const result = await second.run;
    // THEN the files already verified in S3 are not downloaded again
    expect(result.reused).toContain(BIG_SHARD);
    expect(hub.downloads().some((p) => p.endsWith(BIG_SHARD))).toBe(false);
    expect(hub.downloads().some((p) => p.endsWith(SMALL_SHARD))).toBe(true);
    expect(second.out.stdoutText).toMatch(/already staged and verified/);
    expect(await keys()).toEqual([...STAGED, STAGED_MODEL_MANIFEST].sort());
  });

  test('a corrupted byte is caught: the command fails naming the file, no object and no manifest', async () => {
    hub.add(tinyModelRepo());
    hub.corrupt.set(BIG_SHARD, 5_000_000);
    // WHEN the command runs as the operator runs it
    const env = new CapturedEnvironment(cli.project, { USER: 'tester' });
    await stageModelCommand(env).parseAsync(
      [TINY_ID, '--bucket', BUCKET, '--hub-url', hub.url, '--endpoint-url', cli.moto.endpoint, '--region', 'us-east-1'],
      { from: 'user' },
    );
    // THEN it exits non-zero with the file and the checksums in the message
    expect(env.exitCode).toBe(1);
    expect(env.stderrText).toMatch(
      new RegExp(
        `error: ${TINY_ID}@${TINY_COMMIT.slice(0, 12)}/${BIG_SHARD}: read SHA-256 [0-9a-f]{64} where ${sha256(tinyModelFiles()[BIG_SHARD].content)} was expected`,
      ),
    );
    // AND the corrupted shard is not in S3 (its multipart upload was aborted) and there is no manifest
    const stored = await keys();
    expect(stored).not.toContain(BIG_SHARD);
    expect(stored).not.toContain(STAGED_MODEL_MANIFEST);
    const uploads = await cli.c.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  test.each([
    ['tokenizer.json', /read SHA-256 [0-9a-f]{64} where [0-9a-f]{64} was expected/],
    ['config.json', /read git blob id [0-9a-f]{40} where [0-9a-f]{40} was expected/],
  ])('a corrupted small file (%s, one PUT) is caught the same way', async (file, error) => {
    hub.add(tinyModelRepo());
    hub.corrupt.set(file, 3);
    const message = await failure(stage().run);
    expect(message).toContain(`${TINY_ID}@${TINY_COMMIT.slice(0, 12)}/${file}: `);
    expect(message).toMatch(error);
    const stored = await keys();
    expect(stored).not.toContain(file);
    expect(stored).not.toContain(STAGED_MODEL_MANIFEST);
  });

  test('a gated repository needs a token; with HF_TOKEN it stages', async () => {
    hub.add(tinyModelRepo({ token: 'hf_secret' }));
    const message = await failure(stage().run);
    expect(message).toMatch(
      /gated or private: accept its terms at .*tiny-org\/tiny-gpt-oss and pass a token .*HF_TOKEN/,
    );
    const ok = await stage({}, { HF_TOKEN: 'hf_secret' }).run;
    expect(ok.manifest.commitSha).toBe(TINY_COMMIT);
  });

  test('an unknown revision is a clear error and stores nothing', async () => {
    hub.add(tinyModelRepo());
    const message = await failure(stage({ revision: 'v9' }).run);
    expect(message).toMatch(/has no revision "v9" for model tiny-org\/tiny-gpt-oss .*check the id and --revision/);
    expect(await keys('')).toEqual([]);
  });

  test('a re-staged branch that moved replaces the old files and manifest', async () => {
    hub.add(tinyModelRepo());
    await stage().run;
    // the branch now points at a commit without README.md and with a changed config
    const files = tinyModelFiles();
    delete (files as Record<string, unknown>)['README.md'];
    files['config.json'] = { content: Buffer.from('{"model_type":"gpt_oss","num_hidden_layers":3}') };
    const moved = 'fedcba9876543210fedcba9876543210fedcba98';
    hub.add(tinyModelRepo({ commit: moved, files }));
    const { run, out } = stage();
    const result = await run;
    expect(result.manifest.commitSha).toBe(moved);
    expect(await keys()).not.toContain('README.md');
    expect((await body(`${PREFIX}config.json`)).toString()).toContain('"num_hidden_layers":3');
    expect(out.stdoutText).toMatch(/replacing {3}the copy of commit 0123456789ab/);
    expect(result.reused).toContain(BIG_SHARD);
  });
});

describe('stage-model destination', () => {
  test("--recipe stages where, and at the revision, the recipe's pipeline reads its base model", async () => {
    // GIVEN a pipeline whose BaseModelS3Uri default pins the model to a commit
    hub.add(tinyModelRepo());
    const pinned = stagedModelPrefix(TINY_ID, TINY_COMMIT);
    await cli.c.sagemaker.send(
      new CreatePipelineCommand({
        PipelineName: PIPELINE,
        RoleArn: ROLE_ARN,
        PipelineDefinition: JSON.stringify({
          Version: '2020-12-01',
          Parameters: [
            ...PIPELINE_PARAMETERS.filter((p) => p.Name !== 'BaseModelS3Uri'),
            { Name: 'BaseModelS3Uri', Type: 'String', DefaultValue: `s3://${BUCKET}/${pinned}` },
          ],
          Steps: [],
        }),
        ClientRequestToken: 'token-stage-model-0123456789abcdef',
      }),
    );
    // WHEN staged for the recipe without --revision, it goes exactly there
    const result = await stage({ bucket: undefined, recipe: 'demo-lora' }).run;
    expect(result.destination).toBe(`s3://${BUCKET}/${pinned}`);
    expect(result.manifest.revision).toBe(TINY_COMMIT);
    // AND another revision, or another model, than the pipeline reads is refused before any copy
    const other = await failure(stage({ bucket: undefined, recipe: 'demo-lora', revision: 'main' }).run);
    expect(other).toContain(`reads its base model from s3://${BUCKET}/${pinned}, not s3://${BUCKET}/${PREFIX}`);
    const { ctx } = motoContext(cli.project, cli.moto.endpoint);
    const wrongModel = await failure(
      stageModel(ctx, 'openai/gpt-oss-20b', { recipe: 'demo-lora', hubUrl: hub.url }).finally(() => ctx.close()),
    );
    expect(wrongModel).toMatch(/not s3:\/\/gptoss-test-artifacts\/base-models\/openai\/gpt-oss-20b\/<revision>\//);
    expect(hub.downloads()).toHaveLength(STAGED.length);
  });

  test('without --bucket or --recipe it says what to pass', async () => {
    expect(await failure(stage({ bucket: undefined }).run)).toMatch(/pass --recipe <name> .* or --bucket/);
  });
});

describe('stage-model --from-dir', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-model-'));
    // a copy as `hf download --local-dir` leaves it: the files plus .cache/huggingface/download/<f>.metadata
    for (const [rel, f] of Object.entries(tinyModelFiles())) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), f.content);
      const meta = path.join(dir, '.cache', 'huggingface', 'download', `${rel}.metadata`);
      fs.mkdirSync(path.dirname(meta), { recursive: true });
      const etag = f.lfs ? sha256(f.content) : 'a'.repeat(40);
      fs.writeFileSync(meta, `${TINY_COMMIT}\n"${etag}"\n1754352000.0\n`);
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('stages a local copy with the commit it recorded, skipping the same folders', async () => {
    const result = await stage({ fromDir: dir }).run;
    expect(hub.requests).toEqual([]);
    expect(await keys()).toEqual([...STAGED, STAGED_MODEL_MANIFEST].sort());
    expect(result.manifest).toMatchObject({ source: 'dir', commitSha: TINY_COMMIT });
    expect(result.manifest.skipped.map((s) => s.path).sort()).toEqual([
      '.cache/',
      '.gitattributes',
      'metal/',
      'original/',
    ]);
    // a second run finds everything in place
    const again = await stage({ fromDir: dir }).run;
    expect(again.copied).toEqual([]);
  });

  test('a damaged local file is refused before anything is copied', async () => {
    const shard = path.join(dir, SMALL_SHARD);
    const bytes = fs.readFileSync(shard);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(shard, bytes);
    const message = await failure(stage({ fromDir: dir }).run);
    expect(message).toMatch(
      new RegExp(`${SMALL_SHARD}: SHA-256 [0-9a-f]{64} differs from .*the local copy is damaged`),
    );
    expect(await keys()).toEqual([]);
  });

  test('a copy that records no commit needs --revision <commit>', async () => {
    fs.rmSync(path.join(dir, '.cache'), { recursive: true });
    expect(await failure(stage({ fromDir: dir }).run)).toMatch(
      /cannot tell which commit .*pass --revision <40-character commit id>/,
    );
    const result = await stage({ fromDir: dir, revision: TINY_COMMIT }).run;
    expect(result.destination).toBe(`s3://${BUCKET}/${stagedModelPrefix(TINY_ID, TINY_COMMIT)}`);
  });
});

describe('transfer progress', () => {
  test('on a terminal it redraws one line with rate and ETA, and file names go above it', () => {
    let written = '';
    let now = 0;
    const out = new Output({
      stdout: { write: () => true },
      stderr: { write: (s: string) => (written += s), isTTY: true },
    });
    const progress = new TransferProgress(out, 100 * 1024 * 1024, () => now);
    progress.note('copying a.safetensors (100.0 MiB)');
    now = 2000;
    progress.add(50 * 1024 * 1024);
    expect(written).toBe(
      '\r\x1b[Kcopying a.safetensors (100.0 MiB)\n' +
        '\r[###############...............]  50% 50.0 MiB / 100.0 MiB  25.0 MiB/s  ETA 2s',
    );
    written = '';
    now = 2100;
    progress.add(1024);
    expect(written).toBe('');
  });
});
