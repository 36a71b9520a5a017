import * as crypto from 'node:crypto';
import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct, type IConstruct } from 'constructs';
import type { LoadedRecipe } from '../config/load-recipes';
import { modelPackageGroupName, type NamingContext, pipelineName } from '../config/naming';
import {
  FILE_DEPLOYMENT_KMS_ACTIONS,
  FILE_DEPLOYMENT_LIST_ACTIONS,
  FILE_DEPLOYMENT_READ_ACTIONS,
  FILE_DEPLOYMENT_WRITE_ACTIONS,
} from '../iam/training-perms';
import {
  ARTIFACT_KEYS,
  buildTrainingPipeline,
  type MetricDefinition,
  type PipelineDefinition,
  type TrainingDeployValues,
} from '../pipeline';
import { acknowledgeGrantPolicy, acknowledgeRegulatedRule, acknowledgeWildcardResources } from './compliance';

/** Properties of a {@link PipelineFileDeployment}. */
export interface PipelineFileDeploymentProps {
  /** Destination: the artifacts bucket (its key also encrypts the handler's log group). */
  readonly artifactsBucket: s3.IBucket;
  /** @default - none yet; add them with `addSource` */
  readonly sources?: s3deploy.ISource[];
  /** @default - the bucket root (keys carry their own prefixes) */
  readonly destinationKeyPrefix?: string;
}

/**
 * Uploads pipeline files (definitions, recipe channels, code) into the artifacts bucket with CDK's
 * BucketDeployment, substituting deploy-time values. Keys are content-addressed, so nothing is pruned:
 * older objects stay for rollbacks and for the jobs that used them. All deployments of a stack share one
 * handler, one role and one KMS-encrypted log group. The handler's role gets exact grants (read the staged
 * sources, list and write the artifacts bucket, the key through S3) instead of BucketDeployment's broad ones.
 */
export class PipelineFileDeployment extends s3deploy.BucketDeployment {
  private readonly support: FileDeploymentSupport;

  constructor(scope: Construct, id: string, props: PipelineFileDeploymentProps) {
    const support = FileDeploymentSupport.of(cdk.Stack.of(scope), props.artifactsBucket);
    super(scope, id, {
      destinationBucket: props.artifactsBucket,
      destinationKeyPrefix: props.destinationKeyPrefix,
      sources: (props.sources ?? []).map((source) => support.granting(source)),
      prune: false,
      retainOnDelete: true,
      outputObjectKeys: false,
      // BucketDeployment's own grants go nowhere; FileDeploymentSupport grants exactly what the copy needs.
      role: support.role.withoutPolicyUpdates(),
      logGroup: support.logGroup,
    });
    this.support = support;
  }

  public addSource(source: s3deploy.ISource): void {
    super.addSource(this.support.granting(source));
  }
}

/** The role and log group shared by a stack's file deployments, with their exact grants. */
class FileDeploymentSupport extends Construct {
  public static of(stack: cdk.Stack, artifactsBucket: s3.IBucket): FileDeploymentSupport {
    const id = 'PipelineFileDeploymentSupport';
    const existing = stack.node.tryFindChild(id) as FileDeploymentSupport | undefined;
    return existing ?? new FileDeploymentSupport(stack, id, artifactsBucket);
  }

  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  private readonly sourceBuckets = new Set<string>();

  private constructor(scope: Construct, id: string, artifactsBucket: s3.IBucket) {
    super(scope, id);
    const key = artifactsBucket.encryptionKey;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Copies pipeline files from the CDK asset bucket to the artifacts bucket at deploy time',
    });
    this.logGroup.grantWrite(this.role);
    // `aws s3 sync` lists the destination, then puts (multipart for large files) with the bucket's KMS key.
    const objects = artifactsBucket.arnForObjects('*');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: FILE_DEPLOYMENT_LIST_ACTIONS, resources: [artifactsBucket.bucketArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: FILE_DEPLOYMENT_WRITE_ACTIONS, resources: [objects] }),
    );
    if (key) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: FILE_DEPLOYMENT_KMS_ACTIONS,
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${cdk.Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    acknowledgeGrantPolicy(this.role, 'the deploy-time copy of pipeline files');
    acknowledgeWildcardResources(
      this.role,
      [objects],
      'Writes the content-addressed pipeline files (code/, pipelines/, serving/) whose keys are computed at synthesis; no delete.',
    );
    let acknowledged = false;
    this.node.addValidation({
      validate: () => {
        if (acknowledged) return [];
        acknowledged = true;
        const handler = cdk.Stack.of(this).node.tryFindChild(BUCKET_DEPLOYMENT_HANDLER_ID);
        if (handler) acknowledgeBucketDeploymentHandler(handler);
        return [];
      },
    });
  }

  /** Wraps a source so that binding it grants this role read on its staged object's bucket. */
  public granting(source: s3deploy.ISource): s3deploy.ISource {
    return {
      bind: (scope, context) => {
        const config = source.bind(scope, context);
        const objects = config.bucket.arnForObjects('*');
        const key = JSON.stringify(cdk.Stack.of(this).resolve(objects));
        if (!this.sourceBuckets.has(key)) {
          this.sourceBuckets.add(key);
          this.role.addToPrincipalPolicy(
            new iam.PolicyStatement({ actions: FILE_DEPLOYMENT_READ_ACTIONS, resources: [objects] }),
          );
          acknowledgeWildcardResources(
            this.role,
            [objects],
            'Reads the staged CDK assets, whose object keys are content hashes computed at synthesis.',
          );
        }
        return config;
      },
    };
  }
}

/** The id CDK gives the per-stack BucketDeployment handler (a singleton). */
const BUCKET_DEPLOYMENT_HANDLER_ID = 'Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C';

/** Acknowledges the findings on CDK's own BucketDeployment handler function, each with its reason. */
function acknowledgeBucketDeploymentHandler(handler: IConstruct): void {
  cdk.Validations.of(handler).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      "The runtime of CDK's BucketDeployment handler is set by aws-cdk-lib and moves with it; it only copies files.",
  });
  acknowledgeRegulatedRule(
    handler,
    'LambdaConcurrency',
    'Runs only during CloudFormation deployments, one invocation per file set; there is no concurrency to reserve.',
  );
  acknowledgeRegulatedRule(
    handler,
    'LambdaDLQ',
    'Invoked by CloudFormation, which waits for the response and fails the deployment on error; no event is lost.',
  );
  acknowledgeRegulatedRule(
    handler,
    'LambdaInsideVPC',
    'Copies files from the CDK asset bucket to the artifacts bucket at deploy time; it reaches only S3, nothing in the VPC.',
  );
}
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
