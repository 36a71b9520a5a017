import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  defaultTools,
  deployLocally,
  executeLocally,
  localHyperParameters,
  type LocalPlatform,
} from '../../lib/local/local-run';
import type { Json } from '../../lib/pipeline/expressions';
import { REPO_ROOT } from '../support/python-tools';

/**
 * The multi-node recipe's Training step as SageMaker runs it: one /opt/ml and one entrypoint per instance of the
 * synthesized request (InstanceCount 2), each host told the host list and its own name, one rendezvous.
 */

type Obj = { [key: string]: Json };

const RECIPE = 'recipes/gpt-oss-120b-multinode-lora.yaml';
let platform: LocalPlatform;
let work: string;
const lines: string[] = [];
const log = (line: string): void => void lines.push(line);

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'local-multi-host-'));
  platform = await deployLocally(RECIPE, { workDir: work, tools: defaultTools(REPO_ROOT), log });
}, 300_000);

afterAll(async () => {
  await platform?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('two instances train as one job: each host has its own /opt/ml and the launcher sees two machines', async () => {
  const hyperParameters = localHyperParameters(platform, 2);
  const result = await executeLocally(platform, { parameters: { MaxSteps: 2 }, hyperParameters, log });
  const job = result.steps.find((s) => s.type === 'Training' && s.status !== 'Skipped');
  expect(job?.status).toBe('Succeeded');
  expect(((job?.request as Obj).ResourceConfig as Obj).InstanceCount).toBe(2);

  // each host's resourceconfig.json names the hosts and itself, as SageMaker writes it on every instance
  const root = path.join(work, 'jobs', job?.name ?? '', 'opt_ml');
  for (const [host, dir] of [
    ['algo-1', root],
    ['algo-2', `${root}-algo-2`],
  ]) {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'input/config/resourceconfig.json'), 'utf8')) as Obj;
    expect(config).toMatchObject({ current_host: host, hosts: ['algo-1', 'algo-2'] });
    expect(fs.existsSync(path.join(dir, 'input/data/model/staging-manifest.json'))).toBe(true);
  }
  // both entrypoints ran and joined one process group of two
  const text = lines.join('\n');
  expect(text).toMatch(/\[algo-1\] /);
  expect(text).toMatch(/\[algo-2\] /);
  expect(text).toMatch(/num_machines 2\b/);

  // the main process wrote the model; the upload holds it once
  const props = job?.properties as { ModelArtifacts: { S3ModelArtifacts: string } };
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(props.ModelArtifacts.S3ModelArtifacts) as RegExpExecArray;
  const listed = await platform.s3.send(new ListObjectsV2Command({ Bucket: m[1], Prefix: m[2] }));
  const keys = (listed.Contents ?? []).map((o) => (o.Key ?? '').slice(m[2].length));
  expect(keys).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'adapter/adapter_config.json']));
}, 600_000);
