import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeTrainingJobCommand, ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import { pipelineExecutionStatusEvent } from '../../lib/local/events';
import type { StepRecord } from '../../lib/local/interpreter';
import {
  defaultTools,
  deployLocally,
  executeLocally,
  localHyperParameters,
  type LocalPlatform,
} from '../../lib/local/local-run';
import { networkSandboxAvailable, sandboxed } from '../../lib/local/sandbox';
import type { Json } from '../../lib/pipeline/expressions';
import { REPO_ROOT, venvTool } from '../support/python-tools';

/**
 * The local run for real: the default recipe synthesized, deployed into moto, the tiny model staged with
 * `stage-model --from-dir`, the sample uploaded with `prepare-data`, and the pipeline executed with the Training
 * step as a local job (launch.py on CPU in a network namespace). One full training run (4 steps) for the whole
 * suite; the other cases fail before training starts.
 */

type Obj = { [key: string]: Json };

const RECIPE = 'recipes/gpt-oss-20b-multilingual-lora.yaml';
let platform: LocalPlatform;
let work: string;
const lines: string[] = [];
const log = (line: string): void => void lines.push(line);

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'local-run-'));
  platform = await deployLocally(RECIPE, { workDir: work, tools: defaultTools(REPO_ROOT), log });
}, 300_000);

afterAll(async () => {
  await platform?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

async function keysUnder(uri: string): Promise<string[]> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri) as RegExpExecArray;
  const page = await platform.s3.send(new ListObjectsV2Command({ Bucket: m[1], Prefix: m[2] }));
  return (page.Contents ?? []).map((o) => (o.Key ?? '').slice(m[2].length)).sort();
}

function training(steps: readonly StepRecord[]): StepRecord {
  return steps.find((s) => s.type === 'Training' && s.status !== 'Skipped') as StepRecord;
}

test('the synthesized job trains, and SageMaker-placed outputs, metrics and the gate follow', async () => {
  const hyperParameters = localHyperParameters(platform, 4);
  const result = await executeLocally(platform, { parameters: { MaxSteps: 4 }, hyperParameters, log });
  const job = training(result.steps);
  expect(job.status).toBe('Succeeded');
  const request = job.request as Obj;
  const props = job.properties as Obj;
  const name = String(request.TrainingJobName);

  // /opt/ml was laid out from the request: the pipeline's MaxSteps reached hyperparameters.json as a string.
  const root = path.join(work, 'jobs', job.name, 'opt_ml');
  const hp = JSON.parse(fs.readFileSync(path.join(root, 'input/config/hyperparameters.json'), 'utf8')) as Obj;
  expect(hp.max_steps).toBe('4');
  const channels = JSON.parse(fs.readFileSync(path.join(root, 'input/config/inputdataconfig.json'), 'utf8')) as Obj;
  expect(Object.keys(channels)).toEqual(['code', 'recipe', 'training', 'model']);
  expect(fs.existsSync(path.join(root, 'input/data/model/staging-manifest.json'))).toBe(true);

  // the model uploaded uncompressed under <S3OutputPath>/<job>/output/model/, the checkpoints synced.
  const output = String((request.OutputDataConfig as Obj).S3OutputPath);
  const modelUri = `${output.endsWith('/') ? output : `${output}/`}${name}/output/model/`;
  expect((props.ModelArtifacts as Obj).S3ModelArtifacts).toBe(modelUri);
  const modelKeys = await keysUnder(modelUri);
  expect(modelKeys).toEqual(expect.arrayContaining(['config.json', 'evaluation.json', 'chat_template.jinja']));
  expect(await keysUnder(String((request.CheckpointConfig as Obj).S3Uri))).not.toHaveLength(0);

  // FinalMetricDataList: the last value of each MetricDefinitions regex, the same eval_loss the job wrote.
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(modelUri) as RegExpExecArray;
  const evaluation = JSON.parse(
    await ((
      await platform.s3.send(new GetObjectCommand({ Bucket: m[1], Key: `${m[2]}evaluation.json` }))
    ).Body?.transformToString() ?? '{}'),
  ) as { eval_loss: number; global_step: number };
  expect(evaluation.global_step).toBe(4);
  const metrics = props.FinalMetricDataList as Obj[];
  const evalLoss = metrics.find((x) => x.MetricName === 'eval_loss')?.Value as number;
  expect(evalLoss).toBeCloseTo(evaluation.eval_loss, 4);

  // the job exists in the emulator; the gate read the metric (a random 2-layer model does not pass 1.6).
  const described = await platform.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
  expect(described.TrainingJobName).toBe(name);
  expect(result.status).toBe('Failed');
  expect(result.failureReason).toMatch(/^final eval_loss [0-9.]+ is above the quality gate max_eval_loss 1\.6/);

  // AND nothing is registered: the execution's "Failed" event matches no synthesized rule, so REGISTER never starts.
  const failed = pipelineExecutionStatusEvent({
    pipelineName: platform.synth.pipelineName,
    executionId: result.execution.PipelineExecutionId,
    status: 'Failed',
  });
  expect(platform.bus.put(failed)).toEqual([]);
  const [group] = platform.deployment.packageGroups;
  const packages = await platform.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }));
  expect(packages.ModelPackageSummaryList ?? []).toEqual([]);
  expect(await keysUnder(`s3://${platform.synth.values.artifactsBucket}/registry/`)).toEqual([]);
}, 600_000);

/** The definition without the `model` channel, and without the listed Environment variables. */
function withoutModelChannel(dropEnv: readonly string[]): Obj {
  const definition = JSON.parse(JSON.stringify(platform.synth.definition)) as Obj;
  const strip = (v: Json): void => {
    if (Array.isArray(v)) return v.forEach(strip);
    if (v === null || typeof v !== 'object') return;
    const o = v as Obj;
    if (Array.isArray(o.InputDataConfig)) {
      o.InputDataConfig = o.InputDataConfig.filter((c) => (c as Obj).ChannelName !== 'model');
    }
    if (o.Environment && typeof o.Environment === 'object') for (const k of dropEnv) delete (o.Environment as Obj)[k];
    Object.values(o).forEach(strip);
  };
  strip(definition);
  return definition;
}

test('without the model channel the job fails as a real one would: the launcher names the missing model', async () => {
  const result = await executeLocally(platform, {
    definition: withoutModelChannel([]),
    parameters: { MaxSteps: 1 },
    log,
  });
  expect(result.status).toBe('Failed');
  const job = training(result.steps);
  expect(((job.request as Obj).InputDataConfig as Obj[]).map((c) => c.ChannelName)).not.toContain('model');
  // GPT_OSS_MODEL_SOURCE=channel: the launcher's check of the staged model fails before anything loads.
  expect(job.failureReason).toMatch(/^AlgorithmError: .*model/);
}, 300_000);

test('and told to use the Hub instead, it cannot reach it: the sandbox is offline', async () => {
  const env = ['GPT_OSS_MODEL_SOURCE', 'HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'TRANSFORMERS_OFFLINE'];
  const before = lines.length;
  const result = await executeLocally(platform, {
    definition: withoutModelChannel(env),
    parameters: { MaxSteps: 1 },
    log,
  });
  expect(result.status).toBe('Failed');
  const jobLog = lines.slice(before).join('\n');
  // the job tried https://huggingface.co for openai/gpt-oss-20b and found no network.
  expect(jobLog).toMatch(/huggingface\.co|gpt-oss-20b/);
  expect(jobLog).toMatch(
    /Network is unreachable|Failed to resolve|Temporary failure in name resolution|Name or service not known|ConnectionError|MaxRetryError/i,
  );
}, 300_000);

test.each(['namespace', 'guard'] as const)('the %s sandbox has loopback but no route out', (kind) => {
  if (kind === 'namespace' && !networkSandboxAvailable()) {
    // e.g. unprivileged user namespaces are restricted: the runner uses the guard, tested below.
    return;
  }
  const python = venvTool('python');
  const probe = [
    'import socket',
    's = socket.socket(); s.settimeout(3)',
    'print("outbound", s.connect_ex(("1.1.1.1", 443)))',
    'try:',
    '    socket.getaddrinfo("huggingface.co", 443); print("resolved")',
    'except OSError as e:',
    '    print("no dns", e)',
    'srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)',
    'c = socket.create_connection(srv.getsockname(), timeout=3); print("loopback ok")',
  ].join('\n');
  const saved = process.env.GPT_OSS_LOCAL_SANDBOX;
  process.env.GPT_OSS_LOCAL_SANDBOX = kind === 'guard' ? 'guard' : '';
  const sandbox = sandboxed([python, '-c', probe], { PATH: process.env.PATH ?? '' });
  process.env.GPT_OSS_LOCAL_SANDBOX = saved;
  expect(sandbox.kind).toBe(kind);
  const proc = spawnSync(sandbox.command[0], sandbox.command.slice(1), { encoding: 'utf8', env: sandbox.env });
  expect(proc.stderr).toBe('');
  // ENETUNREACH (101): no interface to send it on, or the guard refused it.
  expect(Number(/outbound (\d+)/.exec(proc.stdout)?.[1])).not.toBe(0);
  expect(proc.stdout).toContain('no dns');
  expect(proc.stdout).toContain('loopback ok');
});
