import type { CreateEndpointConfigOutput, CreateModelOutput } from '@aws-sdk/client-sagemaker';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENDPOINT_CONFIG_WRITE_ACTIONS, MODEL_WRITE_ACTIONS } from '../../iam/deploy-actions';
import { SERVING_VARIANT_NAME } from '../../recipes/serving-plan';
import { awsCall } from '../workflow/aws-call';
import { catchAsFailure } from '../workflow/failures';
import { findByName } from '../workflow/membership-check';
import { taskResult } from '../workflow/state-paths';
import type { DeployContext } from './context';
import { created, names, pkg, settings } from './state';

/** Tags of everything the machine creates: the recipe and the package version. */
export function resourceTags(): { Key: string; Value: string }[] {
  return [
    { Key: 'recipe', Value: settings.string('recipe') },
    { Key: 'model-package-version', Value: names.string('version') },
  ];
}

/**
 * The Model (vLLM container, uncompressed S3 prefix, recipe engine settings, VPC, network isolation) and
 * its EndpointConfig, each created unless one of that name exists (a retried execution); what is created
 * is recorded under `$.created` for the cleanup. Then `next`.
 */
export function modelAndConfigPhase(
  scope: Construct,
  ctx: DeployContext,
  next: sfn.IChainable,
  onFailure: sfn.IChainable,
): sfn.IChainable {
  const { props, arns } = ctx;
  const createModel = awsCall(scope, 'Create model', {
    service: 'sagemaker',
    action: 'createModel',
    parameters: {
      ModelName: names.string('model'),
      ExecutionRoleArn: props.modelRole.roleArn,
      PrimaryContainer: {
        Image: pkg.at('container').string('Image'),
        ModelDataSource: pkg.at('container').object('ModelDataSource'),
        Environment: settings.object('environment'),
      },
      VpcConfig: {
        SecurityGroupIds: [props.securityGroup.securityGroupId],
        Subnets: props.subnets.map((subnet) => subnet.subnetId),
      },
      // the model and tokenizer come from S3; the container needs no network of its own.
      EnableNetworkIsolation: true,
      Tags: resourceTags(),
    },
    iamResources: arns.models,
    additionalIamStatements: [
      new iam.PolicyStatement({ actions: MODEL_WRITE_ACTIONS, resources: arns.models }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [props.modelRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    ],
    resultSelector: { arn: taskResult<CreateModelOutput>().string('ModelArn') },
    resultPath: created.path('model'),
  });
  const createConfig = awsCall(scope, 'Create endpoint config', {
    service: 'sagemaker',
    action: 'createEndpointConfig',
    parameters: {
      EndpointConfigName: names.string('model'),
      ProductionVariants: [
        {
          VariantName: SERVING_VARIANT_NAME,
          ModelName: names.string('model'),
          InstanceType: settings.string('instanceType'),
          InitialInstanceCount: settings.number('minInstances'),
          // downloading 40-240 GB and loading it into vLLM takes long; the maxima SageMaker allows.
          ModelDataDownloadTimeoutInSeconds: 3600,
          ContainerStartupHealthCheckTimeoutInSeconds: 3600,
        },
      ],
      // no KmsKeyId: every GPU type that serves GPT-OSS has local NVMe storage, which SageMaker encrypts
      // in hardware and for which it rejects a KMS key.
      DataCaptureConfig: {
        EnableCapture: settings.string('dataCapture'),
        InitialSamplingPercentage: 100,
        DestinationS3Uri: names.string('dataCaptureUri'),
        ...(props.artifactsBucket.encryptionKey ? { KmsKeyId: props.artifactsBucket.encryptionKey.keyArn } : {}),
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      },
      Tags: resourceTags(),
    },
    iamResources: arns.configs,
    additionalIamStatements: [
      new iam.PolicyStatement({ actions: ENDPOINT_CONFIG_WRITE_ACTIONS, resources: arns.configs }),
    ],
    resultSelector: { arn: taskResult<CreateEndpointConfigOutput>().string('EndpointConfigArn') },
    resultPath: created.path('config'),
  });
  createConfig.next(next);
  const findConfig = findByName(scope, 'Find endpoint config', {
    action: 'listEndpointConfigs',
    resultList: 'EndpointConfigs',
    field: 'EndpointConfigName',
    namePath: names.path('model'),
    checkId: 'Endpoint config exists?',
    choiceId: 'Create endpoint config?',
    ifFound: next,
    otherwise: createConfig,
  });
  createModel.next(findConfig);
  const findModel = findByName(scope, 'Find model', {
    action: 'listModels',
    resultList: 'Models',
    field: 'ModelName',
    namePath: names.path('model'),
    checkId: 'Model exists?',
    choiceId: 'Create model?',
    ifFound: findConfig,
    otherwise: createModel,
  });
  for (const [task, step] of [
    [findModel, 'Find model'],
    [createModel, 'Create model'],
    [findConfig, 'Find endpoint config'],
    [createConfig, 'Create endpoint config'],
  ] as const) {
    catchAsFailure(scope, task, step, onFailure);
  }
  return findModel;
}
