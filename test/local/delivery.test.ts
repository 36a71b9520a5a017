import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SMOKE_TEST_REQUEST } from '../../lib/constructs/deploy/smoke-test';
import { chatStage, deployStage, type Registered, registerStage } from '../../lib/local/delivery-stages';
import type { ExecutionResult } from '../../lib/local/interpreter';
import {
  defaultTools,
  deployLocally,
  executeLocally,
  localHyperParameters,
  type LocalPlatform,
} from '../../lib/local/local-run';
import { LOCAL_REGION } from '../../lib/local/local-values';
import { REPO_ROOT } from '../support/python-tools';

/**
 * The rest of the loop over the same artifacts (issue: register → approve → deploy → chat): the default recipe,
 * synthesized, trained 12 steps on the tiny model with the better-than-chance quality gate; its "Succeeded" event
 * starts the synthesized REGISTER machine, `npm run cli -- approve` approves, SageMaker's approval event starts
 * DEPLOY, which creates the endpoint the local serving container answers for; the smoke test and `chat` get the
 * model's reply. Each stage depends on the one before, so the tests run in order on one platform.
 */

const RECIPE = 'recipes/gpt-oss-20b-multilingual-lora.yaml';
let platform: LocalPlatform;
let work: string;
let execution: ExecutionResult;
let registered: Registered;
let smokeReply: { choices: unknown[] };
const lines: string[] = [];
const log = (line: string): void => void lines.push(line);

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'local-delivery-'));
  platform = await deployLocally(RECIPE, {
    workDir: work,
    tools: defaultTools(REPO_ROOT),
    log,
    qualityGate: 'better-than-chance',
  });
  const hyperParameters = localHyperParameters(platform, 12);
  execution = await executeLocally(platform, { parameters: { MaxSteps: 12 }, hyperParameters, log });
}, 600_000);

afterAll(async () => {
  await platform?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

function splitUri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri) as RegExpExecArray;
  return { bucket: m[1], key: m[2] };
}

/** SHA-256 of every object under an S3 prefix, by path below it. */
async function digestsUnder(uri: string): Promise<Record<string, string>> {
  const { bucket, key: prefix } = splitUri(uri);
  const page = await platform.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const out: Record<string, string> = {};
  for (const o of page.Contents ?? []) {
    const object = await platform.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
    const bytes = await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    out[(o.Key ?? '').slice(prefix.length)] = crypto.createHash('sha256').update(bytes).digest('hex');
  }
  return out;
}

/** SHA-256 of every file under a local directory, by path below it. */
function digestsIn(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    out[path.relative(dir, file).split(path.sep).join('/')] = crypto
      .createHash('sha256')
      .update(fs.readFileSync(file))
      .digest('hex');
  }
  return out;
}

test('the pipeline passes the local quality gate (eval_loss below ln of the vocabulary size)', () => {
  expect(lines.join('\n')).toMatch(/quality gate: eval_loss <= [0-9.]+ \(ln \d+: better than a uniform guess/);
  expect(execution.status).toBe('Succeeded');
});

test('REGISTER: the Succeeded event registers a pending package pointing at a byte-identical registry copy', async () => {
  registered = await registerStage(platform, execution, log);
  expect(registered.approvalStatus).toBe('PendingManualApproval');
  expect(registered.deployRuns).toEqual([]);
  const pkg = await platform.sagemaker.send(
    new DescribeModelPackageCommand({ ModelPackageName: registered.packageArn }),
  );
  const registry = pkg.InferenceSpecification?.Containers?.[0]?.ModelDataSource?.S3DataSource?.S3Uri ?? '';
  expect(registry).toMatch(/\/registry\/gpt-oss-20b-multilingual-lora\/pipelines-[a-z0-9]+-Train\w+-\w+\/model\/$/);
  // the package records the job output it copied, and every file of it (the adapter/ too) is in the copy
  const source = pkg.CustomerMetadataProperties?.model_source ?? '';
  const trained = execution.steps.find((s) => s.type === 'Training' && s.status === 'Succeeded');
  expect(source).toBe(
    (trained?.properties as { ModelArtifacts: { S3ModelArtifacts: string } }).ModelArtifacts.S3ModelArtifacts,
  );
  const copied = await digestsUnder(registry);
  expect(Object.keys(copied)).toEqual(
    expect.arrayContaining(['config.json', 'model.safetensors', 'adapter/adapter_config.json']),
  );
  expect(copied).toEqual(await digestsUnder(source));
  // the metrics travelled: the package's eval_loss is the job's FinalMetricDataList value
  const evalLoss = (
    trained?.properties as { FinalMetricDataList: { MetricName: string; Value: number }[] }
  ).FinalMetricDataList.find((m) => m.MetricName === 'eval_loss')?.Value;
  expect(Number(pkg.CustomerMetadataProperties?.eval_loss)).toBeCloseTo(evalLoss as number, 4);
  // AND nothing is served before a person approves
  await expect(
    platform.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'gptoss-dev-gpt-oss-20b-multilingual-lora' })),
  ).rejects.toThrow();
}, 120_000);

test('approve → DEPLOY: the endpoint serves the registered copy and the smoke test got the model reply', async () => {
  const deploy = await deployStage(platform, registered, log);
  expect(deploy.result.status).toBe('SUCCEEDED');
  expect(lines.join('\n')).toContain('PendingManualApproval -> Approved');

  const smoke = deploy.result.calls.find((c) => c.action === 'invokeEndpoint');
  const endpointName = smoke?.params.EndpointName as string;
  const endpoint = await platform.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  expect(endpoint.EndpointStatus).toBe('InService');
  const config = await platform.sagemaker.send(
    new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }),
  );
  const model = await platform.sagemaker.send(
    new DescribeModelCommand({ ModelName: config.ProductionVariants?.[0].ModelName }),
  );
  const modelData = model.PrimaryContainer?.ModelDataSource?.S3DataSource?.S3Uri ?? '';
  expect(modelData).toContain('/registry/');

  // the container's /opt/ml/model holds exactly the registered files
  const served = path.join(work, 'endpoints', endpointName, endpoint.EndpointConfigName ?? '', 'opt_ml', 'model');
  expect(digestsIn(served)).toEqual(await digestsUnder(modelData));

  // the smoke test's answer came from the served model: vLLM's chat.completion with the recipe's served name
  const reply = JSON.parse((smoke?.result as { Body: string }).Body) as {
    model: string;
    choices: { message: { content: string | null; reasoning_content: string | null } }[];
    usage: { completion_tokens: number };
  };
  smokeReply = reply;
  expect(reply.model).toBe('gpt-oss-20b-multilingual-lora');
  expect(reply.usage.completion_tokens).toBeGreaterThan(0);
  const { content, reasoning_content: reasoning } = reply.choices[0].message;
  expect(`${content ?? ''}${reasoning ?? ''}`).not.toBe('');
}, 300_000);

test('chat through the CLI reaches the same endpoint; a greedy request repeats the smoke test answer', async () => {
  const out = await chatStage(platform, 'What is the capital of Australia?', log);
  expect(out).toMatch(/reasoning \(German\):|answer:/);

  // InvokeEndpoint straight through the SDK: the request format the DEPLOY smoke test sends, answered by the model
  const runtime = new SageMakerRuntimeClient({
    endpoint: platform.front.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const invoke = async () =>
    JSON.parse(
      Buffer.from(
        (
          await runtime.send(
            new InvokeEndpointCommand({
              EndpointName: 'gptoss-dev-gpt-oss-20b-multilingual-lora',
              ContentType: 'application/json',
              Body: JSON.stringify(SMOKE_TEST_REQUEST),
            }),
          )
        ).Body ?? new Uint8Array(),
      ).toString('utf8'),
    ) as { choices: unknown[] };
  expect((await invoke()).choices).toEqual(smokeReply.choices);
  // a container's error answer reaches the caller as the runtime's ModelError (HTTP 424) with the container's words
  await expect(
    runtime.send(
      new InvokeEndpointCommand({
        EndpointName: 'gptoss-dev-gpt-oss-20b-multilingual-lora',
        ContentType: 'application/json',
        Body: JSON.stringify({ ...SMOKE_TEST_REQUEST, max_tokens: 100_000 }),
      }),
    ),
  ).rejects.toMatchObject({ name: 'ModelError', OriginalStatusCode: 400 });
  // an unknown endpoint is the runtime's ValidationError, not a reply
  await expect(
    runtime.send(new InvokeEndpointCommand({ EndpointName: 'no-such-endpoint', Body: '{}' })),
  ).rejects.toThrow(/Endpoint no-such-endpoint of account \d+ not found/);
  runtime.destroy();
}, 120_000);
