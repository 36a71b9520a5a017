import * as cdk from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import type { DeliveryConfig } from '../config/delivery-config';
import { SecureBucket } from '../constructs/data/secure-bucket';
import { acknowledgeDeliveryFindings } from '../constructs/delivery-compliance';
import type { EcrBaseImage } from '../constructs/dockerfile-base-images';
import { allowCloudWatchLogs } from '../constructs/logs-key-policy';

/** Properties of a {@link DeliveryStack}. */
export interface DeliveryStackProps extends cdk.StackProps {
  /** The delivery config (its account and region are the pipeline's, the tools account). */
  readonly config: AppConfig;
  readonly delivery: DeliveryConfig;
  /** The synth step's commands, run in order in the repository root (see `deliverySynthCommands`). */
  readonly synthCommands: readonly string[];
  /**
   * Version of the CDK CLI the self-mutation step installs (the repository's pinned `aws-cdk`).
   * @default - the latest 2.x
   */
  readonly cliVersion?: string;
  /**
   * ECR images the training image is built FROM: the asset-publishing build logs in to their registries.
   * @default - none
   */
  readonly dockerBaseImages?: readonly EcrBaseImage[];
}

/**
 * Runtimes the synth build selects from the image's list: Python 3.11 (the project's), and Node.js 22 only to
 * run `npm` and `.ci/use-node.sh`, which installs the Node of package.json "engines" (24) that every other
 * command runs on (see `deliverySynthCommands`).
 */
const SYNTH_RUNTIMES = { nodejs: '22', python: '3.11' };

/**
 * The delivery pipeline (CDK Pipelines, self-mutating): source from the team's repository through a
 * CodeConnections connection; a synth step in CodeBuild (recipe report, the CDK/IAM checks, `cdk synth`);
 * asset publishing in CodeBuild (the training image is built there, with the registry login its base image
 * needs); then each stage in order, with a manual approval before the stages that ask for one.
 * Deploy it once, from the tools account; afterwards every merge to the branch updates it and the stages.
 */
export class DeliveryStack extends cdk.Stack {
  public readonly pipeline: pipelines.CodePipeline;
  /** Encrypts the artifact bucket, the build logs and the CodeBuild output. */
  public readonly key: kms.Key;
  private readonly accessLogs: SecureBucket;
  private readonly connectionArn: string;
  private readonly artifactBucket: SecureBucket;

  constructor(scope: Construct, id: string, props: DeliveryStackProps) {
    super(scope, id, props);
    const name = `${props.config.namePrefix}-delivery`;
    this.connectionArn = props.delivery.connectionArn;

    this.key = new kms.Key(this, 'Key', {
      alias: `alias/${name}`,
      description: `${name}: encrypts the delivery pipeline's artifacts and build logs`,
      enableKeyRotation: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    allowCloudWatchLogs(this.key);

    const accessLogs = (this.accessLogs = new SecureBucket(this, 'AccessLogs', {
      lifecycleRules: [{ id: 'expire-access-logs', expiration: cdk.Duration.days(365) }],
    }));
    const artifactBucket = (this.artifactBucket = new SecureBucket(this, 'Artifacts', {
      encryptionKey: this.key,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      noncurrentVersionExpirationDays: 30,
      // pipeline artifacts are rebuilt by every execution: keep them 90 days.
      lifecycleRules: [{ id: 'expire-pipeline-artifacts', expiration: cdk.Duration.days(90) }],
    }));

    const logGroup = new logs.LogGroup(this, 'BuildLogs', {
      logGroupName: `/aws/codebuild/${name}`,
      encryptionKey: this.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });

    const source = pipelines.CodePipelineSource.connection(props.delivery.repository, props.delivery.branch, {
      connectionArn: props.delivery.connectionArn,
      triggerOnPush: true,
    });

    const synth = new pipelines.CodeBuildStep('Synth', {
      input: source,
      commands: [...props.synthCommands],
      // the deployed commit, recorded on every training job (bin/app.ts reads GIT_SHA).
      env: { GIT_SHA: source.sourceAttribute('CommitId') },
      primaryOutputDirectory: 'cdk.out',
      partialBuildSpec: codebuild.BuildSpec.fromObject({
        phases: { install: { 'runtime-versions': SYNTH_RUNTIMES } },
      }),
      buildEnvironment: { computeType: codebuild.ComputeType.MEDIUM },
    });

    const baseImages = props.dockerBaseImages ?? [];
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: name,
      synth,
      artifactBucket,
      // one publishing project per asset type, not one per asset (about 20 file assets per stage).
      publishAssetsInParallel: false,
      // a merge that changes this stack updates the pipeline first, then restarts it with the new definition.
      selfMutation: true,
      cliVersion: props.cliVersion,
      codeBuildDefaults: {
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 },
        logging: { cloudWatch: { logGroup } },
      },
      // the training image: a multi-GB CUDA base image plus a DeepSpeed compile.
      assetPublishingCodeBuildDefaults: {
        buildEnvironment: { computeType: codebuild.ComputeType.LARGE },
        timeout: cdk.Duration.hours(2),
      },
      dockerCredentials: baseImages.length > 0 ? [this.baseImageCredential(baseImages)] : [],
    });
  }

  /**
   * Adds a stage of the platform after the ones added before it, behind a manual approval when asked for.
   * Stages deploy in the order they are added.
   */
  public addPlatformStage(stage: cdk.Stage, approval: 'manual' | 'none'): pipelines.StageDeployment {
    const pre =
      approval === 'manual'
        ? [
            new pipelines.ManualApprovalStep(`Approve-${stage.stageName}`, {
              comment: `Deploy ${stage.stageName}: the stages before it are deployed; review them, then approve.`,
            }),
          ]
        : [];
    return this.pipeline.addStage(stage, { pre });
  }

  /**
   * Builds the CodePipeline (after every stage is added) and records the compliance acknowledgements on
   * the resources it generates. Call once, before synthesis.
   */
  public finish(): void {
    this.pipeline.buildPipeline();
    this.grantCodeConnectionsUse();
    acknowledgeDeliveryFindings(this.pipeline, this.accessLogs, [this.accessLogs, this.artifactBucket]);
  }

  /**
   * aws-cdk-lib grants the source action `codestar-connections:UseConnection` only; IAM matches a connection
   * ARN only with the action prefix of its own service (connections created since July 2024 are
   * `arn:aws:codeconnections:...`), so the new prefix is granted as well.
   * @see https://docs.aws.amazon.com/dtconsole/latest/userguide/rename.html
   */
  private grantCodeConnectionsUse(): void {
    const arn = this.connectionArn;
    if (!/^arn:[^:]+:codeconnections:/.test(arn)) return;
    const source = this.pipeline.pipeline.node.findChild('Source');
    for (const role of source.node.findAll().filter((c): c is iam.Role => c instanceof iam.Role)) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['codeconnections:UseConnection'], resources: [arn] }),
      );
    }
  }

  /**
   * Pull access to the base images' repositories for the asset-publishing builds, which `cdk-assets` turns
   * into a `docker login` to their registry before building (the DLC registry is not public; docs/delivery.md).
   * All repositories of one registry share one login, so they must share one account and region.
   */
  private baseImageCredential(images: readonly EcrBaseImage[]): pipelines.DockerCredential {
    const registries = new Set(images.map((i) => `${i.account}.dkr.ecr.${i.region}`));
    if (registries.size > 1) {
      throw new Error(
        `the training image's base images come from ${registries.size} ECR registries (${[...registries].join(', ')}); ` +
          'the delivery pipeline logs in to one: build FROM images of one registry',
      );
    }
    const repositories = [...new Map(images.map((i) => [i.repository, i])).values()].map(
      (image, n) => new BaseImageRepository(this, `BaseImageRepository${n + 1}`, image),
    );
    return pipelines.DockerCredential.ecr(repositories, {
      usages: [pipelines.DockerCredentialUsage.ASSET_PUBLISHING],
    });
  }
}

/**
 * A repository of another account's registry, by its literal URI. `ecr.Repository.fromRepositoryAttributes`
 * derives the URI with the `AWS::URLSuffix` token, and CDK Pipelines writes the login into the publishing
 * buildspec file, which cannot hold CloudFormation references.
 */
class BaseImageRepository extends ecr.RepositoryBase {
  public readonly repositoryName: string;
  public readonly repositoryArn: string;
  private readonly registry: string;

  constructor(scope: Construct, id: string, image: EcrBaseImage) {
    super(scope, id);
    this.repositoryName = image.repository;
    this.repositoryArn = `arn:${cdk.Stack.of(this).partition}:ecr:${image.region}:${image.account}:repository/${image.repository}`;
    this.registry = image.uri.split('/')[0];
  }

  public override get repositoryUri(): string {
    return `${this.registry}/${this.repositoryName}`;
  }

  public addToResourcePolicy(): iam.AddToResourcePolicyResult {
    // another account's repository: its policy is not ours to change.
    return { statementAdded: false };
  }
}
