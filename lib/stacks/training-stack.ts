import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { type AppConfig, hasInternetEgress } from '../config/app-config';
import { ARTIFACT_KEYS, ARTIFACTS_LAYOUT } from '../config/artifacts-layout';
import { ConfigError } from '../config/errors';
import type { LoadedRecipe } from '../config/load-recipes';
import { ExecutionCheckFunction } from '../constructs/execution-check/execution-check-function';
import { PipelineFileDeployment } from '../constructs/pipeline-file-deployment';
import { PipelineExecutionRole } from '../constructs/pipeline-role';
import { CODE_ASSET_EXCLUDES, TrainingImage } from '../constructs/training-image';
import { TrainingPipeline } from '../constructs/training-pipeline';
import { type IMlflowLogging, parseS3Uri, TrainingJobRole } from '../constructs/training-role';
import type { BaseModelSource, MetricDefinition, TrainingDeployValues } from '../pipeline';
import { estimateVolumeSizeGb } from '../recipes/volume-estimator';

/** The repository's training code (the `code` channel and, with a Dockerfile, the image build context). */
export const DEFAULT_CODE_DIRECTORY = path.resolve(__dirname, '..', '..', 'training-code');

/** Resources per recipe: the pipeline and its model package group (files share one deployment per stack). */
export const RESOURCES_PER_RECIPE = 2;
/** CloudFormation's per-template resource limit, and the share of it a pipelines stack may use. */
export const CFN_RESOURCE_LIMIT = 500;
export const RESOURCE_BUDGET = 0.8;
/**
 * Other resources of a pipelines nested stack: the deployment handler's function, role, policy and log group
 * (4), and a custom resource plus a Lambda layer per {@link RECIPES_PER_FILE_DEPLOYMENT} recipes (16 at 190).
 */
const SHARD_OVERHEAD_RESOURCES = 20;
/**
 * Recipes one nested stack holds at most, keeping it under 80% of the resource limit (the template stays
 * far below 80% of 1 MB: about 1.6 KB per recipe, measured by test/bench/synth-scale.ts).
 */
export const MAX_RECIPES_PER_SHARD = Math.floor(
  (CFN_RESOURCE_LIMIT * RESOURCE_BUDGET - SHARD_OVERHEAD_RESOURCES) / RESOURCES_PER_RECIPE,
);
/** Default number of pipeline nested stacks; fixed so that adding a recipe never moves another one. */
export const DEFAULT_PIPELINE_SHARDS = 8;

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
    if (!Number.isInteger(shardCount) || shardCount < 1) {
      throw new Error(`pipelineShards must be a whole number of at least 1, found ${shardCount}`);
    }
    // every pipeline's first step: the recipe rules on the execution's values (lib/pipeline/execution-check-step.ts)
    const executionCheck = new ExecutionCheckFunction(this, 'ExecutionCheck', { encryptionKey: props.key });
    executionCheck.grantInvoke(this.pipelineRole);
    const byShard = new Map<number, LoadedRecipe[]>();
    for (const recipe of [...props.recipes].sort((a, b) => a.name.localeCompare(b.name))) {
      const shard = shardOf(recipe.name, shardCount);
      byShard.set(shard, [...(byShard.get(shard) ?? []), recipe]);
    }
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
      if (recipes.length > MAX_RECIPES_PER_SHARD) {
        // the number of recipe files is user input: a ConfigError (message, no stack trace), not a bug.
        throw new ConfigError('(recipes)', [
          `pipelines nested stack ${shard} would hold ${recipes.length} recipes, more than ${MAX_RECIPES_PER_SHARD} ` +
            `(80% of CloudFormation's ${CFN_RESOURCE_LIMIT} resources or 1 MB); raise pipelineShards (now ${shardCount}) ` +
            'and deploy it once with every pipeline removed, since pipelines cannot move between stacks in place',
        ]);
      }
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

/**
 * Recipes whose files one BucketDeployment uploads. Its custom resource request carries every deploy-time
 * value of those files (about 2.5 KB per recipe), and Lambda caps an asynchronous invocation at 256 KB.
 */
export const RECIPES_PER_FILE_DEPLOYMENT = 25;

interface PipelinesNestedStackProps extends cdk.NestedStackProps {
  /** The deploy-time values, resolved in the parent; passed in as this stack's parameters. */
  readonly values: TrainingDeployValues;
}

/**
 * One shard of recipe pipelines. The deploy-time values enter as stack parameters, so each occurrence in a
 * definition is a short `Ref` rather than a cross-stack expression (this keeps templates and the file
 * deployments' requests small).
 */
export class PipelinesNestedStack extends cdk.NestedStack {
  /** The deploy-time values as this stack's parameters (each declared on first use). */
  public readonly values: TrainingDeployValues;
  /** The artifacts bucket, imported from this stack's parameters. */
  public readonly artifactsBucket: s3.IBucket;
  private readonly deployments: PipelineFileDeployment[] = [];

  constructor(scope: Construct, id: string, props: PipelinesNestedStackProps) {
    super(scope, id, props);
    const v = props.values;
    // a parameter is declared (and passed by the parent) only when a definition uses it: no unused parameters.
    const lazy = (name: string, value: string): (() => string) => {
      let ref: string | undefined;
      return () => {
        if (ref === undefined) {
          ref = new cdk.CfnParameter(this, name, { type: 'String' }).valueAsString;
          this.setParameter(name, value);
        }
        return ref;
      };
    };
    const roleArn = lazy('TrainingJobRoleArn', v.roleArn);
    const kmsKeyArn = lazy('KmsKeyArn', v.kmsKeyArn);
    const artifactsBucketName = lazy('ArtifactsBucketName', v.artifactsBucketName);
    const datasetsBucketName = lazy('DatasetsBucketName', v.datasetsBucketName);
    const subnetIds = v.subnetIds.map((id, i) => lazy(`SubnetId${i + 1}`, id));
    const securityGroupIds = v.securityGroupIds.map((id, i) => lazy(`SecurityGroupId${i + 1}`, id));
    const defaultImageUri = lazy('DefaultImageUri', v.defaultImageUri);
    const codeS3Uri = lazy('CodeS3Uri', v.codeS3Uri);
    const mlflowTrackingArn =
      v.mlflowTrackingArn !== undefined ? lazy('MlflowTrackingArn', v.mlflowTrackingArn) : undefined;
    const executionCheckFunctionArn =
      v.executionCheckFunctionArn !== undefined
        ? lazy('ExecutionCheckFunctionArn', v.executionCheckFunctionArn)
        : undefined;
    this.values = {
      get roleArn() {
        return roleArn();
      },
      get kmsKeyArn() {
        return kmsKeyArn();
      },
      get artifactsBucketName() {
        return artifactsBucketName();
      },
      get datasetsBucketName() {
        return datasetsBucketName();
      },
      get subnetIds() {
        return subnetIds.map((f) => f());
      },
      get securityGroupIds() {
        return securityGroupIds.map((f) => f());
      },
      get defaultImageUri() {
        return defaultImageUri();
      },
      get codeS3Uri() {
        return codeS3Uri();
      },
      get mlflowTrackingArn() {
        return mlflowTrackingArn?.();
      },
      get executionCheckFunctionArn() {
        return executionCheckFunctionArn?.();
      },
    };
    this.artifactsBucket = s3.Bucket.fromBucketAttributes(this, 'ArtifactsBucket', {
      bucketName: this.values.artifactsBucketName,
      encryptionKey: kms.Key.fromKeyArn(this, 'Key', this.values.kmsKeyArn),
    });
  }

  /** The n-th file deployment of this stack (created on first use). */
  public fileDeployment(n: number): PipelineFileDeployment {
    while (this.deployments.length <= n) {
      this.deployments.push(
        new PipelineFileDeployment(this, `PipelineFiles${this.deployments.length + 1}`, {
          artifactsBucket: this.artifactsBucket,
        }),
      );
    }
    return this.deployments[n];
  }
}

/** The nested stack a recipe's pipeline lives in: a stable hash of its name, so adding recipes moves none. */
export function shardOf(recipeName: string, shardCount: number): number {
  const h = crypto.createHash('sha256').update(recipeName).digest();
  return (h.readUInt32BE(0) % shardCount) + 1;
}

/** Reads and checks the MetricDefinitions file of the training-job contract. */
export function readMetricDefinitions(file: string): MetricDefinition[] {
  if (!fs.existsSync(file)) {
    throw new Error(
      `${file} not found: the training code must ship its SageMaker MetricDefinitions there ` +
        '([{"Name": "eval_loss", "Regex": "..."}, ...]); the pipelines read it at synth',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length === 0 ||
    !parsed.every(
      (m) =>
        m !== null &&
        typeof m === 'object' &&
        typeof (m as MetricDefinition).Name === 'string' &&
        typeof (m as MetricDefinition).Regex === 'string',
    )
  ) {
    throw new Error(`${file}: expected a non-empty list of {"Name": "...", "Regex": "..."} objects`);
  }
  return (parsed as MetricDefinition[]).map((m) => ({ Name: m.Name, Regex: m.Regex }));
}

/** The training-job contract's entrypoint must exist in the code directory. */
function assertContractFiles(codeDirectory: string): void {
  const launcher = path.join(codeDirectory, 'launch.py');
  if (!fs.existsSync(launcher)) {
    throw new Error(
      `${launcher} not found: the pipelines start jobs with ["python3", "/opt/ml/input/data/code/launch.py"] ` +
        '(training-job contract); add the launcher to the training code',
    );
  }
}
