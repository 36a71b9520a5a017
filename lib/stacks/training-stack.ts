import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { type AppConfig, hasInternetEgress } from '../config/app-config';
import { ARTIFACT_KEYS, ARTIFACTS_LAYOUT } from '../config/artifacts-layout';
import type { LoadedRecipe } from '../config/load-recipes';
import { ExecutionCheckFunction } from '../constructs/execution-check/execution-check-function';
import { PipelineFileDeployment } from '../constructs/pipeline-file-deployment';
import { PipelineExecutionRole } from '../constructs/pipeline-role';
import { PipelinesNestedStack, RECIPES_PER_FILE_DEPLOYMENT } from '../constructs/pipelines-nested-stack';
import { CODE_ASSET_EXCLUDES, TrainingImage } from '../constructs/training-image';
import { TrainingPipeline } from '../constructs/training-pipeline';
import { type IMlflowLogging, parseS3Uri, TrainingJobRole } from '../constructs/training-role';
import type { BaseModelSource, TrainingDeployValues } from '../pipeline';
import { DEFAULT_PIPELINE_SHARDS, recipesByShard } from '../pipeline/pipeline-shards';
import { assertContractFiles, readMetricDefinitions } from '../pipeline/training-job-contract';
import { estimateVolumeSizeGb } from '../recipes/volume-estimator';

/** The repository's training code (the `code` channel and, with a Dockerfile, the image build context). */
export const DEFAULT_CODE_DIRECTORY = path.resolve(__dirname, '..', '..', 'training-code');

/** Properties of a {@link TrainingStack}. */
export interface TrainingStackProps extends cdk.StackProps {
  readonly config: AppConfig;
  /** The validated recipes: one pipeline and one model package group each. */
  readonly recipes: readonly LoadedRecipe[];
  /** The platform key (data stack). */
  readonly key: kms.IKey;
  /** Artifacts bucket: code and recipe channels, pipeline definitions, models, checkpoints. */
  readonly artifactsBucket: s3.IBucket;
  /** Datasets bucket: default dataset location `datasets/<recipe>/`. */
  readonly datasetsBucket: s3.IBucket;
  readonly vpc: ec2.IVpc;
  /** Private subnets of the training jobs. */
  readonly subnets: ec2.SubnetSelection;
  /** Security group of the training jobs (must allow traffic among its members for multi-node jobs). */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * MLflow the jobs log to.
   * @default - no MLflow: jobs log to TensorBoard only and get no MLFLOW_TRACKING_ARN
   */
  readonly mlflow?: IMlflowLogging;
  /**
   * Commit of the deployed checkout (read in bin/ or create-stacks, never by a shell call here).
   * @default 'unknown'
   */
  readonly gitSha?: string;
  /**
   * Directory of the training code.
   * @default - the repository's `training-code/`
   */
  readonly codeDirectory?: string;
  /**
   * Image of recipes that set no `platform.training.image_uri`.
   * @default - built from `<codeDirectory>/Dockerfile` when it exists, else the PyTorch training DLC
   */
  readonly trainingImage?: TrainingImage;
  /**
   * SageMaker MetricDefinitions of every job (the training-job contract file).
   * @default - `<codeDirectory>/metric_definitions.json`
   */
  readonly metricDefinitionsFile?: string;
  /**
   * Volume size of a recipe that sets no `platform.training.volume_size_gb`.
   * @default - {@link estimateVolumeSizeGb}
   */
  readonly volumeSizeGb?: (recipe: LoadedRecipe) => number;
  /**
   * Number of nested stacks the pipelines are spread over by a hash of the recipe name. Changing it moves
   * pipelines between nested stacks, which CloudFormation cannot do in one deployment (names collide).
   * @default 8 (room for about 8 × 190 recipes)
   */
  readonly pipelineShards?: number;
  /**
   * Mixed into every definition's content hash; change it to make every pipeline re-read its definition.
   * @default - none
   */
  readonly definitionRevision?: string;
}

/**
 * The training side of the platform: the training code upload, the training job and pipeline roles, and
 * one SageMaker Pipeline + model package group per recipe. Pipelines live in nested stacks (by a stable
 * hash of the recipe name) so that hundreds of recipes stay within CloudFormation's limits.
 */
export class TrainingStack extends cdk.Stack {
  public readonly trainingJobRole: TrainingJobRole;
  public readonly pipelineRole: PipelineExecutionRole;
  /** `s3://<artifacts>/code/training/<hash>/`: the training code channel. */
  public readonly codeS3Uri: string;
  /** The training image URI of recipes without their own. */
  public readonly defaultImageUri: string;
  /** Pipelines by recipe name. */
  public readonly pipelines: ReadonlyMap<string, TrainingPipeline>;
  /** The nested stacks holding the pipelines, by shard number. */
  public readonly shards: ReadonlyMap<number, PipelinesNestedStack>;
  /**
   * Where the jobs get their base model: `staged` (the `model` channel from `base-models/`, Hub offline) unless
   * the VPC has internet egress (`vpc.natGateways`, or `vpc.internetEgress` for an imported VPC): then `hub`.
   */
  public readonly baseModelSource: BaseModelSource;

  constructor(scope: Construct, id: string, props: TrainingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const codeDirectory = props.codeDirectory ?? DEFAULT_CODE_DIRECTORY;
    // the contract files matter only to pipelines; a deployment without recipes does not need them yet.
    const metricDefinitions =
      props.recipes.length > 0
        ? readMetricDefinitions(props.metricDefinitionsFile ?? path.join(codeDirectory, 'metric_definitions.json'))
        : [];
    if (props.recipes.length > 0) assertContractFiles(codeDirectory);

    // ------------------------------------------------------------------
    // Roles
    // ------------------------------------------------------------------
    this.baseModelSource = hasInternetEgress(config.vpc) ? 'hub' : 'staged';
    const extraDatasetUris = [
      ...new Set(props.recipes.map((r) => r.document.platform.data.s3_uri).filter((u): u is string => !!u)),
    ].sort();
    this.trainingJobRole = new TrainingJobRole(this, 'TrainingJobRole', {
      key: props.key,
      artifactsBucket: props.artifactsBucket,
      artifactPrefixes: {
        inputs: [
          ARTIFACT_KEYS.codeRoot,
          ARTIFACT_KEYS.recipesRoot,
          // staged base models: read only; only stage-model (an operator) writes them.
          ...(this.baseModelSource === 'staged' ? [ARTIFACTS_LAYOUT.baseModels] : []),
        ],
        models: ARTIFACT_KEYS.modelsRoot,
        checkpoints: ARTIFACT_KEYS.checkpointsRoot,
      },
      datasetsBucket: props.datasetsBucket,
      extraDatasetLocations: extraDatasetUris.map(parseS3Uri),
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [props.securityGroup],
      mlflow: props.mlflow,
    });
    this.pipelineRole = new PipelineExecutionRole(this, 'PipelineRole', {
      trainingJobRole: this.trainingJobRole,
      jobs: {
        subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
        securityGroupIds: [props.securityGroup.securityGroupId],
        kmsKeyArn: props.key.keyArn,
        maxRuntimeSeconds: props.config.guardrails.maxRuntimeSeconds,
      },
    });

    // ------------------------------------------------------------------
    // Training code (extracted under a content-hashed prefix) and image
    // ------------------------------------------------------------------
    const codeAsset = new s3assets.Asset(this, 'TrainingCode', {
      path: codeDirectory,
      exclude: [...CODE_ASSET_EXCLUDES, 'Dockerfile', '.dockerignore'],
    });
    const codePrefix = ARTIFACT_KEYS.code(codeAsset.assetHash);
    const codeDeployment = new PipelineFileDeployment(this, 'TrainingCodeFiles', {
      artifactsBucket: props.artifactsBucket,
      destinationKeyPrefix: codePrefix,
      sources: [s3deploy.Source.bucket(codeAsset.bucket, codeAsset.s3ObjectKey)],
    });
    this.codeS3Uri = `s3://${props.artifactsBucket.bucketName}/${codePrefix}`;
    const defaultImage = props.trainingImage ?? TrainingImage.defaultFor(codeDirectory);
    this.defaultImageUri = defaultImage.bind(this, this.trainingJobRole).imageUri;
    for (const recipe of props.recipes) {
      const uri = recipe.document.platform.training.image_uri;
      if (uri) {
        try {
          TrainingImage.fromUri(uri).bind(this, this.trainingJobRole);
        } catch (e) {
          throw new Error(`${recipe.file}: platform.training.image_uri: ${(e as Error).message}`);
        }
      }
    }

    // ------------------------------------------------------------------
    // Pipelines, spread over nested stacks
    // ------------------------------------------------------------------
    const shardCount = props.pipelineShards ?? DEFAULT_PIPELINE_SHARDS;
    const byShard = recipesByShard(props.recipes, shardCount);
    // every pipeline's first step: the recipe rules on the execution's values (lib/pipeline/execution-check-step.ts)
    const executionCheck = new ExecutionCheckFunction(this, 'ExecutionCheck', { encryptionKey: props.key });
    executionCheck.grantInvoke(this.pipelineRole);
    const values: TrainingDeployValues = {
      roleArn: this.trainingJobRole.roleArn,
      kmsKeyArn: props.key.keyArn,
      artifactsBucketName: props.artifactsBucket.bucketName,
      datasetsBucketName: props.datasetsBucket.bucketName,
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
      securityGroupIds: [props.securityGroup.securityGroupId],
      defaultImageUri: this.defaultImageUri,
      codeS3Uri: this.codeS3Uri,
      mlflowTrackingArn: props.mlflow?.arn,
      executionCheckFunctionArn: executionCheck.function.functionArn,
    };
    const pipelines = new Map<string, TrainingPipeline>();
    const shards = new Map<number, PipelinesNestedStack>();
    for (const shard of [...byShard.keys()].sort((a, b) => a - b)) {
      const recipes = byShard.get(shard) ?? [];
      const nested = new PipelinesNestedStack(this, `Pipelines${shard}`, {
        description: `${config.namePrefix} ${config.stage}: recipe pipelines, shard ${shard} of ${shardCount}`,
        values,
      });
      recipes.forEach((recipe, i) => {
        const pipeline = new TrainingPipeline(nested, recipe.name, {
          recipe,
          naming: config,
          values: nested.values,
          metricDefinitions,
          volumeSizeGb:
            recipe.document.platform.training.volume_size_gb ?? (props.volumeSizeGb ?? estimateVolumeSizeGb)(recipe),
          gitSha: props.gitSha ?? 'unknown',
          baseModelSource: this.baseModelSource,
          executionCheckConfig: {
            namePrefix: config.namePrefix,
            stage: config.stage,
            prices: config.prices,
            account: config.account,
            guardrails: config.guardrails,
          },
          pipelineRole: this.pipelineRole.role,
          artifactsBucket: nested.artifactsBucket,
          definitionRevision: props.definitionRevision,
          fileDeployment: nested.fileDeployment(Math.floor(i / RECIPES_PER_FILE_DEPLOYMENT)),
        });
        // the code must be in place before any pipeline can run a job that reads it.
        pipeline.node.addDependency(codeDeployment);
        pipelines.set(recipe.name, pipeline);
      });
      shards.set(shard, nested);
    }
    this.pipelines = pipelines;
    this.shards = shards;
  }
}
