import * as path from 'node:path';
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import {
  CreateEndpointCommand,
  CreateModelPackageCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
  type ProductionVariantInstanceType,
} from '@aws-sdk/client-sagemaker';
import type { ServingPlan } from '../../../lib/recipes/serving-plan';
import {
  type CallOverride,
  expectStatus,
  type LocalRunResult,
  type RecordedCall,
  runLocally,
} from '../../support/sfn-local';
import {
  clientConfig,
  createGroup,
  createNotificationInbox,
  IMPORTED,
  packageApprovedEvent,
  queueEndpointAnswers,
  sageMakerClient,
  useMotoDeployment,
  vllmChatCompletion,
} from '../support';

/** The recipe the DEPLOY scenarios deploy: its package group, its endpoint, and the image it serves with. */
export const GROUP = 'gptoss-dev-sft-lora-20b';
export const ENDPOINT = 'gptoss-dev-sft-lora-20b';
export const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/vllm:0.14.0-gpu-py312-cu129-ubuntu22.04-sagemaker';

/** What {@link useDeployWorkflow} hands the DEPLOY scenarios. */
export type DeployWorkflow = ReturnType<typeof useDeployWorkflow>;

/**
 * The moto server and DeploymentStack of deploy-workflow.test.ts (support.ts `useMotoDeployment`), with the
 * helpers its DEPLOY scenarios share. `runDeploy` records the calls and entered states of every run for the
 * file's closing cross-run checks.
 */
export function useDeployWorkflow() {
  // moto's hard-coded endpoint instance types predate g6e/p4d/p5: this server checks botocore's enum instead.
  const deployment = useMotoDeployment({
    serverScript: path.join(__dirname, '../../../lib/local/moto_server_current_types.py'),
  });
  let plan: ServingPlan;
  const allCalls: RecordedCall[] = [];
  const enteredStates = new Set<string>();

  beforeAll(() => {
    plan = deployment.fixture.stack.plans.find((p) => p.recipe === 'sft-lora-20b') as ServingPlan;
  });

  const sm = () => sageMakerClient(deployment.moto.endpoint);
  const configFor = (version: number) => `${plan.resourceBase}-v${version}`;

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
    const result = await runLocally(deployment.deployMachine, packageApprovedEvent(packageArn, GROUP, version), {
      endpoint: deployment.moto.endpoint,
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
  /** The group, a notification inbox and version 1 approved; nothing deployed yet. */
  async function approvedVersion1() {
    await createGroup(deployment.moto.endpoint, GROUP);
    const inbox = await createNotificationInbox(deployment.moto.endpoint);
    const v1 = await createPackage();
    return { inbox, v1 };
  }

  async function servingVersion1(inboxToo = true) {
    await createGroup(deployment.moto.endpoint, GROUP);
    const inbox = inboxToo ? await createNotificationInbox(deployment.moto.endpoint) : undefined;
    const v1 = await createPackage();
    await queueEndpointAnswers(deployment.moto.endpoint, [vllmChatCompletion('Die Hauptstadt ist Canberra.')]);
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
    const aas = new ApplicationAutoScalingClient(clientConfig(deployment.moto.endpoint));
    return (
      (await aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }))).ScalableTargets ?? []
    );
  }

  return Object.assign(deployment, {
    /** Every call of every `runDeploy` so far. */
    allCalls: allCalls as readonly RecordedCall[],
    /** Every state entered by a `runDeploy` so far. */
    enteredStates: enteredStates as ReadonlySet<string>,
    sm,
    configFor,
    clientConfig: () => clientConfig(deployment.moto.endpoint),
    createPackage,
    runDeploy,
    updateSucceeds,
    approvedVersion1,
    servingVersion1,
    endpointState,
    modelNames,
    configNames,
    scalableTargets,
  });
}
