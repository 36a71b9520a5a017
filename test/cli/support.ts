import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreatePipelineCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CliContext, type CliEnvironment, type GlobalOptions } from '../../lib/cli/context';
import { CliError } from '../../lib/cli/errors';
import type { PipelineParameter } from '../../lib/cli/pipelines';
import { loadRecipe } from '../../lib/config/load-recipes';
import type { PreparedDatasetManifest } from '../../lib/config/prepared-dataset';
import type { StagedModelManifest } from '../../lib/config/staged-model';
import { buildTrainingPipeline } from '../../lib/pipeline';
import { type MotoServer, startMotoServer } from '../support/moto-server';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
/** Names the fixture project (namePrefix gptoss, stage test) gives recipe "demo-lora". */
export const PIPELINE = 'gptoss-test-demo-lora';
export const DATASETS_BUCKET = 'gptoss-test-datasets';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/gptoss-test-training`;

/** A throwaway copy of the fixture project (cdk.json with gptOss config + recipes/demo-lora.yaml). */
export function makeProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt-oss-cli-'));
  fs.cpSync(path.join(FIXTURES, 'project'), dir, { recursive: true });
  return dir;
}

/** An in-memory CLI environment: what the command printed is in `stdout` / `stderr`. */
export class CapturedEnvironment implements CliEnvironment {
  stdoutText = '';
  stderrText = '';
  exitCode: number | undefined;
  readonly stdout = { write: (s: string) => (this.stdoutText += s), isTTY: false };
  readonly stderr = { write: (s: string) => (this.stderrText += s), isTTY: false };
  readonly setExitCode = (code: number) => {
    this.exitCode = code;
  };

  constructor(
    public readonly cwd: string,
    public readonly env: Record<string, string | undefined> = {},
  ) {}
}

/** A context talking to moto, in the given project. */
export function motoContext(
  project: string,
  endpoint: string,
  extra: Partial<GlobalOptions> = {},
): { ctx: CliContext; env: CapturedEnvironment } {
  const env = new CapturedEnvironment(project, { USER: 'tester' });
  const ctx = new CliContext({ endpointUrl: endpoint, region: REGION, maxAttempts: 2, ...extra }, env);
  return { ctx, env };
}

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export function clients(endpoint: string) {
  return {
    sagemaker: new SageMakerClient({ endpoint, region: REGION, credentials }),
    s3: new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true }),
    sfn: new SFNClient({ endpoint, region: REGION, credentials }),
    logs: new CloudWatchLogsClient({ endpoint, region: REGION, credentials }),
  };
}

/** Log lines of a training job where SageMaker writes them: /aws/sagemaker/TrainingJobs, `<job>/algo-1-<epoch>`. */
export async function putTrainingLogs(c: Clients, job: string, lines: readonly string[]): Promise<void> {
  const group = '/aws/sagemaker/TrainingJobs';
  await c.logs.send(new CreateLogGroupCommand({ logGroupName: group })).catch((e: Error) => {
    if (!/already exists/i.test(e.message)) throw e;
  });
  const stream = `${job}/algo-1-1764000000`;
  await c.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
  const start = Date.now() - lines.length * 1000;
  await c.logs.send(
    new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: stream,
      logEvents: lines.map((message, i) => ({ message, timestamp: start + i * 1000 })),
    }),
  );
}

export type Clients = ReturnType<typeof clients>;

export const ARTIFACTS_BUCKET = 'gptoss-test-artifacts';

/**
 * The Parameters of the fixture recipe's pipeline exactly as the builder declares them (names, types,
 * defaults), for a project whose artifacts and datasets buckets are {@link ARTIFACTS_BUCKET} and {@link DATASETS_BUCKET}.
 */
export const PIPELINE_PARAMETERS = (
  buildTrainingPipeline(
    loadRecipe(path.join(FIXTURES, 'project', 'recipes', 'demo-lora.yaml')),
    {
      roleArn: ROLE_ARN,
      kmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      artifactsBucketName: ARTIFACTS_BUCKET,
      datasetsBucketName: DATASETS_BUCKET,
      subnetIds: ['subnet-0123456789abcdef0'],
      securityGroupIds: ['sg-0123456789abcdef0'],
      defaultImageUri: `763104351884.dkr.ecr.${REGION}.amazonaws.com/pytorch-training:latest`,
      codeS3Uri: `s3://${ARTIFACTS_BUCKET}/code/training/0123abcd/`,
    },
    {
      metricDefinitions: [{ Name: 'eval_loss', Regex: "'eval_loss': ([0-9.e+-]+)" }],
      volumeSizeGb: 100,
      gitSha: 'test',
    },
  ).toJson() as unknown as { Parameters: PipelineParameter[] }
).Parameters;

/** Where the fixture pipeline reads its base model by default (stage-model's layout). */
export const STAGED_MODEL_PREFIX = 'base-models/openai/gpt-oss-20b/main/';

/** What stage-model leaves behind: the model files, then the manifest (in that order). */
export async function putStagedModel(
  c: Clients,
  prefix = STAGED_MODEL_PREFIX,
  manifest: Record<string, unknown> = {},
): Promise<void> {
  await c.s3.send(new CreateBucketCommand({ Bucket: ARTIFACTS_BUCKET })).catch((e: Error) => {
    if (!/BucketAlreadyOwnedByYou|already/i.test(e.name + e.message)) throw e;
  });
  const body = '{"model_type": "gpt_oss"}';
  await c.s3.send(new PutObjectCommand({ Bucket: ARTIFACTS_BUCKET, Key: `${prefix}config.json`, Body: body }));
  const full: StagedModelManifest = {
    format: 1,
    repoId: 'openai/gpt-oss-20b',
    revision: 'main',
    commitSha: '6cee5e81ee83917806bbde320786a8fb61efebee',
    source: 'hub' as const,
    stagedAt: '2026-12-01T00:00:00Z',
    files: [{ path: 'config.json', size: body.length, sha256: crypto.createHash('sha256').update(body).digest('hex') }],
    skipped: [{ path: 'original/', reason: 'a second copy of the weights for other runtimes' }],
    ...manifest,
  };
  await c.s3.send(
    new PutObjectCommand({
      Bucket: ARTIFACTS_BUCKET,
      Key: `${prefix}staging-manifest.json`,
      Body: JSON.stringify(full),
    }),
  );
}

/** What prepare-data leaves behind: the converted JSONL, then its manifest. */
export async function putPreparedDataset(c: Clients, prefix = 'datasets/demo-lora/', rows = 2): Promise<void> {
  await c.s3.send(new CreateBucketCommand({ Bucket: DATASETS_BUCKET })).catch((e: Error) => {
    if (!/BucketAlreadyOwnedByYou|already/i.test(e.name + e.message)) throw e;
  });
  const line = JSON.stringify({
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
    ],
  });
  const body = `${Array.from({ length: rows }, () => line).join('\n')}\n`;
  await c.s3.send(new PutObjectCommand({ Bucket: DATASETS_BUCKET, Key: `${prefix}train.jsonl`, Body: body }));
  const manifest: PreparedDatasetManifest = {
    format: 1,
    recipe: 'demo-lora',
    preparedAt: '2026-12-01T00:00:00Z',
    file: {
      path: 'train.jsonl',
      size: Buffer.byteLength(body),
      sha256: crypto.createHash('sha256').update(body).digest('hex'),
    },
    examples: rows,
    source: { type: 'file', name: 'chat.jsonl', sha256: crypto.createHash('sha256').update(body).digest('hex') },
  };
  await c.s3.send(
    new PutObjectCommand({
      Bucket: DATASETS_BUCKET,
      Key: `${prefix}prepared-dataset.manifest`,
      Body: JSON.stringify(manifest),
    }),
  );
}

export async function createDatasetsBucket(c: Clients): Promise<void> {
  await c.s3.send(new CreateBucketCommand({ Bucket: DATASETS_BUCKET }));
}

/** A deployed pipeline: the fixture recipe's parameters, or the given ones (an older deployment's). */
export async function createPipeline(
  c: Clients,
  name = PIPELINE,
  parameters: readonly PipelineParameter[] = PIPELINE_PARAMETERS,
): Promise<string> {
  const out = await c.sagemaker.send(
    new CreatePipelineCommand({
      PipelineName: name,
      RoleArn: ROLE_ARN,
      PipelineDefinition: JSON.stringify({ Version: '2020-12-01', Parameters: parameters, Steps: [] }),
      ClientRequestToken: `token-${name}-0123456789abcdef0123456789`,
    }),
  );
  return out.PipelineArn ?? '';
}

/** A model package group with one registered version carrying the register stage's metadata. */
export async function registerPackage(c: Clients, metadata: Record<string, string>, group = PIPELINE): Promise<string> {
  await c.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group })).catch((e: Error) => {
    if (!/already exists/i.test(e.message)) throw e;
  });
  const out = await c.sagemaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: group,
      ModelApprovalStatus: 'PendingManualApproval',
      CustomerMetadataProperties: metadata,
      InferenceSpecification: {
        Containers: [{ Image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/vllm:latest` }],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
    }),
  );
  return out.ModelPackageArn ?? '';
}

/** An InService endpoint (moto creates it InService at once). */
export async function createEndpoint(c: Clients, name = PIPELINE): Promise<void> {
  await c.sagemaker.send(
    new CreateModelCommand({
      ModelName: `${name}-model`,
      ExecutionRoleArn: ROLE_ARN,
      PrimaryContainer: { Image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/vllm:latest` },
    }),
  );
  await c.sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: `${name}-config`,
      ProductionVariants: [
        // moto's instance-type enum predates g5/g6e; the type is irrelevant to what the tests check.
        {
          VariantName: 'AllTraffic',
          ModelName: `${name}-model`,
          InstanceType: 'ml.g4dn.12xlarge',
          InitialInstanceCount: 1,
        },
      ],
    }),
  );
  await c.sagemaker.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
}

/** Queues canned InvokeEndpoint answers in moto (its sagemaker-runtime returns them in order). */
export async function queueEndpointResults(endpoint: string, bodies: readonly string[]): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/static/sagemaker/endpoint-results`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      account_id: ACCOUNT,
      region: REGION,
      results: bodies.map((Body) => ({
        Body,
        ContentType: 'application/json',
        InvokedProductionVariant: 'AllTraffic',
        CustomAttributes: '',
      })),
    }),
  });
  if (!res.ok) throw new Error(`moto refused the canned results: ${res.status} ${await res.text()}`);
}

/** Makes moto interpret state machines for real (Pass/Fail states run to SUCCEEDED/FAILED). */
export async function executeStateMachines(endpoint: string, on: boolean): Promise<void> {
  await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ stepfunctions: { execute_state_machine: on } }),
  });
}

/** A state machine named like the deployment stack's, started with an EventBridge-style input. */
export async function startStateMachine(
  c: Clients,
  name: string,
  definition: Record<string, unknown>,
  input: Record<string, unknown>,
): Promise<string> {
  const sm = await c.sfn.send(
    new CreateStateMachineCommand({
      name,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
      definition: JSON.stringify(definition),
    }),
  );
  const exec = await c.sfn.send(
    new StartExecutionCommand({ stateMachineArn: sm.stateMachineArn, input: JSON.stringify(input) }),
  );
  return exec.executionArn ?? '';
}

/** What {@link useMotoProject} hands a test file once its moto server runs. */
export interface MotoProject {
  readonly moto: MotoServer;
  readonly c: Clients;
  readonly project: string;
}

/** What {@link useMotoProject} hands a test file: its moto server, clients and project, once started. */
export interface MotoCliProject extends MotoProject {
  /** A CLI context talking to this moto server, in this project. */
  context(extra?: Partial<GlobalOptions>): { ctx: CliContext; env: CapturedEnvironment };
}

/**
 * One moto server (over HTTP) and one fixture project for a test file: started before its tests, reset before each
 * (state machines then do not execute unless `executeStateMachines` says so), stopped and removed after. The
 * returned handle's fields are read inside tests (they exist once `beforeAll` ran).
 */
export function useMotoProject(): MotoCliProject {
  let started: MotoProject | undefined;
  const get = (): MotoProject => {
    if (!started) throw new Error('useMotoProject: read its fields inside a test or hook, not at module load');
    return started;
  };
  beforeAll(async () => {
    const moto = await startMotoServer();
    started = { moto, c: clients(moto.endpoint), project: makeProject() };
  });
  afterAll(async () => {
    await started?.moto.stop();
    if (started) fs.rmSync(started.project, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await get().moto.reset();
    await executeStateMachines(get().moto.endpoint, false);
  });
  return {
    get moto() {
      return get().moto;
    },
    get c() {
      return get().c;
    },
    get project() {
      return get().project;
    },
    context: (extra = {}) => motoContext(get().project, get().moto.endpoint, extra),
  };
}

/** Awaits a CLI call that must fail with a {@link CliError} (the one-line error users see); returns its message. */
export async function expectCliError(promise: Promise<unknown>): Promise<string> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CliError);
  return (e as CliError).message;
}
