import type { AppConfig } from '../config/app-config';
import { resourcePrefix } from '../config/naming';

/**
 * The values a deployment would give the pipeline's deploy-time parameters, chosen for the local emulator:
 * bucket names moto creates, an account id of twelve digits, ARNs of the right shape. Keyed by the names of the
 * training stack's pipeline nested-stack parameters (lib/stacks/training-stack.ts), which the definition's
 * markers `Ref`.
 */

/** moto's default account. */
export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

export interface LocalDeployValues {
  /** The deployment's resource name prefix (`<namePrefix>-<stage>`). */
  readonly prefix: string;
  readonly artifactsBucket: string;
  readonly datasetsBucket: string;
  /** Stack parameter name -> local value (`CodeS3Uri` is filled in once the code deployment is known). */
  readonly stackParameters: Readonly<Record<string, string>>;
  readonly codeS3Uri?: string;
}

export function localDeployValues(config: Pick<AppConfig, 'namePrefix' | 'stage'>): LocalDeployValues {
  const prefix = resourcePrefix(config);
  const artifactsBucket = `${prefix}-artifacts-local`;
  const datasetsBucket = `${prefix}-datasets-local`;
  const arn = (service: string, resource: string): string =>
    `arn:aws:${service}:${service === 'iam' ? '' : LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;
  return {
    prefix,
    artifactsBucket,
    datasetsBucket,
    stackParameters: {
      ArtifactsBucketName: artifactsBucket,
      DatasetsBucketName: datasetsBucket,
      KmsKeyArn: arn('kms', 'key/00000000-0000-4000-8000-000000000000'),
      SubnetId1: 'subnet-0000000000000000a',
      SubnetId2: 'subnet-0000000000000000b',
      SecurityGroupId1: 'sg-00000000000000000',
      MlflowTrackingArn: arn('sagemaker', `mlflow-tracking-server/${prefix}-local`),
      DefaultImageUri: `${LOCAL_ACCOUNT}.dkr.ecr.${LOCAL_REGION}.amazonaws.com/${prefix}-training:local`,
      TrainingJobRoleArn: arn('iam', `role/${prefix}-training-local`),
      ExecutionCheckFunctionArn: arn('lambda', `function:${prefix}-execution-check-local`),
      referencetogptossdevtrainingPipelineRoleD4678067Arn: arn('iam', `role/${prefix}-pipeline-local`),
    },
  };
}
