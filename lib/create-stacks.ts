import * as cdk from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, type NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { AppConfig } from './config/app-config';
import { stackName } from './config/naming';
import type { AnalyzedRecipe } from './recipes/recipe-analysis';
import { DataStack } from './stacks/data-stack';
import { DeploymentStack } from './stacks/deployment-stack';
import { NetworkStack } from './stacks/network-stack';
import { StudioStack } from './stacks/studio-stack';
import { TrainingStack, type TrainingStackProps } from './stacks/training-stack';

export interface CreateStacksProps {
  /** The validated deployment config. */
  readonly config: AppConfig;
  /** The validated recipes with their analysis (lib/recipes/report.ts `loadValidatedRecipes`), one pipeline each. */
  readonly recipes: readonly AnalyzedRecipe[];
  /**
   * Commit of the checkout being deployed, recorded on every training job (read by bin/, never by a shell call).
   * @default 'unknown'
   */
  readonly gitSha?: string;
  /**
   * Training stack options that are not config: a different code directory or metric file (tests and the
   * scale benchmark), the number of pipeline nested stacks, a definition revision.
   * @default - the repository's training-code/ and the stack's defaults
   */
  readonly training?: Pick<
    TrainingStackProps,
    'codeDirectory' | 'metricDefinitionsFile' | 'trainingImage' | 'pipelineShards' | 'definitionRevision'
  >;
}

/** Every stack of the platform, returned so that tests (and the next stacks) can reach them. */
export interface PlatformStacks {
  readonly data: DataStack;
  readonly network: NetworkStack;
  readonly studio: StudioStack;
  readonly training: TrainingStack;
  readonly deployment: DeploymentStack;
}

/**
 * Resource types that must never receive the cost-allocation tags: `AWS::SageMaker::UserProfile` `Tags` is
 * create-only, so a tag change would replace every user profile (and fail while it has apps or spaces).
 */
export const UNTAGGABLE_RESOURCE_TYPES = ['AWS::SageMaker::UserProfile'];

/** The cost-allocation tags of a deployment: `project`, `stage`, plus `config.tags`. */
export function platformTags(config: AppConfig): Record<string, string> {
  return { project: config.namePrefix, stage: config.stage, ...config.tags };
}

/** The compliance packs every synth runs (bin/app.ts) and every stack test asserts on (test/support/nag.ts). */
export function compliancePacks(): NagPack[] {
  return [new AwsSolutionsChecks(), new NIST80053R5Checks(), new HIPAASecurityChecks(), new PCIDSS321Checks()];
}

/**
 * Creates and wires the platform's stacks. Cross-stack values travel as typed props (the producer exposes
 * `public readonly` handles). To add a stack: create it below with `stackName(config, '<part>')` as id and
 * name, pass it what it needs from the stacks above, and add it to {@link PlatformStacks}.
 */
export function createStacks(scope: Construct, props: CreateStacksProps): PlatformStacks {
  const { config } = props;
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const common = (part: string): cdk.StackProps & { config: AppConfig } => ({
    stackName: stackName(config, part),
    env,
    config,
  });

  const data = new DataStack(scope, stackName(config, 'data'), {
    ...common('data'),
    description: `${config.namePrefix} ${config.stage}: KMS key and buckets (stateful, retained)`,
  });

  const network = new NetworkStack(scope, stackName(config, 'network'), {
    ...common('network'),
    description: `${config.namePrefix} ${config.stage}: VPC, endpoints and security groups`,
    key: data.key,
  });

  const studio = new StudioStack(scope, stackName(config, 'studio'), {
    ...common('studio'),
    description: `${config.namePrefix} ${config.stage}: SageMaker Studio domain, users and managed MLflow`,
    vpc: network.vpc,
    subnets: network.subnets,
    studioSecurityGroup: network.studioSecurityGroup,
    key: data.key,
    datasetsBucket: data.datasetsBucket,
    artifactsBucket: data.artifactsBucket,
  });

  const training = new TrainingStack(scope, stackName(config, 'training'), {
    ...common('training'),
    description: `${config.namePrefix} ${config.stage}: training roles, code and one SageMaker Pipeline per recipe`,
    recipes: props.recipes,
    key: data.key,
    artifactsBucket: data.artifactsBucket,
    datasetsBucket: data.datasetsBucket,
    vpc: network.vpc,
    subnets: network.subnets,
    securityGroup: network.trainingSecurityGroup,
    mlflow: studio.mlflow,
    gitSha: props.gitSha,
    ...props.training,
  });

  const deployment = new DeploymentStack(scope, stackName(config, 'deployment'), {
    ...common('deployment'),
    description: `${config.namePrefix} ${config.stage}: register and deploy fine-tuned models (Step Functions, SNS)`,
    recipes: props.recipes,
    key: data.key,
    artifactsBucket: data.artifactsBucket,
    vpc: network.vpc,
    subnets: network.vpc.selectSubnets(network.subnets).subnets,
  });

  for (const [key, value] of Object.entries(platformTags(config))) {
    cdk.Tags.of(scope).add(key, value, { excludeResourceTypes: UNTAGGABLE_RESOURCE_TYPES });
  }
  return { data, network, studio, training, deployment };
}
