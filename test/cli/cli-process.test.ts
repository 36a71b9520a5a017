import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { STAGED_MODEL_MANIFEST, stagedModelPrefix } from '../../lib/config/staged-model';
import { FakeHub } from '../support/fake-hub';
import { startMotoServer, type MotoServer } from '../support/moto-server';
import { REPO_ROOT } from '../support/python-tools';
import {
  type Clients,
  clients,
  createDatasetsBucket,
  createEndpoint,
  createPipeline,
  DATASETS_BUCKET,
  executeStateMachines,
  FIXTURES,
  makeProject,
  putPreparedDataset,
  queueEndpointResults,
  putStagedModel,
  startStateMachine,
} from './support';
import { TINY_ID, tinyModelRepo } from './tiny-model';

/** The real CLI, as `npx tsx bin/cli.ts` runs it (tsx from the project's node_modules). */
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(REPO_ROOT, 'bin', 'cli.ts');

let moto: MotoServer;
let c: Clients;
let project: string;
let home: string;

beforeAll(async () => {
  moto = await startMotoServer();
  c = clients(moto.endpoint);
  project = makeProject();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-oss-home-'));
});
afterAll(async () => {
  await moto.stop();
  fs.rmSync(project, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
});
beforeEach(async () => {
  await moto.reset();
  await executeStateMachines(moto.endpoint, false);
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in the fixture project with dummy credentials and an empty HOME (no ~/.aws). */
function cli(args: readonly string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], {
      cwd: project,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        USER: 'ci-user',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

async function datasetKeys(): Promise<string[]> {
  const out = await c.s3.send(new ListObjectsV2Command({ Bucket: DATASETS_BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

test('prepare-data uploads through AWS_ENDPOINT_URL alone (no flag) and the object reads back', async () => {
  // GIVEN a deployed pipeline and datasets bucket
  await createDatasetsBucket(c);
  await createPipeline(c);
  // WHEN the CLI process prepares the chat fixture with only the SDK's env var pointing at moto
  const r = await cli(['prepare-data', path.join(FIXTURES, 'chat-messages.jsonl'), '--recipe', 'demo-lora'], {
    AWS_ENDPOINT_URL: moto.endpoint,
  });
  // THEN it exits 0 and the converted rows are in S3
  expect(r.stderr).not.toMatch(/error:/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^examples {4}3 \(1 with reasoning\)$/m);
  expect(r.stdout).toMatch(/^uploaded {4}s3:\/\/gptoss-test-datasets\/datasets\/demo-lora\/train\.jsonl \(/m);
  const obj = await c.s3.send(new GetObjectCommand({ Bucket: DATASETS_BUCKET, Key: 'datasets/demo-lora/train.jsonl' }));
  const rows = ((await obj.Body?.transformToString()) ?? '').trim().split('\n');
  expect(rows).toHaveLength(3);
  expect(JSON.parse(rows[1])).toEqual({
    messages: [
      { role: 'user', content: 'Say hello.' },
      { role: 'assistant', content: 'Hello!' },
    ],
  });
});

test('prepare-data exits 1 on bad rows, prints their lines, uploads nothing', async () => {
  await createDatasetsBucket(c);
  await createPipeline(c);
  const r = await cli([
    'prepare-data',
    path.join(FIXTURES, 'broken.jsonl'),
    '--recipe',
    'demo-lora',
    '--endpoint-url',
    moto.endpoint,
  ]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^error: .*broken\.jsonl: 8 invalid rows out of 9; nothing was uploaded/m);
  expect(r.stderr).toMatch(/^ {2}line 8: messages: ends with a "user" turn/m);
  expect(await datasetKeys()).toEqual([]);
});

test('stage-model stages from the Hub named by HF_ENDPOINT with HF_TOKEN, as the real CLI process', async () => {
  // GIVEN a gated tiny model on a local Hub and an artifacts bucket
  const hub = new FakeHub();
  await hub.start();
  hub.add(tinyModelRepo({ token: 'hf_process' }));
  await c.s3.send(new CreateBucketCommand({ Bucket: 'gptoss-test-artifacts' }));
  try {
    // WHEN the CLI runs with the Hub and the token only in the environment
    const r = await cli(
      ['stage-model', TINY_ID, '--bucket', 'gptoss-test-artifacts', '--endpoint-url', moto.endpoint],
      { HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_process' },
    );
    // THEN it exits 0, and the manifest is there, after the files
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^staged {6}s3:\/\/gptoss-test-artifacts\/base-models\/tiny-org\/tiny-gpt-oss\/main\/ /m);
    const out = await c.s3.send(
      new ListObjectsV2Command({ Bucket: 'gptoss-test-artifacts', Prefix: stagedModelPrefix(TINY_ID) }),
    );
    expect((out.Contents ?? []).map((o) => o.Key)).toContain(`${stagedModelPrefix(TINY_ID)}${STAGED_MODEL_MANIFEST}`);
  } finally {
    await hub.stop();
  }
});

test('run prints the execution ARN and console link; an unknown recipe exits 1 with the known ones', async () => {
  await createPipeline(c);
  await putStagedModel(c);
  await putPreparedDataset(c);
  const ok = await cli(['run', 'demo-lora', '--epochs', '0.5', '--endpoint-url', moto.endpoint]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(
    /^execution {3}arn:aws:sagemaker:us-east-1:\d{12}:pipeline\/gptoss-test-demo-lora\/execution\/\w+$/m,
  );
  expect(ok.stdout).toMatch(/^overrides {3}NumTrainEpochs=0.5$/m);
  expect(ok.stdout).toMatch(/^console {5}https:\/\/us-east-1\.console\.aws\.amazon\.com\/sagemaker\//m);
  const bad = await cli(['run', 'nope', '--endpoint-url', moto.endpoint]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(
    /^error: unknown recipe "nope": there is no pipeline "gptoss-test-nope" .*deployed recipes: demo-lora/m,
  );
  // AND a run whose dataset was never prepared exits 1 with one line naming the fix, starting nothing
  const unprepared = await cli([
    'run',
    'demo-lora',
    '--dataset',
    's3://gptoss-test-datasets/elsewhere/',
    '--endpoint-url',
    moto.endpoint,
  ]);
  expect(unprepared.code).toBe(1);
  expect(unprepared.stderr.trim().split('\n')).toEqual([
    'error: s3://gptoss-test-datasets/elsewhere/ holds no dataset prepared by prepare-data (no prepared-dataset.manifest); ' +
      'run "npm run cli -- prepare-data <file> --recipe demo-lora --s3-uri s3://gptoss-test-datasets/elsewhere/" first; ' +
      'nothing was started',
  ]);
});

test('watch exits 1 with the reason when the register stage fails', async () => {
  // GIVEN a finished run and a register execution for it that failed
  await createPipeline(c);
  await putStagedModel(c);
  await putPreparedDataset(c);
  const started = await cli(['run', 'demo-lora', '--json', '--endpoint-url', moto.endpoint]);
  const arn = (JSON.parse(started.stdout) as { executionArn: string }).executionArn;
  await executeStateMachines(moto.endpoint, true);
  await startStateMachine(
    c,
    'gptoss-test-register',
    { StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'QualityGate', Cause: 'eval_loss 2.1 above 1.5' } } },
    { detail: { pipelineExecutionArn: arn } },
  );
  // WHEN the CLI watches it
  const r = await cli(['watch', arn, '--interval', '0.1', '--deploy-wait', '1', '--endpoint-url', moto.endpoint]);
  // THEN it exits non-zero and says why
  expect(r.stdout).toMatch(/pipeline gptoss-test-demo-lora: Succeeded/);
  expect(r.stdout).toContain('FAILED: gptoss-test-register FAILED: QualityGate: eval_loss 2.1 above 1.5');
  expect(r.code).toBe(1);
});

test('chat reads the prompt from stdin and prints reasoning and answer', async () => {
  await createEndpoint(c);
  await queueEndpointResults(moto.endpoint, [
    JSON.stringify({
      choices: [
        { message: { role: 'assistant', content: 'Berlin.', reasoning: 'Die Hauptstadt von Deutschland ist Berlin.' } },
      ],
    }),
  ]);
  const r = await cli(
    ['chat', 'demo-lora', '--reasoning-language', 'German', '--endpoint-url', moto.endpoint],
    {},
    'What is the capital of Germany?\n',
  );
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('reasoning (German):\n  Die Hauptstadt von Deutschland ist Berlin.\nanswer:\n  Berlin.\n');
});
