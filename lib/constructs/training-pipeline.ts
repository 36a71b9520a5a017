import * as crypto from 'node:crypto';
import * as cdk from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import type { LoadedRecipe } from '../config/load-recipes';
import { modelPackageGroupName, type NamingContext, pipelineName } from '../config/naming';
import {
  ARTIFACT_KEYS,
  type BaseModelSource,
  buildTrainingPipeline,
  type MetricDefinition,
  type PipelineDefinition,
  type TrainingDeployValues,
} from '../pipeline';
import type { LintConfig } from '../recipes/rules/rule-support';
import { PipelineFileDeployment } from './pipeline-file-deployment';

/** Properties of a {@link TrainingPipeline}. */
export interface TrainingPipelineProps {
  /** The validated recipe this pipeline runs. */
  readonly recipe: LoadedRecipe;
  /** Prefix and stage: the pipeline and model package group names come from `naming.ts`. */
  readonly naming: NamingContext;
  /** Deploy-time values of the training jobs (role, key, buckets, network, image, code location). */
  readonly values: TrainingDeployValues;
  /** `training-code/metric_definitions.json`. */
  readonly metricDefinitions: readonly MetricDefinition[];
  /** EBS volume per training instance, from the recipe or the estimator. */
  readonly volumeSizeGb: number;
  /** Commit of the deployed checkout, recorded on every job. */
  readonly gitSha: string;
  /**
   * Where the jobs get the base model (see {@link BaseModelSource}).
   * @default 'staged'
   */
  readonly baseModelSource?: BaseModelSource;
  /**
   * The config the first step's recipe check reads (with `values.executionCheckFunctionArn`).
   * @default - no check step
   */
  readonly executionCheckConfig?: LintConfig;
  /** Role SageMaker Pipelines assumes to run this pipeline. */
  readonly pipelineRole: iam.IRole;
  /** Where the definition file and the recipe channel are uploaded (the artifacts bucket). */
  readonly artifactsBucket: s3.IBucket;
  /**
   * The BucketDeployment that uploads this pipeline's files, shared by the pipelines of one stack to save
   * resources (each deployment adds a custom resource and a Lambda layer).
   * @default - a BucketDeployment of its own
   */
  readonly fileDeployment?: s3deploy.BucketDeployment;
  /**
   * Mixed into the definition's content hash. Change it to force every pipeline to re-read its definition,
   * e.g. after a resource the definition names (VPC, role) was replaced under the same logical ID.
   * @default - none
   */
  readonly definitionRevision?: string;
}

/**
 * One recipe's SageMaker Pipeline and model package group. The pipeline definition is built by the typed
 * builder and stored in S3 under a content-hashed key (`PipelineDefinitionS3Location`, never inline), next
 * to the recipe file the job reads as its `recipe` channel. Both are written by a BucketDeployment, which
 * substitutes the deploy-time values (ARNs, bucket names, subnet ids) into the files.
 */
export class TrainingPipeline extends Construct {
  /** Lowercase pipeline name, e.g. `gptoss-dev-sft-lora-20b`. */
  public readonly pipelineName: string;
  public readonly pipelineArn: string;
  public readonly modelPackageGroupName: string;
  public readonly modelPackageGroupArn: string;
  /** The definition as built (with tokens where deploy-time values go). */
  public readonly definition: PipelineDefinition;
  /** Key of the definition file in the artifacts bucket. */
  public readonly definitionKey: string;
  /** Prefix of the recipe channel in the artifacts bucket (holds exactly `<recipe>.yaml`). */
  public readonly recipePrefix: string;
  public readonly resource: sagemaker.CfnPipeline;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    const { recipe, naming } = props;
    const stack = cdk.Stack.of(this);

    this.definition = buildTrainingPipeline(recipe, props.values, {
      metricDefinitions: props.metricDefinitions,
      volumeSizeGb: props.volumeSizeGb,
      gitSha: props.gitSha,
      baseModelSource: props.baseModelSource,
      executionCheckConfig: props.executionCheckConfig,
    });
    const definitionJson = this.definition.toJson();
    // size check on the rendered text (tokens stand in for the short deploy-time values).
    this.definition.render();
    // the key changes when the definition or any CloudFormation expression in it changes.
    const hash = crypto
      .createHash('sha256')
      .update(JSON.stringify(stack.resolve(definitionJson)))
      .update(props.definitionRevision ?? '')
      .digest('hex')
      .slice(0, 16);
    this.definitionKey = ARTIFACT_KEYS.definition(recipe.name, hash);
    this.recipePrefix = ARTIFACT_KEYS.recipePrefix(recipe.name, recipe.hash);

    const sources = [
      s3deploy.Source.data(`${this.recipePrefix}${recipe.name}.yaml`, recipe.source),
      s3deploy.Source.jsonData(this.definitionKey, definitionJson),
    ];
    let files = props.fileDeployment;
    if (files) {
      sources.forEach((source) => files?.addSource(source));
    } else {
      files = new PipelineFileDeployment(this, 'Files', { artifactsBucket: props.artifactsBucket, sources });
    }

    this.modelPackageGroupName = modelPackageGroupName(naming, recipe.name);
    const group = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription: `Fine-tuned models of ${recipe.file}`,
    });
    // registered models outlive their recipe: removing recipes/<name>.yaml removes the pipeline, not the group.
    group.applyRemovalPolicy(cdk.RemovalPolicy.RETAIN);
    this.modelPackageGroupArn = group.attrModelPackageGroupArn;

    this.pipelineName = pipelineName(naming, recipe.name);
    const description = recipe.document.platform.description;
    this.resource = new sagemaker.CfnPipeline(this, 'Resource', {
      pipelineName: this.pipelineName,
      pipelineDisplayName: this.pipelineName,
      pipelineDescription: `${description ? `${description} ` : ''}(${recipe.file}, recipe ${recipe.hash})`.slice(
        0,
        3072,
      ),
      roleArn: props.pipelineRole.roleArn,
      // `pipelineDefinition` is untyped in CDK, so its keys are written as CloudFormation spells them.
      pipelineDefinition: {
        PipelineDefinitionS3Location: { Bucket: props.values.artifactsBucketName, Key: this.definitionKey },
      },
    });
    // the definition file must exist before CloudFormation creates or updates the pipeline from it.
    this.resource.node.addDependency(files);
    this.pipelineArn = stack.formatArn({ service: 'sagemaker', resource: 'pipeline', resourceName: this.pipelineName });
  }
}
