import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { LoadedRecipe } from '../../lib/config/load-recipes';
import { allowCloudWatchLogs } from '../../lib/constructs/logs-key-policy';
import type { Json } from '../../lib/pipeline';
import { TrainingStack, type TrainingStackProps } from '../../lib/stacks/training-stack';
import { appContext, testConfig, type TemplateJson } from '../support/template';
import { fixtureRecipe, METRIC_DEFINITIONS_FIXTURE, type Obj } from './support';

/** The platform resources a TrainingStack consumes, created by the test itself. */
export class TrainingDepsStack extends cdk.Stack {
  public readonly key: kms.Key;
  public readonly artifactsBucket: s3.Bucket;
  public readonly datasetsBucket: s3.Bucket;
  public readonly vpc: ec2.Vpc;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly mlflowArn: string;

  constructor(scope: cdk.App, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    this.key = new kms.Key(this, 'Key', { enableKeyRotation: true });
    // as the data stack does: CloudWatch Logs of this account may use the key for log groups.
    allowCloudWatchLogs(this.key);
    const bucket = (name: string) =>
      new s3.Bucket(this, name, {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.key,
        enforceSSL: true,
        versioned: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      });
    this.artifactsBucket = bucket('Artifacts');
    this.datasetsBucket = bucket('Datasets');
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'TrainingSg', { vpc: this.vpc, allowAllOutbound: false });
    this.mlflowArn = this.formatArn({
      service: 'sagemaker',
      resource: 'mlflow-tracking-server',
      resourceName: 'gptoss-dev',
    });
  }
}

export interface TrainingTestApp {
  readonly app: cdk.App;
  readonly deps: TrainingDepsStack;
  readonly stack: TrainingStack;
}

/** An app with the deps stack and a TrainingStack over `recipes`, synthesized like the real app (no bundling). */
export function trainingTestApp(
  recipes: readonly LoadedRecipe[],
  overrides: Partial<TrainingStackProps> = {},
  outdir?: string,
): TrainingTestApp {
  const app = new cdk.App({ context: appContext(), outdir });
  const config = testConfig();
  const deps = new TrainingDepsStack(app, 'Deps');
  const mlflowArn = deps.mlflowArn;
  const stack = new TrainingStack(app, 'Training', {
    config,
    recipes,
    key: deps.key,
    artifactsBucket: deps.artifactsBucket,
    datasetsBucket: deps.datasetsBucket,
    vpc: deps.vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroup: deps.securityGroup,
    mlflow: {
      arn: mlflowArn,
      grantLogging: (grantee) =>
        iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker-mlflow:LogMetric'], resourceArns: [mlflowArn] }),
    },
    gitSha: '0123456789abcdef0123456789abcdef01234567',
    // a fixture in the contract's shape: the stack's own tests do not depend on the training code's file,
    // which test/pipeline/app-wiring.test.ts checks through the real createStacks.
    metricDefinitionsFile: METRIC_DEFINITIONS_FIXTURE,
    ...overrides,
  });
  return { app, deps, stack };
}

/** The two fixture recipes the stack tests synthesize together. */
export const RECIPES = () => [fixtureRecipe('sft-lora-20b'), fixtureRecipe('minimal-120b')];

/**
 * A {@link trainingTestApp} over {@link RECIPES}, synthesized, and its parent template. Synthesis is the slow
 * part: training-stack.test.ts builds one in `beforeAll` and shares it between its read-only assertions.
 */
export function synthesizedTrainingApp(): { shared: TrainingTestApp; parent: Template } {
  const shared = trainingTestApp(RECIPES());
  shared.app.synth();
  return { shared, parent: Template.fromStack(shared.stack) };
}

/** Templates of the stack's nested stacks (the pipelines), keyed by shard number. */
export function nestedTemplates(stack: TrainingStack): Map<number, Template> {
  return new Map([...stack.shards].map(([shard, nested]) => [shard, Template.fromStack(nested)]));
}

/**
 * A nested template merged into its parent so that the IAM linter can resolve the nested parameters: each
 * `Ref` to a nested parameter becomes the value the parent passes, and the parent's resources are added.
 */
export function mergeNestedIntoParent(
  parentTemplate: TemplateJson,
  nested: cdk.NestedStack,
  parentStack: cdk.Stack,
): TemplateJson {
  const nestedJson = Template.fromStack(nested).toJSON() as { Resources: Obj; Parameters?: Obj };
  const logicalId = parentStack.resolve(
    parentStack.getLogicalId(nested.nestedStackResource as cdk.CfnElement),
  ) as string;
  const stackResource = ((parentTemplate.Resources ?? {}) as Record<string, Obj>)[logicalId];
  if (stackResource?.Type !== 'AWS::CloudFormation::Stack') throw new Error(`no nested stack resource ${logicalId}`);
  const passed = ((stackResource?.Properties as Obj | undefined)?.Parameters ?? {}) as Obj;
  const substitute = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(substitute);
    if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === 'Ref' && typeof v.Ref === 'string' && v.Ref in passed) return passed[v.Ref];
      return Object.fromEntries(keys.map((k) => [k, substitute(v[k])]));
    }
    return v;
  };
  return {
    ...parentTemplate,
    Resources: { ...(parentTemplate.Resources as Obj), ...(substitute(nestedJson.Resources) as Obj) },
  };
}

/** Resources of one type in a template, typed for property access. */
export function resourcesOfType(template: Template, type: string): Record<string, Obj> {
  return template.findResources(type) as Record<string, Obj>;
}

/** All pipelines of a stack: pipeline name → {shard, logical id, properties}. */
export function pipelinesOf(stack: TrainingStack): Map<string, { shard: number; logicalId: string; props: Obj }> {
  const out = new Map<string, { shard: number; logicalId: string; props: Obj }>();
  for (const [shard, template] of nestedTemplates(stack)) {
    for (const [logicalId, r] of Object.entries(resourcesOfType(template, 'AWS::SageMaker::Pipeline'))) {
      const props = r.Properties as Obj;
      out.set(props.PipelineName as string, { shard, logicalId, props });
    }
  }
  return out;
}

/** Names of the model package groups of all the stack's nested stacks. */
export function groupsOf(stack: TrainingStack): string[] {
  return [...nestedTemplates(stack).values()].flatMap((t) =>
    Object.values(resourcesOfType(t, 'AWS::SageMaker::ModelPackageGroup')).map(
      (r) => (r.Properties as Obj).ModelPackageGroupName as string,
    ),
  );
}
