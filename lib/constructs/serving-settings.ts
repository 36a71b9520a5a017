import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ARTIFACTS_LAYOUT } from '../config/artifacts-layout';
import { KMS_VIA_S3_READ_ACTIONS, S3_BUCKET_LIST_ACTIONS, S3_OBJECT_READ_ACTIONS } from '../iam/perms';
import type { ServingPlan } from '../recipes/serving-plan';
import { acknowledgeWildcardResources } from './compliance';
import { PipelineFileDeployment } from './pipeline-file-deployment';

/**
 * The per-recipe settings of the REGISTER and DEPLOY state machines, as one small JSON object per recipe in
 * the artifacts bucket (`serving/<revision>/<pipeline or group name>.json`) instead of a lookup table in
 * each definition, so that the definitions (and the deployment stack's template) do not grow with the
 * number of recipes. The machines find the object by the name in their event and read it with the
 * `aws-sdk:s3` integrations; a name without an object is not a recipe of this deployment.
 *
 * Everything the objects hold is plain data, free of CDK tokens, so tests upload exactly what the stack
 * deploys by calling {@link servingSettingsFiles} with the same plans.
 */

/**
 * The environment the training job sets, which REGISTER copies into the package's provenance metadata (the
 * training-job contract).
 */
export interface ProvenanceEnvironment {
  readonly RECIPE_NAME: string;
  readonly RECIPE_HASH: string;
  readonly GIT_SHA: string;
  readonly DATASET_URI: string;
  readonly MLFLOW_TRACKING_ARN: string;
  readonly MLFLOW_EXPERIMENT_NAME: string;
}

/** What the REGISTER machine reads as `$.recipe`. */
export interface RegisterSettings {
  readonly recipe: string;
  readonly groupName: string;
  readonly endpointName: string;
  readonly approvalStatus: ServingPlan['approvalStatus'];
  /**
   * The serving image of a recipe with `platform.serving.image_uri`. Absent for the vLLM DLC, whose URI
   * depends on the region; the machine fills it in from its definition.
   */
  readonly image?: string;
  readonly instanceTypes: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** What the training job sets (contract); defaults for a job that was started by hand without them. */
  readonly defaultEnvironment: ProvenanceEnvironment;
}

/** What the DEPLOY machine reads as `$.settings`. */
export interface DeploySettings {
  readonly recipe: string;
  readonly endpointName: string;
  readonly resourceBase: string;
  readonly instanceType: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly dataCapture: boolean;
  readonly environment: Readonly<Record<string, string>>;
}

/** The content of one settings object. */
export interface RecipeSettingsDocument {
  readonly register: RegisterSettings;
  readonly deploy: DeploySettings;
}

/** One settings object: its name (a pipeline or model package group name), key and JSON body. */
export interface SettingsFile {
  readonly name: string;
  /** Full key in the artifacts bucket, `<prefix><name>.json`. */
  readonly key: string;
  readonly body: string;
}

/** The settings objects of a set of plans, under their content-addressed prefix. */
export interface SettingsFiles {
  /** `serving/<revision>/`: changes whenever any object's name or content changes. */
  readonly prefix: string;
  readonly files: readonly SettingsFile[];
}

/** The settings document of one recipe. */
export function recipeSettingsDocument(plan: ServingPlan): RecipeSettingsDocument {
  return {
    register: {
      recipe: plan.recipe,
      groupName: plan.modelPackageGroupName,
      endpointName: plan.endpointName,
      approvalStatus: plan.approvalStatus,
      ...(plan.image.kind === 'custom' ? { image: plan.image.uri } : {}),
      instanceTypes: [plan.instanceType],
      environment: plan.environment,
      defaultEnvironment: {
        RECIPE_NAME: plan.recipe,
        RECIPE_HASH: plan.recipeHash,
        GIT_SHA: 'unknown',
        DATASET_URI: 'unknown',
        MLFLOW_TRACKING_ARN: 'none',
        MLFLOW_EXPERIMENT_NAME: plan.recipe,
      },
    },
    deploy: {
      recipe: plan.recipe,
      endpointName: plan.endpointName,
      resourceBase: plan.resourceBase,
      instanceType: plan.instanceType,
      minInstances: plan.minInstances,
      maxInstances: plan.maxInstances,
      dataCapture: plan.dataCapture,
      environment: plan.environment,
    },
  };
}

/**
 * Every settings object of `plans`: one per pipeline name (what REGISTER's event names) and per model
 * package group name (DEPLOY's); naming.ts makes the two equal, so normally one per recipe. The prefix is a
 * hash of all names and bodies, so a changed recipe gets new objects and the old ones stay for executions
 * that started before the change.
 */
export function servingSettingsFiles(plans: readonly ServingPlan[]): SettingsFiles {
  const bodies = new Map<string, { recipe: string; body: string }>();
  for (const plan of [...plans].sort((a, b) => a.recipe.localeCompare(b.recipe))) {
    const body = JSON.stringify(recipeSettingsDocument(plan));
    for (const name of new Set([plan.pipelineName, plan.modelPackageGroupName])) {
      const other = bodies.get(name);
      if (other) {
        throw new Error(
          `${plan.file}: recipe "${plan.recipe}" and recipe "${other.recipe}" both map to the pipeline or model ` +
            `package group name "${name}"; rename one of the recipe files`,
        );
      }
      bodies.set(name, { recipe: plan.recipe, body });
    }
  }
  const names = [...bodies.keys()].sort();
  const hash = crypto.createHash('sha256');
  for (const name of names)
    hash
      .update(name)
      .update('\0')
      .update(bodies.get(name)?.body ?? '')
      .update('\0');
  const prefix = `${ARTIFACTS_LAYOUT.serving}${hash.digest('hex').slice(0, 16)}/`;
  return {
    prefix,
    files: names.map((name) => ({ name, key: `${prefix}${name}.json`, body: bodies.get(name)?.body ?? '' })),
  };
}

/** Properties of a {@link ServingSettings}. */
export interface ServingSettingsProps {
  /** One per recipe of the deployment. */
  readonly plans: readonly ServingPlan[];
  /** Where the objects go (under `serving/`), encrypted with its key. */
  readonly artifactsBucket: s3.IBucket;
}

/** Props of {@link ServingSettings.lookup}. */
export interface SettingsLookupOptions {
  /** JSONPath of the pipeline or model package group name in the state, e.g. `$.run.pipelineName`. */
  readonly namePath: string;
  /** Which half of the document the machine reads. */
  readonly section: keyof RecipeSettingsDocument;
  /** Where the settings go; also the scratch space of the lookup. */
  readonly resultPath: string;
  /** Runs with the settings at `resultPath`. */
  readonly next: sfn.IChainable;
  /** Runs when the name has no settings object: not a recipe of this deployment. */
  readonly otherwise: sfn.IChainable;
  /** Receives `$.error` (`Error`, `Cause`) when S3 cannot be read, and the step name it failed at. */
  readonly onError: (step: string) => sfn.IChainable;
}

/**
 * Deploys the settings objects of every recipe to `serving/<revision>/` in the artifacts bucket (one zip
 * asset, extracted by a {@link PipelineFileDeployment}: its request carries one source whatever the number
 * of recipes), and builds the state machine steps that read them.
 */
export class ServingSettings extends Construct {
  /** `serving/<revision>/`. */
  public readonly prefix: string;
  /** The objects, as deployed. */
  public readonly files: readonly SettingsFile[];
  public readonly bucket: s3.IBucket;
  /** The staged directory's asset (undefined without recipes). */
  public readonly asset?: s3assets.Asset;
  /** Writes the objects at deploy time (undefined without recipes); readers must depend on it. */
  public readonly deployment?: PipelineFileDeployment;

  constructor(scope: Construct, id: string, props: ServingSettingsProps) {
    super(scope, id);
    const { prefix, files } = servingSettingsFiles(props.plans);
    this.prefix = prefix;
    this.files = files;
    this.bucket = props.artifactsBucket;
    if (files.length === 0) return;

    const dir = cdk.FileSystem.mkdtemp('serving-settings');
    for (const file of files) fs.writeFileSync(path.join(dir, `${file.name}.json`), file.body);
    this.asset = new s3assets.Asset(this, 'Files', { path: dir });
    this.deployment = new PipelineFileDeployment(this, 'Deployment', {
      artifactsBucket: props.artifactsBucket,
      destinationKeyPrefix: prefix,
      sources: [s3deploy.Source.bucket(this.asset.bucket, this.asset.s3ObjectKey)],
    });
  }

  /** True when at least one recipe has settings (else every event is someone else's). */
  public get hasRecipes(): boolean {
    return this.files.length > 0;
  }

  /**
   * Lets `grantee` find and read the settings objects: `s3:ListBucket` limited to `serving/` (with it, S3
   * answers a missing key with 404 rather than 403), `s3:GetObject` on `serving/*`, and `kms:Decrypt` with
   * the bucket's key through S3 only.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const root = ARTIFACTS_LAYOUT.serving;
    const objects = this.bucket.arnForObjects(`${root}*`);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: S3_OBJECT_READ_ACTIONS, resourceArns: [objects] });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: S3_BUCKET_LIST_ACTIONS,
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${root}*`] } },
      }),
    );
    const key = this.bucket.encryptionKey;
    if (key) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: KMS_VIA_S3_READ_ACTIONS,
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${cdk.Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) {
      acknowledgeWildcardResources(
        principal,
        [objects],
        `Reads the recipe settings objects under ${root}<revision>/<name>.json; the name comes from the event at run time.`,
      );
    }
    return grant;
  }

  /**
   * The steps that put the settings of the name at `namePath` at `resultPath`: ListObjectsV2 on the exact
   * key (no object: `otherwise`), GetObject, `States.StringToJson`, then the machine's `section`. S3 errors
   * go to `onError(step)` with the error at `$.error`. The caller grants {@link grantRead} and depends on
   * {@link deployment}; {@link ServingSettings.bindTo} does both.
   */
  public lookup(scope: Construct, options: SettingsLookupOptions): sfn.IChainable {
    // with no recipes every event is someone else's: no S3 call, no grant needed.
    if (!this.hasRecipes) return options.otherwise;
    const key = sfn.JsonPath.format(`${this.prefix}{}.json`, sfn.JsonPath.stringAt(options.namePath));
    const findName = 'Find recipe settings';
    const readName = 'Read recipe settings';
    // a Task in ASL, so that the s3:ListBucket grant keeps its s3:prefix condition (CallAwsService would add
    // an unconditional one).
    const find = new sfn.CustomState(scope, findName, {
      stateJson: {
        Type: 'Task',
        Comment: 'Is there a settings object for this name? (s3:ListBucket is limited to the serving/ prefix)',
        Resource: `arn:${cdk.Aws.PARTITION}:states:::aws-sdk:s3:listObjectsV2`,
        Parameters: { Bucket: this.bucket.bucketName, 'Prefix.$': key, MaxKeys: 1 },
        ResultSelector: { 'count.$': '$.KeyCount' },
        ResultPath: options.resultPath,
      },
    });
    find.addCatch(options.onError(findName), { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const read = tasks.CallAwsService.jsonPath(scope, readName, {
      service: 's3',
      action: 'getObject',
      parameters: { Bucket: this.bucket.bucketName, Key: key },
      iamResources: [this.bucket.arnForObjects(`${ARTIFACTS_LAYOUT.serving}*`)],
      iamAction: S3_OBJECT_READ_ACTIONS[0],
      resultSelector: { value: sfn.JsonPath.stringToJson(sfn.JsonPath.stringAt('$.Body')) },
      resultPath: options.resultPath,
    });
    read.addCatch(options.onError(readName), { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const select = new sfn.Pass(scope, `Select ${options.section} settings`, {
      inputPath: `${options.resultPath}.value.${options.section}`,
      resultPath: options.resultPath,
    });
    find.next(
      new sfn.Choice(scope, 'Recipe of this deployment?')
        .when(sfn.Condition.numberGreaterThan(`${options.resultPath}.count`, 0), read)
        .otherwise(options.otherwise),
    );
    read.next(select).next(options.next);
    return find;
  }

  /** Grants `stateMachine` read access and makes it wait for the objects on every deployment. */
  public bindTo(stateMachine: sfn.StateMachine): void {
    if (!this.hasRecipes) return;
    this.grantRead(stateMachine);
    if (this.deployment) stateMachine.node.addDependency(this.deployment);
  }
}
