import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AppConfig } from './config/app-config';
import type { DeliveryStage } from './config/load-delivery-stages';
import { ecrBaseImages } from './constructs/dockerfile-base-images';
import { createStacks, type CreateStacksProps, type PlatformStacks } from './create-stacks';
import type { AnalyzedRecipe } from './recipes/recipe-analysis';
import { DeliveryStack } from './stacks/delivery-stack';
import { DEFAULT_CODE_DIRECTORY } from './stacks/training-stack';

/**
 * The synth step's commands, in order (the README's "Delivery pipeline" section lists the same ones, and a
 * test compares them): the Node of package.json "engines" (the image's is older; `.ci/use-node.sh`, the same
 * script `npm test` uses), install, the recipe report, the CDK/IAM checks on every template (cfn-lint and
 * parliament, the only Python the checks need), then `cdk synth` of this delivery config. Every Node command
 * goes through `.ci/with-node.sh`, so none runs on the image's Node.
 * @param configFile the delivery config file given to synth (`-c configFile=`), if any
 */
export function deliverySynthCommands(configFile?: string): string[] {
  return [
    'bash .ci/use-node.sh',
    'bash .ci/with-node.sh npm ci',
    "python3 -m venv .venv && .venv/bin/pip install --quiet $(grep -E '^(cfn-lint|parliament)([=<>~ ]|$)' training-code/requirements-dev.txt)",
    'npm run recipes',
    'bash .ci/with-node.sh npx jest --ci test/platform/app-validation.test.ts test/delivery/delivery-validation.test.ts',
    `bash .ci/with-node.sh npx cdk synth --quiet${configFile ? ` -c configFile=${configFile}` : ''}`,
  ];
}

/** The `aws-cdk` CLI version package-lock.json installs, so self-mutation deploys with the CLI the tests use. */
export function pinnedCdkCliVersion(): string {
  const file = require.resolve('aws-cdk/package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Properties of {@link createDelivery}. */
export interface CreateDeliveryProps {
  /** The delivery config: its `delivery` block, account and region (the pipeline's). */
  readonly config: AppConfig;
  /** The file the delivery config came from (`-c configFile=`), repeated by the synth step. */
  readonly configFile?: string;
  /** The stages in order, each with its config. */
  readonly stages: readonly DeliveryStage[];
  /** Validated recipes; every stage gets all of them. */
  readonly recipes: readonly AnalyzedRecipe[];
  /** Commit being deployed (the synth step sets GIT_SHA from the source). */
  readonly gitSha?: string;
  /** Training stack options that are not config (tests). */
  readonly training?: CreateStacksProps['training'];
}

/** One stage of the platform: the stacks `cdk deploy -c configFile=<stage file>` deploys, in a Stage. */
export class PlatformStage extends cdk.Stage {
  public readonly stacks: PlatformStacks;

  constructor(
    scope: Construct,
    id: string,
    props: cdk.StageProps & Omit<CreateStacksProps, 'config'> & { config: AppConfig },
  ) {
    super(scope, id, props);
    this.stacks = createStacks(this, props);
  }
}

/** The delivery stack and each stage's platform stacks. */
export interface Delivery {
  readonly stack: DeliveryStack;
  readonly stages: readonly PlatformStage[];
}

/** Creates the delivery pipeline stack `<prefix>-delivery` with one {@link PlatformStage} per delivery stage. */
export function createDelivery(scope: Construct, props: CreateDeliveryProps): Delivery {
  const { config } = props;
  if (!config.delivery) throw new Error('createDelivery: the config has no delivery block');
  // the training image is built from this Dockerfile (lib/constructs/training-image.ts, TrainingImage.defaultFor).
  const dockerfile = path.join(props.training?.codeDirectory ?? DEFAULT_CODE_DIRECTORY, 'Dockerfile');
  const stack = new DeliveryStack(scope, `${config.namePrefix}-delivery`, {
    stackName: `${config.namePrefix}-delivery`,
    description: `${config.namePrefix}: delivery pipeline (${config.delivery.repository}@${config.delivery.branch})`,
    env: { account: config.account, region: config.region },
    config,
    delivery: config.delivery,
    synthCommands: deliverySynthCommands(props.configFile),
    cliVersion: pinnedCdkCliVersion(),
    dockerBaseImages: fs.existsSync(dockerfile) ? ecrBaseImages(dockerfile) : [],
  });
  const stages = props.stages.map((stage) => {
    const platform = new PlatformStage(stack, stage.config.stage, {
      env: { account: stage.config.account, region: stage.config.region },
      config: stage.config,
      recipes: props.recipes,
      gitSha: props.gitSha,
      training: props.training,
    });
    stack.addPlatformStage(platform, stage.approval);
    return platform;
  });
  stack.finish();
  return { stack, stages };
}
