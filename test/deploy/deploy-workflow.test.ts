import * as path from 'node:path';
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateEndpointCommand,
  CreateModelPackageCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
  type ProductionVariantInstanceType,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { ServingPlan } from '../../lib/constructs/serving-plan';
import { formatInvalid, validateRequests } from '../support/botocore-shapes';
import { startMotoServer, type MotoServer } from '../support/moto-server';
import {
  type CallOverride,
  expectFailedWith,
  expectStatus,
  type LocalRunResult,
  type RecordedCall,
  runLocally,
  taskStates,
  TEST_REGION,
} from '../support/sfn-local';
import {
  buildDeploymentStack,
  createGroup,
  createNotificationInbox,
  createPipelineTrainingJob,
  deployDefinition,
  IMPORTED,
  MODEL_ROLE_ARN,
  packageApprovedEvent,
  pipelineSucceededEvent,
  queueEndpointAnswers,
  registerDefinition,
  sageMakerClient,
  TOPIC_ARN,
  vllmChatCompletion,
} from './support';

/**
 * The DEPLOY state machine, synthesized by CDK, EXECUTED by aws-local-stepfunctions; every Task makes its
 * real SDK call against moto server over HTTP on 127.0.0.1 (SageMaker hosting, SageMaker runtime,
 * CloudWatch, Application Auto Scaling, SNS), and the outcome is read back through the same APIs.
 *
 * Where moto 5.2.5 falls short, the test says so:
 * - moto has no `UpdateEndpoint`. A local override emulates an update that SUCCEEDS by deleting and
 *   re-creating the endpoint in moto with the new config (what DescribeEndpoint shows after a real
 *   update), and one that SageMaker ROLLS BACK by leaving moto unchanged while DescribeEndpoint reports
 *   `Updating` and then the old config with a `FailureReason` (what SageMaker reports after a rollback).
 * - moto endpoints are InService at once; endpoint failures and slow starts are injected by wrapping
 *   moto's DescribeEndpoint answer (marked "fault injection" below).
 * - InvokeEndpoint is moto's own, answering with the vLLM-style bodies queued through moto's
 *   documented `/moto-api/static/sagemaker/endpoint-results` hook.
 */

const GROUP = 'gptoss-dev-sft-lora-20b';
const ENDPOINT = 'gptoss-dev-sft-lora-20b';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/vllm:0.14.0-gpu-py312-cu129-ubuntu22.04-sagemaker';

let moto: MotoServer;
let deploy: StateMachineDefinition;
let register: StateMachineDefinition;
let plan: ServingPlan;
const allCalls: RecordedCall[] = [];
const enteredStates = new Set<string>();

beforeAll(async () => {
  // moto's hard-coded endpoint instance types predate g6e/p4d/p5: this server checks botocore's enum instead.
  moto = await startMotoServer({ serverScript: path.join(__dirname, '../support/moto_server_current_types.py') });
  const fixture = buildDeploymentStack();
  deploy = deployDefinition(fixture);
  register = registerDefinition(fixture);
  plan = fixture.stack.plans.find((p) => p.recipe === 'sft-lora-20b') as ServingPlan;
});
afterAll(async () => moto.stop());
beforeEach(async () => moto.reset());

const sm = () => sageMakerClient(moto.endpoint);
const configFor = (version: number) => `${plan.resourceBase}-v${version}`;
const clientConfig = () => ({
  endpoint: moto.endpoint,
  region: TEST_REGION,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

/** A package as the REGISTER machine creates it (vLLM image, uncompressed prefix, engine environment). */
async function createPackage(status: 'Approved' | 'PendingManualApproval' = 'Approved'): Promise<string> {
  const { ModelPackageArn } = await sm().send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: GROUP,
      ModelPackageDescription: 'sft-lora-20b fine-tuned by SageMaker pipeline execution test',
      ModelApprovalStatus: status,
      InferenceSpecification: {
        Containers: [
          {
            Image: IMAGE,
            ModelDataSource: {
              S3DataSource: {
                S3Uri: `s3://${IMPORTED.bucketName}/models/sft-lora-20b/job/output/model/`,
                S3DataType: 'S3Prefix',
                CompressionType: 'None',
              },
            },
            Environment: { ...plan.environment },
          },
        ],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
        SupportedRealtimeInferenceInstanceTypes: [plan.instanceType as ProductionVariantInstanceType],
      },
    }),
  );
  return ModelPackageArn as string;
}

async function runDeploy(
  packageArn: string,
  version: number,
  overrides: Record<string, CallOverride> = {},
): Promise<LocalRunResult> {
  const result = await runLocally(deploy, packageApprovedEvent(packageArn, GROUP, version), {
    endpoint: moto.endpoint,
    overrides,
  });
  allCalls.push(...result.calls);
  result.path.forEach((s) => enteredStates.add(s));
  return result;
}

/** moto has no UpdateEndpoint: an update that succeeds leaves the endpoint on the new config. */
const updateSucceeds: CallOverride = async (params) => {
  await sm().send(new DeleteEndpointCommand({ EndpointName: params.EndpointName as string }));
  const { EndpointArn } = await sm().send(
    new CreateEndpointCommand({
      EndpointName: params.EndpointName as string,
      EndpointConfigName: params.EndpointConfigName as string,
    }),
  );
  return { EndpointArn };
};

/** An endpoint serving version 1, as a previous deployment left it (plus its autoscaling). */
async function servingVersion1(inboxToo = true) {
  await createGroup(moto.endpoint, GROUP);
  const inbox = inboxToo ? await createNotificationInbox(moto.endpoint) : undefined;
  const v1 = await createPackage();
  await queueEndpointAnswers(moto.endpoint, [vllmChatCompletion('Die Hauptstadt ist Canberra.')]);
  expectStatus(await runDeploy(v1, 1), 'SUCCEEDED');
  await inbox?.read();
  return { v1, inbox };
}

async function endpointState() {
  const ep = await sm().send(new DescribeEndpointCommand({ EndpointName: ENDPOINT }));
  return { status: ep.EndpointStatus, config: ep.EndpointConfigName };
}

async function modelNames(): Promise<string[]> {
  return ((await sm().send(new ListModelsCommand({}))).Models ?? []).map((m) => m.ModelName as string).sort();
}

async function configNames(): Promise<string[]> {
  return ((await sm().send(new ListEndpointConfigsCommand({}))).EndpointConfigs ?? [])
    .map((c) => c.EndpointConfigName as string)
    .sort();
}

async function scalableTargets() {
  const aas = new ApplicationAutoScalingClient(clientConfig());
  return (await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }))).ScalableTargets ?? [];
}

test('happy path: register, approve, deploy: endpoint InService, smoke test passes, alarms and autoscaling set', async () => {
  // GIVEN a pipeline run registered by the REGISTER machine and approved by a person (UpdateModelPackage)
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);
  const job = await createPipelineTrainingJob(moto.endpoint, 'pipelines-e2e000000001-train-ffffffffff');
  const registered = await runLocally(register, pipelineSucceededEvent(GROUP, 'e2e000000001'), {
    endpoint: moto.endpoint,
    overrides: {
      // not in moto: the pipeline's steps
      'sagemaker:listPipelineExecutionSteps': () => ({
        PipelineExecutionSteps: [
          { StepName: 'Train', StepStatus: 'Succeeded', Metadata: { TrainingJob: { Arn: job.arn } } },
        ],
      }),
    },
  });
  expectStatus(registered, 'SUCCEEDED');
  const packageArn = (
    registered.calls.find((c) => c.action === 'createModelPackage')?.result as {
      ModelPackageArn: string;
    }
  ).ModelPackageArn;
  await sm().send(new UpdateModelPackageCommand({ ModelPackageArn: packageArn, ModelApprovalStatus: 'Approved' }));
  await queueEndpointAnswers(moto.endpoint, [vllmChatCompletion('Die Hauptstadt von Australien ist Canberra.')]);

  // WHEN the Approved event runs the DEPLOY machine
  const result = await runDeploy(packageArn, 1);

  // THEN the endpoint serves the new config
  expectStatus(result, 'SUCCEEDED');
  expect(await endpointState()).toEqual({ status: 'InService', config: configFor(1) });
  // AND the model runs the package's container with the recipe's engine settings in the VPC
  const model = await sm().send(new DescribeModelCommand({ ModelName: configFor(1) }));
  expect(model.ExecutionRoleArn).toBe(MODEL_ROLE_ARN);
  expect(model.PrimaryContainer).toMatchObject({
    Image: IMAGE,
    ModelDataSource: {
      S3DataSource: {
        S3Uri: `${job.outputPath}/pipelines-e2e000000001-train-ffffffffff/output/model/`,
        S3DataType: 'S3Prefix',
        CompressionType: 'None',
      },
    },
    Environment: { SM_VLLM_TENSOR_PARALLEL_SIZE: '4', SM_VLLM_MAX_MODEL_LEN: '8192', HF_HUB_OFFLINE: '1' },
  });
  expect(model.VpcConfig).toEqual({ SecurityGroupIds: [IMPORTED.securityGroupId], Subnets: [...IMPORTED.subnetIds] });
  // (moto's DescribeModel always reports EnableNetworkIsolation false, so check the request)
  expect(result.calls.find((c) => c.action === 'createModel')?.params.EnableNetworkIsolation).toBe(true);
  // AND the endpoint config has the recipe's instance type and data capture to the artifacts bucket
  const config = await sm().send(new DescribeEndpointConfigCommand({ EndpointConfigName: configFor(1) }));
  expect(config.ProductionVariants?.[0]).toMatchObject({
    VariantName: 'AllTraffic',
    ModelName: configFor(1),
    InstanceType: 'ml.g6e.12xlarge',
    InitialInstanceCount: 1,
  });
  expect(config.DataCaptureConfig).toMatchObject({
    EnableCapture: true,
    DestinationS3Uri: `s3://${IMPORTED.bucketName}/data-capture/${ENDPOINT}/`,
    KmsKeyId: IMPORTED.keyArn,
  });
  // AND the smoke test sent a chat request with a reasoning-language system prompt
  const smoke = result.calls.find((c) => c.action === 'invokeEndpoint');
  expect(JSON.parse(smoke?.params.Body as string).messages[0]).toEqual({
    role: 'system',
    content: 'reasoning language: German',
  });
  // AND the rollback alarms exist, wired to the topic
  const cw = new CloudWatchClient(clientConfig());
  const alarms = (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: ENDPOINT }))).MetricAlarms ?? [];
  expect(alarms.map((a) => [a.AlarmName, a.MetricName, a.AlarmActions]).sort()).toEqual([
    [`${ENDPOINT}-invocation-5xx`, 'Invocation5XXErrors', [TOPIC_ARN]],
    [`${ENDPOINT}-model-latency`, 'ModelLatency', [TOPIC_ARN]],
  ]);
  // AND autoscaling follows the recipe's min/max
  expect(await scalableTargets()).toEqual([
    expect.objectContaining({
      ResourceId: `endpoint/${ENDPOINT}/variant/AllTraffic`,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 1,
      MaxCapacity: 2,
    }),
  ]);
  const aas = new ApplicationAutoScalingClient(clientConfig());
  const policies = await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker' }));
  expect(policies.ScalingPolicies?.[0]).toMatchObject({
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: {
      PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
    },
  });
  // AND the team heard about both stages
  const subjects = (await inbox.read()).map((n) => n.subject);
  expect(subjects).toEqual(['Model sft-lora-20b v1 awaits approval', 'Model sft-lora-20b v1 deployed']);
});

test('duplicate Approved event: the second execution finds the version serving and changes nothing', async () => {
  // GIVEN version 1 serving
  const { v1, inbox } = await servingVersion1();
  const models = await modelNames();

  // WHEN the same Approved event arrives again
  const result = await runDeploy(v1, 1);

  // THEN nothing is created or updated
  expectStatus(result, 'SUCCEEDED');
  expect(result.path).toContain('Already serving this version');
  expect(result.calls.map((c) => c.action)).not.toContain('createModel');
  expect(result.calls.map((c) => c.action)).not.toContain('updateEndpoint');
  expect(await modelNames()).toEqual(models);
  expect(await inbox?.read()).toEqual([]);
});

test('update of an existing endpoint: blue/green with alarm auto-rollback, autoscaling suspended and restored', async () => {
  // GIVEN version 1 serving, and version 2 approved
  const { inbox } = await servingVersion1();
  const v2 = await createPackage();
  await queueEndpointAnswers(moto.endpoint, [vllmChatCompletion('Canberra.')]);

  // WHEN deployed (UpdateEndpoint emulated: not in moto)
  const result = await runDeploy(v2, 2, { 'sagemaker:updateEndpoint': updateSucceeds });

  // THEN the endpoint serves version 2, and version 1's model and config remain for a manual rollback
  expectStatus(result, 'SUCCEEDED');
  expect(await endpointState()).toEqual({ status: 'InService', config: configFor(2) });
  expect(await modelNames()).toEqual([configFor(1), configFor(2)]);
  // AND the update was blue/green with the rollback alarms
  const update = result.calls.find((c) => c.action === 'updateEndpoint');
  expect(update?.params).toMatchObject({
    EndpointName: ENDPOINT,
    EndpointConfigName: configFor(2),
    DeploymentConfig: {
      BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 600 } },
      AutoRollbackConfiguration: {
        Alarms: [{ AlarmName: `${ENDPOINT}-invocation-5xx` }, { AlarmName: `${ENDPOINT}-model-latency` }],
      },
    },
  });
  // AND autoscaling was deregistered before the update and registered again after it
  const actions = result.calls.map((c) => c.action);
  expect(actions.indexOf('deregisterScalableTarget')).toBeLessThan(actions.indexOf('updateEndpoint'));
  expect(actions.lastIndexOf('registerScalableTarget')).toBeGreaterThan(actions.indexOf('updateEndpoint'));
  expect(await scalableTargets()).toHaveLength(1);
  expect((await inbox?.read())?.map((n) => n.subject)).toEqual(['Model sft-lora-20b v2 deployed']);
});

test('re-approving an older version deploys it again from its kept model and config', async () => {
  // GIVEN version 2 serving after version 1
  const { v1 } = await servingVersion1();
  const v2 = await createPackage();
  await queueEndpointAnswers(moto.endpoint, [vllmChatCompletion('Canberra.'), vllmChatCompletion('Canberra!')]);
  expectStatus(await runDeploy(v2, 2, { 'sagemaker:updateEndpoint': updateSucceeds }), 'SUCCEEDED');

  // WHEN version 1 is approved again (after a Reject, for example)
  const result = await runDeploy(v1, 1, { 'sagemaker:updateEndpoint': updateSucceeds });

  // THEN the endpoint is updated back to version 1 without creating anything
  expectStatus(result, 'SUCCEEDED');
  expect(await endpointState()).toEqual({ status: 'InService', config: configFor(1) });
  expect(result.calls.map((c) => c.action)).not.toContain('createModel');
  expect(result.calls.map((c) => c.action)).not.toContain('createEndpointConfig');
});

test('fails on endpoint creation failure: the failed endpoint and its model and config are deleted, with a notice', async () => {
  // GIVEN no endpoint yet and an approved package
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);
  const v1 = await createPackage();

  // WHEN the new endpoint fails to start (fault injection: moto endpoints never fail)
  const result = await runDeploy(v1, 1, {
    'sagemaker:describeEndpoint': async (_params, next) => ({
      ...((await next()) as object),
      EndpointStatus: 'Failed',
      FailureReason: 'The primary container for production variant AllTraffic did not pass the ping health check.',
    }),
  });

  // THEN the execution fails and nothing is left behind
  expectFailedWith(result, 'EndpointFailed');
  expect(result.calls.filter((c) => c.action.startsWith('delete')).map((c) => c.action)).toEqual([
    'deleteEndpoint',
    'deleteAlarms',
    'deleteEndpointConfig',
    'deleteModel',
  ]);
  expect(((await sm().send(new ListModelsCommand({}))).Models ?? []).length).toBe(0);
  expect(await configNames()).toEqual([]);
  await expect(sm().send(new DescribeEndpointCommand({ EndpointName: ENDPOINT }))).rejects.toThrow(/Could not find/);
  expect(await scalableTargets()).toEqual([]);
  // AND the notice says what failed, where, and what state things are in
  const [notice] = (await inbox.read()) ?? [];
  expect(notice.subject).toBe('Deploy of sft-lora-20b v1 failed');
  expect(notice.message).toContain('failed at step "Wait for endpoint": EndpointFailed');
  expect(notice.message).toContain('did not pass the ping health check');
  expect(notice.message).toContain('The new endpoint was deleted again');
});

test('fails on an update SageMaker rolls back: the old endpoint keeps serving, the orphans are deleted', async () => {
  // GIVEN version 1 serving and version 2 approved
  const { inbox } = await servingVersion1();
  const v2 = await createPackage();

  // WHEN SageMaker accepts the update but rolls it back (alarm fired during baking): emulated, see header
  let polls = 0;
  const result = await runDeploy(v2, 2, {
    'sagemaker:updateEndpoint': () => ({
      EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${ENDPOINT}`,
    }),
    'sagemaker:describeEndpoint': async (_params, next) => {
      const real = (await next()) as Record<string, unknown>;
      polls += 1;
      return polls === 1 || real.EndpointConfigName !== configFor(1)
        ? real
        : polls === 2
          ? { ...real, EndpointStatus: 'Updating' }
          : { ...real, FailureReason: `Alarm ${ENDPOINT}-invocation-5xx went into ALARM; rolled back.` };
    },
  });

  // THEN the execution fails, version 1 keeps serving, version 2's model and config are gone
  expectFailedWith(result, 'UpdateRolledBack');
  expect(await endpointState()).toEqual({ status: 'InService', config: configFor(1) });
  expect(await modelNames()).toEqual([configFor(1)]);
  expect(await configNames()).toEqual([configFor(1)]);
  // AND autoscaling of the serving version is back
  expect(await scalableTargets()).toHaveLength(1);
  const [notice] = (await inbox?.read()) ?? [];
  expect(notice.message).toContain('UpdateRolledBack');
  expect(notice.message).toContain(`keeps serving its previous configuration ${configFor(1)}`);
});

test('fails when the smoke test gets no content after an update: the endpoint is rolled back to the old version', async () => {
  // GIVEN version 1 serving and version 2 approved, whose answers are empty
  const { inbox } = await servingVersion1();
  const v2 = await createPackage();
  await queueEndpointAnswers(moto.endpoint, [vllmChatCompletion(null, null)]);

  // WHEN deployed
  const result = await runDeploy(v2, 2, { 'sagemaker:updateEndpoint': updateSucceeds });

  // THEN the machine rolled the endpoint back to version 1 and removed version 2
  expectFailedWith(result, 'SmokeTestFailed');
  const updates = result.calls.filter((c) => c.action === 'updateEndpoint').map((c) => c.params.EndpointConfigName);
  expect(updates).toEqual([configFor(2), configFor(1)]);
  expect(await endpointState()).toEqual({ status: 'InService', config: configFor(1) });
  expect(await modelNames()).toEqual([configFor(1)]);
  const [notice] = (await inbox?.read()) ?? [];
  expect(notice.message).toContain('failed at step "Smoke test": SmokeTestFailed');
  expect(notice.message).toContain(`rolled back to its previous configuration ${configFor(1)}`);
});

test('fails when the smoke test of a new endpoint gets no content: the new endpoint is deleted', async () => {
  // GIVEN no endpoint yet and an approved package whose answers are empty strings
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);
  const v1 = await createPackage();
  await queueEndpointAnswers(moto.endpoint, [vllmChatCompletion('', '')]);

  // WHEN deployed
  const result = await runDeploy(v1, 1);

  // THEN
  expectFailedWith(result, 'SmokeTestFailed');
  await expect(sm().send(new DescribeEndpointCommand({ EndpointName: ENDPOINT }))).rejects.toThrow(/Could not find/);
  expect(await modelNames()).toEqual([]);
  expect((await inbox.read()).map((n) => n.subject)).toEqual(['Deploy of sft-lora-20b v1 failed']);
});

test('fails after the bounded wait when the endpoint never leaves Creating, and cleans nothing up', async () => {
  // GIVEN an approved package
  await createGroup(moto.endpoint, GROUP);
  const inbox = await createNotificationInbox(moto.endpoint);
  const v1 = await createPackage();

  // WHEN the endpoint stays Creating (fault injection)
  const result = await runDeploy(v1, 1, {
    'sagemaker:describeEndpoint': async (_params, next) => ({
      ...((await next()) as object),
      EndpointStatus: 'Creating',
    }),
  });

  // THEN it gives up after 120 polls and leaves the endpoint alone
  expectFailedWith(result, 'Timeout');
  expect(result.calls.filter((c) => c.state === 'Wait for endpoint: describe')).toHaveLength(120);
  expect(result.calls.map((c) => c.action).filter((a) => a.startsWith('delete'))).toEqual([]);
  expect((await endpointState()).config).toBe(configFor(1));
  const [notice] = await inbox.read();
  expect(notice.message).toContain('still Creating after 120 polls');
  expect(notice.message).toContain('nothing was cleaned up');
});

test('fails without touching a busy endpoint (another deployment in progress)', async () => {
  // GIVEN version 1 serving but currently Updating (fault injection), and version 2 approved
  const { inbox } = await servingVersion1();
  const v2 = await createPackage();

  // WHEN deployed
  const result = await runDeploy(v2, 2, {
    'sagemaker:describeEndpoint': async (_params, next) => ({
      ...((await next()) as object),
      EndpointStatus: 'Updating',
    }),
  });

  // THEN nothing was created or changed, and the notice explains how to retry
  expectFailedWith(result, 'EndpointNotInService');
  expect(result.calls.map((c) => c.action)).not.toContain('createModel');
  expect(await modelNames()).toEqual([configFor(1)]);
  const [notice] = (await inbox?.read()) ?? [];
  expect(notice.message).toContain(`endpoint ${ENDPOINT} is Updating`);
});

test('a package rejected again before the execution runs is not deployed', async () => {
  // GIVEN an approved package that was rejected right after
  await createGroup(moto.endpoint, GROUP);
  const arn = await createPackage('Approved');
  await sm().send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Rejected' }));

  // WHEN the (late) Approved event runs the machine
  const result = await runDeploy(arn, 1);

  // THEN nothing is deployed
  expectStatus(result, 'SUCCEEDED');
  expect(result.path).toContain('No longer approved');
  expect(await modelNames()).toEqual([]);
});

test('ignores a group with the deployment prefix that belongs to no recipe', async () => {
  // GIVEN / WHEN an event of an unknown group
  const result = await runLocally(
    deploy,
    packageApprovedEvent(
      'arn:aws:sagemaker:us-east-1:123456789012:model-package/gptoss-dev-other/1',
      'gptoss-dev-other',
      1,
    ),
    { endpoint: moto.endpoint },
  );
  // THEN nothing is called
  expectStatus(result, 'SUCCEEDED');
  expect(result.calls).toHaveLength(0);
});

test('every request the machine sent validates against the botocore input shapes', () => {
  // GIVEN the calls of all runs above WHEN validated against botocore THEN none is invalid
  const botocoreService: Record<string, string> = {
    sagemakerruntime: 'sagemaker-runtime',
    applicationautoscaling: 'application-autoscaling',
  };
  const requests = allCalls.map((c) => ({
    service: botocoreService[c.service] ?? c.service,
    operation: c.action,
    params: c.params,
    label: `${c.state} (${c.service}:${c.action})`,
  }));
  expect(requests.length).toBeGreaterThan(50);
  expect(formatInvalid(validateRequests(requests))).toBe('');
});

test('the runs above entered every Task state of the machine', () => {
  // GIVEN the Task states of the definition WHEN compared with the states entered THEN none is untested
  const untested = taskStates(deploy)
    .map((t) => t.name)
    .filter((name) => !enteredStates.has(name));
  expect(untested).toEqual([]);
});
