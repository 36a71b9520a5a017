import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
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

/** Parameters as the training stack's pipeline declares them, defaults from the recipe. */
export const PIPELINE_PARAMETERS = [
  { Name: 'TrainingInstanceType', Type: 'String', DefaultValue: 'ml.p5.48xlarge' },
  { Name: 'TrainingInstanceCount', Type: 'Integer', DefaultValue: 1 },
  { Name: 'DatasetS3Uri', Type: 'String', DefaultValue: `s3://${DATASETS_BUCKET}/datasets/demo-lora/` },
  { Name: 'UseSpot', Type: 'Boolean', DefaultValue: false },
  { Name: 'NumTrainEpochs', Type: 'Float', DefaultValue: 1 },
  { Name: 'MaxRuntimeSeconds', Type: 'Integer', DefaultValue: 86400 },
];

export async function createDatasetsBucket(c: Clients): Promise<void> {
  await c.s3.send(new CreateBucketCommand({ Bucket: DATASETS_BUCKET }));
}

export async function createPipeline(c: Clients, name = PIPELINE): Promise<string> {
  const out = await c.sagemaker.send(
    new CreatePipelineCommand({
      PipelineName: name,
      RoleArn: ROLE_ARN,
      PipelineDefinition: JSON.stringify({ Version: '2020-12-01', Parameters: PIPELINE_PARAMETERS, Steps: [] }),
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
