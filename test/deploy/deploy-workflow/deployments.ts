import { ApplicationAutoScalingClient, DescribeScalingPoliciesCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { expectStatus, runLocally } from '../../support/sfn-local';
import {
  createGroup,
  createNotificationInbox,
  createPipelineTrainingJob,
  IMPORTED,
  MODEL_ROLE_ARN,
  pipelineSucceededEvent,
  queueEndpointAnswers,
  TOPIC_ARN,
  vllmChatCompletion,
} from '../support';
import { type DeployWorkflow, ENDPOINT, GROUP, IMAGE } from './harness';

/**
 * DEPLOY scenarios that end with the approved version serving: the first deployment (after REGISTER and a
 * person's approval), a duplicate event, a blue/green update, and re-approving an older version.
 */
export function deploymentTests(wf: DeployWorkflow): void {
  test('happy path: register, approve, deploy: endpoint InService, smoke test passes, alarms and autoscaling set', async () => {
    // GIVEN a pipeline run registered by the REGISTER machine and approved by a person (UpdateModelPackage)
    await createGroup(wf.moto.endpoint, GROUP);
    const inbox = await createNotificationInbox(wf.moto.endpoint);
    const job = await createPipelineTrainingJob(wf.moto.endpoint, 'pipelines-e2e000000001-train-ffffffffff');
    const registered = await runLocally(wf.registerMachine, pipelineSucceededEvent(GROUP, 'e2e000000001'), {
      endpoint: wf.moto.endpoint,
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
    await wf.sm().send(new UpdateModelPackageCommand({ ModelPackageArn: packageArn, ModelApprovalStatus: 'Approved' }));
    await queueEndpointAnswers(wf.moto.endpoint, [vllmChatCompletion('Die Hauptstadt von Australien ist Canberra.')]);

    // WHEN the Approved event runs the DEPLOY machine
    const result = await wf.runDeploy(packageArn, 1);

    // THEN the endpoint serves the new config
    expectStatus(result, 'SUCCEEDED');
    expect(await wf.endpointState()).toEqual({ status: 'InService', config: wf.configFor(1) });
    // AND the model runs the package's container with the recipe's engine settings in the VPC
    const model = await wf.sm().send(new DescribeModelCommand({ ModelName: wf.configFor(1) }));
    expect(model.ExecutionRoleArn).toBe(MODEL_ROLE_ARN);
    expect(model.PrimaryContainer).toMatchObject({
      Image: IMAGE,
      ModelDataSource: {
        S3DataSource: {
          // the registered, write-once copy (register-workflow/registration.ts checks the copy itself)
          S3Uri: `s3://${IMPORTED.bucketName}/registry/sft-lora-20b/pipelines-e2e000000001-train-ffffffffff/model/`,
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
    const config = await wf.sm().send(new DescribeEndpointConfigCommand({ EndpointConfigName: wf.configFor(1) }));
    expect(config.ProductionVariants?.[0]).toMatchObject({
      VariantName: 'AllTraffic',
      ModelName: wf.configFor(1),
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
    const cw = new CloudWatchClient(wf.clientConfig());
    const alarms = (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: ENDPOINT }))).MetricAlarms ?? [];
    expect(alarms.map((a) => [a.AlarmName, a.MetricName, a.AlarmActions]).sort()).toEqual([
      [`${ENDPOINT}-invocation-5xx`, 'Invocation5XXErrors', [TOPIC_ARN]],
      [`${ENDPOINT}-model-latency`, 'ModelLatency', [TOPIC_ARN]],
    ]);
    // AND autoscaling follows the recipe's min/max
    expect(await wf.scalableTargets()).toEqual([
      expect.objectContaining({
        ResourceId: `endpoint/${ENDPOINT}/variant/AllTraffic`,
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        MinCapacity: 1,
        MaxCapacity: 2,
      }),
    ]);
    const aas = new ApplicationAutoScalingClient(wf.clientConfig());
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
    const { v1, inbox } = await wf.servingVersion1();
    const models = await wf.modelNames();

    // WHEN the same Approved event arrives again
    const result = await wf.runDeploy(v1, 1);

    // THEN nothing is created or updated
    expectStatus(result, 'SUCCEEDED');
    expect(result.path).toContain('Already serving this version');
    expect(result.calls.map((c) => c.action)).not.toContain('createModel');
    expect(result.calls.map((c) => c.action)).not.toContain('updateEndpoint');
    expect(await wf.modelNames()).toEqual(models);
    expect(await inbox?.read()).toEqual([]);
  });

  test('update of an existing endpoint: blue/green with alarm auto-rollback, autoscaling suspended and restored', async () => {
    // GIVEN version 1 serving, and version 2 approved
    const { inbox } = await wf.servingVersion1();
    const v2 = await wf.createPackage();
    await queueEndpointAnswers(wf.moto.endpoint, [vllmChatCompletion('Canberra.')]);

    // WHEN deployed (UpdateEndpoint emulated: not in moto)
    const result = await wf.runDeploy(v2, 2, { 'sagemaker:updateEndpoint': wf.updateSucceeds });

    // THEN the endpoint serves version 2, and version 1's model and config remain for a manual rollback
    expectStatus(result, 'SUCCEEDED');
    expect(await wf.endpointState()).toEqual({ status: 'InService', config: wf.configFor(2) });
    expect(await wf.modelNames()).toEqual([wf.configFor(1), wf.configFor(2)]);
    // AND the update was blue/green with the rollback alarms
    const update = result.calls.find((c) => c.action === 'updateEndpoint');
    expect(update?.params).toMatchObject({
      EndpointName: ENDPOINT,
      EndpointConfigName: wf.configFor(2),
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
    expect(await wf.scalableTargets()).toHaveLength(1);
    expect((await inbox?.read())?.map((n) => n.subject)).toEqual(['Model sft-lora-20b v2 deployed']);
  });

  test('re-approving an older version deploys it again from its kept model and config', async () => {
    // GIVEN version 2 serving after version 1
    const { v1 } = await wf.servingVersion1();
    const v2 = await wf.createPackage();
    await queueEndpointAnswers(wf.moto.endpoint, [vllmChatCompletion('Canberra.'), vllmChatCompletion('Canberra!')]);
    expectStatus(await wf.runDeploy(v2, 2, { 'sagemaker:updateEndpoint': wf.updateSucceeds }), 'SUCCEEDED');

    // WHEN version 1 is approved again (after a Reject, for example)
    const result = await wf.runDeploy(v1, 1, { 'sagemaker:updateEndpoint': wf.updateSucceeds });

    // THEN the endpoint is updated back to version 1 without creating anything
    expectStatus(result, 'SUCCEEDED');
    expect(await wf.endpointState()).toEqual({ status: 'InService', config: wf.configFor(1) });
    expect(result.calls.map((c) => c.action)).not.toContain('createModel');
    expect(result.calls.map((c) => c.action)).not.toContain('createEndpointConfig');
  });
}
