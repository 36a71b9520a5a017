import * as path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateModelPackageGroupCommand, CreateTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { IConstruct } from 'constructs';
import type { AppConfig } from '../../lib/config/app-config';
import { loadRecipe } from '../../lib/config/load-recipes';
import { servingSettingsFiles } from '../../lib/constructs/serving-settings';
import { modelPackageStateEvent, pipelineExecutionStatusEvent } from '../../lib/local/events';
import { type AnalyzedRecipe, analyzeLoadedRecipe } from '../../lib/recipes/recipe-analysis';
import { DeploymentStack, type DeploymentStackProps } from '../../lib/stacks/deployment-stack';
import { type MotoServer, type MotoServerOptions, startMotoServer } from '../support/moto-server';
import { type CfnTemplate, definitionOf, type RefValues, TEST_ACCOUNT, TEST_REGION } from '../support/sfn-local';
import { appContext, testConfig } from '../support/template';

/** Recipe fixtures of the register-and-deploy tests. */
export const FIXTURES_DIR = path.join(__dirname, 'fixtures');

/** A recipe file with its analysis (the training blocks of these fixtures do not pass every lint rule). */
export function analyzedRecipe(file: string, cwd?: string): AnalyzedRecipe {
  return analyzeLoadedRecipe(loadRecipe(file, cwd), testConfig());
}

export function fixtureRecipe(name: string): AnalyzedRecipe {
  return analyzedRecipe(path.join(FIXTURES_DIR, `${name}.yaml`));
}

/** Values the stack imports from the data and network stacks (literal, so templates need no imports). */
export const IMPORTED = {
  keyArn: `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
  bucketName: 'gptoss-dev-artifacts-test',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  securityGroupId: 'sg-0123456789abcdef0',
} as const;

/** The resource-name prefix of the test config (namePrefix gptoss, stage dev). */
export const PREFIX = 'gptoss-dev';

/** What the tests resolve the stack's own resources to (and create in moto under the same names). */
export const TOPIC_NAME = 'gptoss-dev-models-test';
export const TOPIC_ARN = `arn:aws:sns:${TEST_REGION}:${TEST_ACCOUNT}:${TOPIC_NAME}`;
export const MODEL_ROLE_ARN = `arn:aws:iam::${TEST_ACCOUNT}:role/gptoss-dev-model-role-test`;

export interface DeploymentFixture {
  readonly app: cdk.App;
  readonly stack: DeploymentStack;
  readonly config: AppConfig;
  readonly template: CfnTemplate;
  /** Ref/GetAtt values of the stack's own resources used inside the state machine definitions. */
  readonly refs: RefValues;
}

/**
 * A DeploymentStack on its own, with the data/network handles imported by literal ids (the real app wires
 * them from the other stacks), synthesized with the app's feature flags.
 */
export function buildDeploymentStack(
  options: {
    readonly config?: Record<string, unknown>;
    readonly recipes?: readonly AnalyzedRecipe[];
    readonly props?: Partial<DeploymentStackProps>;
  } = {},
): DeploymentFixture {
  const config = testConfig({ notificationEmail: 'ml-team@example.com', ...options.config });
  const app = new cdk.App({ context: appContext() });
  const deps = new cdk.Stack(app, 'Imports', { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
  cdk.Validations.of(deps).acknowledge(
    { id: 'CloudFormation-Validate::F0001', reason: 'Test-only holder of imported handles; never deployed.' },
    { id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', reason: 'Imported test subnets; no route tables read.' },
  );
  const key = kms.Key.fromKeyArn(deps, 'Key', IMPORTED.keyArn);
  const artifactsBucket = s3.Bucket.fromBucketAttributes(deps, 'Artifacts', {
    bucketName: IMPORTED.bucketName,
    encryptionKey: key,
  });
  const vpc = ec2.Vpc.fromVpcAttributes(deps, 'Vpc', {
    vpcId: IMPORTED.vpcId,
    availabilityZones: [`${TEST_REGION}a`, `${TEST_REGION}b`],
    privateSubnetIds: [...IMPORTED.subnetIds],
  });
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(deps, 'Endpoints', IMPORTED.securityGroupId);
  const stack = new DeploymentStack(app, 'gptoss-dev-deployment', {
    env: { account: TEST_ACCOUNT, region: TEST_REGION },
    config,
    recipes: options.recipes ?? [fixtureRecipe('sft-lora-20b'), fixtureRecipe('full-120b-auto')],
    key,
    artifactsBucket,
    vpc,
    subnets: vpc.privateSubnets,
    securityGroup,
    ...options.props,
  });
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  const id = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as cdk.CfnElement);
  const refs: RefValues = {
    [id(stack.topic)]: TOPIC_ARN,
    [`${id(stack.modelRole)}.Arn`]: MODEL_ROLE_ARN,
  };
  return { app, stack, config, template, refs };
}

/** The default {@link buildDeploymentStack} and its template for assertions (synthesized once per test file). */
export function deploymentTemplate(): { readonly fixture: DeploymentFixture; readonly template: Template } {
  const fixture = buildDeploymentStack();
  return { fixture, template: Template.fromJSON(fixture.template) };
}

export function registerDefinition(fixture: DeploymentFixture): StateMachineDefinition {
  return definitionOf(fixture.template, 'RegisterStateMachine', fixture.refs);
}

export function deployDefinition(fixture: DeploymentFixture): StateMachineDefinition {
  return definitionOf(fixture.template, 'DeployStateMachine', fixture.refs);
}

/** What {@link useMotoDeployment} hands a workflow test file; its fields are set in `beforeAll`, read them in tests. */
export interface MotoDeployment {
  moto: MotoServer;
  /** The default {@link buildDeploymentStack}, synthesized once. */
  fixture: DeploymentFixture;
  registerMachine: StateMachineDefinition;
  deployMachine: StateMachineDefinition;
}

/**
 * One moto server and the default DeploymentStack with its two state machine definitions, for a test file that
 * executes them: started before its tests, reset before each with the recipes' settings objects uploaded again
 * ({@link uploadServingSettings}), stopped after.
 */
export function useMotoDeployment(options: MotoServerOptions = {}): MotoDeployment {
  const deployment = {} as MotoDeployment;
  beforeAll(async () => {
    deployment.moto = await startMotoServer(options);
    deployment.fixture = buildDeploymentStack();
    deployment.registerMachine = registerDefinition(deployment.fixture);
    deployment.deployMachine = deployDefinition(deployment.fixture);
  });
  afterAll(async () => deployment.moto.stop());
  beforeEach(async () => {
    await deployment.moto.reset();
    await uploadServingSettings(deployment.moto.endpoint, deployment.fixture);
  });
  return deployment;
}

/** SDK client settings for moto at `endpoint`: the test region and dummy credentials. */
export const clientConfig = (endpoint: string) => ({
  endpoint,
  region: TEST_REGION,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

export function sageMakerClient(endpoint: string): SageMakerClient {
  return new SageMakerClient(clientConfig(endpoint));
}

/**
 * Creates the artifacts bucket in moto and uploads the recipes' settings objects the stack deploys, generated
 * by the construct's own function from the stack's plans (and checked against the prefix in the stack).
 */
export async function uploadServingSettings(endpoint: string, fixture: DeploymentFixture): Promise<void> {
  const { prefix, files } = servingSettingsFiles(fixture.stack.plans);
  if (prefix !== fixture.stack.servingSettings.prefix) {
    throw new Error(`settings prefix ${prefix} differs from the stack's ${fixture.stack.servingSettings.prefix}`);
  }
  const s3 = new S3Client({ ...clientConfig(endpoint), forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: IMPORTED.bucketName }));
  for (const file of files) {
    await s3.send(
      new PutObjectCommand({
        Bucket: IMPORTED.bucketName,
        Key: file.key,
        Body: file.body,
        ContentType: 'application/json',
      }),
    );
  }
}

/** One SNS notice as delivered to an SQS subscriber. */
export interface Notice {
  readonly subject: string;
  readonly message: string;
}

/**
 * Creates the notifications topic in moto under the name the definitions use, subscribed by an SQS queue
 * (moto delivers SNS → SQS), and returns a reader for what was published.
 */
export async function createNotificationInbox(endpoint: string): Promise<{ read(): Promise<Notice[]> }> {
  const sns = new SNSClient(clientConfig(endpoint));
  const sqs = new SQSClient(clientConfig(endpoint));
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: TOPIC_NAME }));
  if (TopicArn !== TOPIC_ARN) throw new Error(`moto created ${TopicArn}, expected ${TOPIC_ARN}`);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'notices' }));
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:notices`,
    }),
  );
  return {
    async read() {
      const notices: Notice[] = [];
      for (;;) {
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
        if (!Messages || Messages.length === 0) return notices;
        for (const m of Messages) {
          const body = JSON.parse(m.Body ?? '{}') as { Subject?: string; Message?: string };
          notices.push({ subject: body.Subject ?? '', message: body.Message ?? '' });
          await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
      }
    },
  };
}

/** The EventBridge event SageMaker sends when a pipeline execution succeeds. */
export function pipelineSucceededEvent(pipelineName: string, executionId: string): Record<string, unknown> {
  return pipelineExecutionStatusEvent({ pipelineName, executionId, status: 'Succeeded' });
}

/** The EventBridge event SageMaker sends when a model package version becomes Approved. */
export function packageApprovedEvent(packageArn: string, groupName: string, version: number): Record<string, unknown> {
  return modelPackageStateEvent({ packageArn, groupName, version, approvalStatus: 'Approved' });
}

/** The files a fine-tuning job leaves under `<output path>/<job>/output/model/` (tiny stand-ins). */
export const MODEL_FILES: Readonly<Record<string, string>> = {
  'config.json': '{"model_type":"gpt_oss"}',
  'model.safetensors': 'weights of the fine-tuned model',
  'evaluation.json': '{"eval_loss":1.0425}',
  // a LoRA job keeps its adapter beside the merged model (training-code/sft.py)
  'adapter/adapter_config.json': '{"peft_type":"LORA"}',
};

/**
 * A training job as a pipeline's Train step creates it, and (unless `modelFiles` is null) the model files it
 * wrote to `<output path>/<job>/output/model/` in moto's S3.
 */
export async function createPipelineTrainingJob(
  endpoint: string,
  jobName: string,
  options: {
    readonly compression?: 'NONE' | 'GZIP';
    readonly outputPath?: string;
    readonly modelFiles?: Readonly<Record<string, string>> | null;
  } = {},
): Promise<{ arn: string; outputPath: string }> {
  const sm = sageMakerClient(endpoint);
  const outputPath = options.outputPath ?? `s3://${IMPORTED.bucketName}/models/sft-lora-20b`;
  const { TrainingJobArn } = await sm.send(
    new CreateTrainingJobCommand({
      TrainingJobName: jobName,
      AlgorithmSpecification: {
        TrainingImage:
          '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-gpu-py312-cu129-ubuntu22.04-sagemaker',
        TrainingInputMode: 'File',
        ContainerEntrypoint: ['python3', '/opt/ml/input/data/code/launch.py'],
      },
      RoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/training`,
      OutputDataConfig: { S3OutputPath: outputPath, CompressionType: options.compression ?? 'NONE' },
      ResourceConfig: { InstanceType: 'ml.p5.48xlarge', InstanceCount: 1, VolumeSizeInGB: 500 },
      StoppingCondition: { MaxRuntimeInSeconds: 86400 },
      Environment: {
        RECIPE_NAME: 'sft-lora-20b',
        RECIPE_HASH: 'abc123def456',
        GIT_SHA: '0123456789abcdef0123456789abcdef01234567',
        DATASET_URI: 's3://gptoss-dev-datasets/datasets/sft-lora-20b/',
        MLFLOW_TRACKING_ARN: `arn:aws:sagemaker:${TEST_REGION}:${TEST_ACCOUNT}:mlflow-tracking-server/gptoss-dev`,
        MLFLOW_EXPERIMENT_NAME: 'sft-lora-20b',
      },
    }),
  );
  const files = options.modelFiles === undefined ? MODEL_FILES : options.modelFiles;
  const [bucketName, ...key] = outputPath.replace(/^s3:\/\//, '').split('/');
  const s3 = new S3Client({ ...clientConfig(endpoint), forcePathStyle: true });
  for (const [name, body] of Object.entries(files ?? {})) {
    const prefix = [...key, jobName, 'output', 'model'].filter((p) => p !== '').join('/');
    await s3.send(new PutObjectCommand({ Bucket: bucketName, Key: `${prefix}/${name}`, Body: body }));
  }
  s3.destroy();
  return { arn: TrainingJobArn as string, outputPath };
}

export async function createGroup(endpoint: string, groupName: string): Promise<void> {
  await sageMakerClient(endpoint).send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: groupName }));
}

/** Queues the InvokeEndpoint answers moto's SageMaker runtime returns (its documented test hook). */
export async function queueEndpointAnswers(endpoint: string, bodies: readonly unknown[]): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/static/sagemaker/endpoint-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      account_id: TEST_ACCOUNT,
      region: TEST_REGION,
      results: bodies.map((b) => ({
        Body: typeof b === 'string' ? b : JSON.stringify(b),
        ContentType: 'application/json',
        InvokedProductionVariant: 'AllTraffic',
        CustomAttributes: '',
      })),
    }),
  });
  if (!res.ok) throw new Error(`moto refused the endpoint results: ${res.status}`);
}

/** A vLLM OpenAI-compatible chat completion as the vLLM SageMaker container returns it from /invocations. */
export function vllmChatCompletion(
  content: string | null,
  reasoning: string | null = 'The user asks in English.',
): unknown {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1796036400,
    model: 'sft-lora-20b',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, reasoning_content: reasoning, tool_calls: [] },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 80, completion_tokens: 40, total_tokens: 120 },
  };
}
