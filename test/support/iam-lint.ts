import * as path from 'node:path';
import type * as cdk from 'aws-cdk-lib';
import { runVenvTool } from './python-tools';
import { templatesOf, type TemplateJson } from './template';

/**
 * IAM policy lint: every policy document in every template goes through parliament (the venv's), after
 * intrinsic functions are resolved to plausible ARNs (dummy account 123456789012, the given region,
 * partition `aws`), so parliament can check that each action exists and that each resource is of a type the
 * action accepts. The Python side (test/support/iam_lint.py) also lists the few actions missing from
 * parliament's catalogue.
 */

/** The dummy account id resolved for `AWS::AccountId`. */
export const LINT_ACCOUNT = '123456789012';

/** A kind of parliament finding the project accepts, and why. */
export interface AcceptedIamFinding {
  /** parliament issue code, e.g. `RESOURCE_STAR`. */
  readonly issue: string;
  /** Only in this kind of policy. @default - any kind */
  readonly kind?: PolicyKind;
  /** Only when the finding's detail contains this text. @default - any detail */
  readonly detailIncludes?: string;
  /** Only when the detail passes this test (for findings whose detail lists many items). @default - any */
  readonly detailTest?: (detail: string) => boolean;
  readonly reason: string;
}

/**
 * The ONE place where parliament findings are accepted, each with its justification. Everything else fails
 * the lint. Keep entries narrow (kind + detail) so they cannot hide a real mistake.
 */
export const IAM_LINT_ACCEPTED: readonly AcceptedIamFinding[] = [
  {
    issue: 'RESOURCE_STAR',
    kind: 'resource',
    reason:
      'In a resource policy (bucket, key, topic, queue policy) "Resource": "*" means "this resource"; a KMS key policy must use "*" by definition.',
  },
  {
    issue: 'RESOURCE_MISMATCH',
    detailTest: onlyExpandedS3GrantActions,
    reason:
      "aws-cdk-lib's S3 grants (CDK Pipelines' artifact bucket) use action groups such as s3:List* and s3:GetObject*; parliament expands them to every matching action and reports the account- or access-point-level ones, which can never match the named bucket and so grant nothing.",
  },
  {
    issue: 'RESOURCE_STAR',
    kind: 'identity',
    detailIncludes: "['codebuild:BatchGetBuilds', 'codebuild:StartBuild', 'codebuild:StopBuild']",
    reason:
      'CDK Pipelines\' shared asset-publishing role is created before the CodeBuild projects it starts, so aws-cdk-lib grants these on "*" (lib/constructs/delivery-compliance.ts records the same reason for cdk-nag).',
  },
  {
    issue: 'RESOURCE_STAR',
    kind: 'identity',
    detailIncludes: "['s3:ListBucket']",
    reason:
      'CDK Pipelines\' self-mutation step runs `cdk deploy`, which lists the bootstrap asset buckets of target accounts it cannot name in advance; aws-cdk-lib grants s3:ListBucket on "*".',
  },
  {
    issue: 'RESOURCE_MISMATCH',
    kind: 'identity',
    detailIncludes:
      "[{'action': 'codestar-connections:UseConnection', 'required_format': 'arn:*:codestar-connections:*:*:connection/*'}]",
    reason:
      'aws-cdk-lib grants the connection source action the old codestar-connections prefix on a codeconnections ARN, which matches nothing; lib/stacks/delivery-stack.ts grants codeconnections:UseConnection beside it (test/delivery asserts it).',
  },
];

/** The S3 action groups aws-cdk-lib's bucket grants use. */
const CDK_S3_GRANT_GROUPS = ['s3:Abort', 's3:DeleteObject', 's3:GetBucket', 's3:GetObject', 's3:List'];

/** Does a RESOURCE_MISMATCH detail list only actions that one of {@link CDK_S3_GRANT_GROUPS} expands to? */
function onlyExpandedS3GrantActions(detail: string): boolean {
  const actions = [...detail.matchAll(/'action': '([^']+)'/g)].map((m) => m[1]);
  return actions.length > 0 && actions.every((a) => CDK_S3_GRANT_GROUPS.some((g) => a.startsWith(g)));
}

/** Where a policy document sits. */
export type PolicyKind = 'identity' | 'resource' | 'trust';

/** A policy document extracted from a template, with intrinsics resolved. */
export interface ExtractedPolicy {
  /** `<stack>/<logicalId>/<property path>`, e.g. `gptoss-dev-studio/ExecutionRoleDefaultPolicy/PolicyDocument`. */
  readonly id: string;
  readonly kind: PolicyKind;
  readonly resourceType: string;
  /** The policy as parliament sees it. */
  readonly policy: Record<string, unknown>;
}

/** One parliament finding. */
export interface IamLintFinding {
  readonly policyId: string;
  readonly kind: PolicyKind;
  readonly issue: string;
  readonly severity: string;
  readonly title: string;
  readonly detail: string;
  readonly location: string;
  /** The resolved policy the finding is about, pretty-printed. */
  readonly policy: string;
}

export interface IamLintOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Plausible values for resource references
// ---------------------------------------------------------------------------------------------------------

interface RefContext {
  readonly region: string;
  readonly account: string;
  readonly stackName: string;
  readonly logicalId: string;
  readonly props: Record<string, unknown>;
  /** A lowercase physical name derived from the stack and logical id, or the name property if set. */
  readonly name: string;
}

type RefFn = (c: RefContext) => string;

interface ResourceShape {
  /** Property holding the physical name, when the template may set it. */
  readonly nameProperty?: string;
  readonly ref: RefFn;
  readonly attrs: Readonly<Record<string, RefFn>>;
}

const arn = (service: string, c: RefContext, resource: string, regional = true): string =>
  `arn:aws:${service}:${regional ? c.region : ''}:${c.account}:${resource}`;
const hex = (c: RefContext, n: number): string => {
  let h = 0;
  for (const ch of `${c.stackName}/${c.logicalId}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(4).slice(0, n);
};
const keyId = (c: RefContext): string => {
  const h = hex(c, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/**
 * How `Ref` and `Fn::GetAtt` resolve for each resource type (the values CloudFormation documents). Add a
 * type here when a policy references one that is missing; the lint names the type and attribute it needs.
 */
const SHAPES: Readonly<Record<string, ResourceShape>> = {
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => `arn:aws:s3:::${c.name}`, DomainName: (c) => `${c.name}.s3.amazonaws.com` },
  },
  'AWS::KMS::Key': {
    ref: keyId,
    attrs: { Arn: (c) => arn('kms', c, `key/${keyId(c)}`), KeyId: keyId },
  },
  'AWS::KMS::Alias': { nameProperty: 'AliasName', ref: (c) => c.name, attrs: {} },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('iam', c, `role/${c.name}`, false), RoleId: (c) => `AROA${hex(c, 16).toUpperCase()}` },
  },
  'AWS::IAM::ManagedPolicy': {
    nameProperty: 'ManagedPolicyName',
    ref: (c) => arn('iam', c, `policy/${c.name}`, false),
    attrs: { PolicyArn: (c) => arn('iam', c, `policy/${c.name}`, false) },
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('lambda', c, `function:${c.name}`) },
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('logs', c, `log-group:${c.name}:*`) },
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    ref: (c) => arn('sns', c, c.name),
    attrs: { TopicArn: (c) => arn('sns', c, c.name), TopicName: (c) => c.name },
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    ref: (c) => `https://sqs.${c.region}.amazonaws.com/${c.account}/${c.name}`,
    attrs: { Arn: (c) => arn('sqs', c, c.name), QueueName: (c) => c.name },
  },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    ref: (c) => arn('states', c, `stateMachine:${c.name}`),
    attrs: { Arn: (c) => arn('states', c, `stateMachine:${c.name}`), Name: (c) => c.name },
  },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('events', c, `rule/${c.name}`) },
  },
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('cloudwatch', c, `alarm:${c.name}`) },
  },
  'AWS::EC2::VPC': {
    ref: (c) => `vpc-${hex(c, 17)}`,
    attrs: {
      VpcId: (c) => `vpc-${hex(c, 17)}`,
      CidrBlock: () => '10.0.0.0/16',
      DefaultSecurityGroup: (c) => `sg-${hex(c, 17)}`,
    },
  },
  'AWS::EC2::Subnet': { ref: (c) => `subnet-${hex(c, 17)}`, attrs: { SubnetId: (c) => `subnet-${hex(c, 17)}` } },
  'AWS::EC2::SecurityGroup': { ref: (c) => `sg-${hex(c, 17)}`, attrs: { GroupId: (c) => `sg-${hex(c, 17)}` } },
  'AWS::EC2::VPCEndpoint': { ref: (c) => `vpce-${hex(c, 17)}`, attrs: { Id: (c) => `vpce-${hex(c, 17)}` } },
  'AWS::SageMaker::Domain': {
    ref: (c) => `d-${hex(c, 12)}`,
    attrs: {
      DomainId: (c) => `d-${hex(c, 12)}`,
      DomainArn: (c) => arn('sagemaker', c, `domain/d-${hex(c, 12)}`),
      HomeEfsFileSystemId: (c) => `fs-${hex(c, 17)}`,
      SecurityGroupIdForDomainBoundary: (c) => `sg-${hex(c, 17)}`,
    },
  },
  'AWS::SageMaker::UserProfile': {
    nameProperty: 'UserProfileName',
    ref: (c) => c.name,
    attrs: { UserProfileArn: (c) => arn('sagemaker', c, `user-profile/d-${hex(c, 12)}/${c.name}`) },
  },
  'AWS::SageMaker::MlflowTrackingServer': {
    nameProperty: 'TrackingServerName',
    ref: (c) => c.name,
    attrs: { TrackingServerArn: (c) => arn('sagemaker', c, `mlflow-tracking-server/${c.name}`) },
  },
  'AWS::SageMaker::MlflowApp': {
    ref: (c) => arn('sagemaker', c, `mlflow-app/app-${hex(c, 12).toUpperCase()}`),
    attrs: {
      Arn: (c) => arn('sagemaker', c, `mlflow-app/app-${hex(c, 12).toUpperCase()}`),
      MlflowAppId: (c) => `app-${hex(c, 12).toUpperCase()}`,
    },
  },
  'AWS::SageMaker::Pipeline': { nameProperty: 'PipelineName', ref: (c) => c.name, attrs: {} },
  'AWS::SageMaker::ModelPackageGroup': {
    nameProperty: 'ModelPackageGroupName',
    ref: (c) => arn('sagemaker', c, `model-package-group/${c.name}`),
    attrs: { ModelPackageGroupArn: (c) => arn('sagemaker', c, `model-package-group/${c.name}`) },
  },
  'AWS::SageMaker::Model': {
    nameProperty: 'ModelName',
    ref: (c) => arn('sagemaker', c, `model/${c.name}`),
    attrs: { ModelName: (c) => c.name },
  },
  'AWS::SageMaker::EndpointConfig': {
    nameProperty: 'EndpointConfigName',
    ref: (c) => arn('sagemaker', c, `endpoint-config/${c.name}`),
    attrs: { EndpointConfigName: (c) => c.name },
  },
  'AWS::SageMaker::Endpoint': {
    nameProperty: 'EndpointName',
    ref: (c) => arn('sagemaker', c, `endpoint/${c.name}`),
    attrs: { EndpointName: (c) => c.name },
  },
  'AWS::ECR::Repository': {
    nameProperty: 'RepositoryName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('ecr', c, `repository/${c.name}`) },
  },
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    ref: (c) => arn('secretsmanager', c, `secret:${c.name}-AbCdEf`),
    attrs: { Id: (c) => arn('secretsmanager', c, `secret:${c.name}-AbCdEf`) },
  },
  'AWS::CodeBuild::Project': {
    nameProperty: 'Name',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('codebuild', c, `project/${c.name}`) },
  },
  'AWS::CodePipeline::Pipeline': {
    nameProperty: 'Name',
    ref: (c) => c.name,
    attrs: {},
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    ref: (c) => c.name,
    attrs: { Arn: (c) => arn('dynamodb', c, `table/${c.name}`) },
  },
};

// ---------------------------------------------------------------------------------------------------------
// Intrinsic function resolution
// ---------------------------------------------------------------------------------------------------------

class Resolver {
  constructor(
    private readonly templates: Readonly<Record<string, TemplateJson>>,
    private readonly region: string,
  ) {}

  resolve(value: unknown, stack: string): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, stack)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      return this.intrinsic(keys[0], obj[keys[0]], stack);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = this.resolve(obj[k], stack);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  private str(value: unknown, stack: string): string {
    const v = this.resolve(value, stack);
    if (typeof v !== 'string') throw new Error(`expected a string, resolved ${JSON.stringify(v)} in ${stack}`);
    return v;
  }

  private intrinsic(fn: string, arg: unknown, stack: string): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(String(arg), stack);
      case 'Fn::GetAtt': {
        const [logicalId, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
        return this.getAtt(String(logicalId), String(attr), stack);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        const resolved = this.resolve(parts, stack) as unknown[];
        return resolved.map((p) => String(p)).join(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg as string, {}];
        return text.replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
          if (name in vars) return this.str(vars[name], stack);
          if (name.includes('.')) {
            const [id, attr] = name.split(/\.(.*)/);
            return String(this.getAtt(id, attr, stack));
          }
          return String(this.ref(name, stack));
        });
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (this.resolve(list, stack) as unknown[])[Number(this.resolve(index, stack))];
      }
      case 'Fn::Split': {
        const [sep, text] = arg as [string, unknown];
        return this.str(text, stack).split(sep);
      }
      case 'Fn::GetAZs':
        return [`${this.region}a`, `${this.region}b`, `${this.region}c`];
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as unknown[]).map((a) => this.str(a, stack));
        const mappings = (this.templates[stack].Mappings ?? {}) as Record<
          string,
          Record<string, Record<string, unknown>>
        >;
        const value = mappings[map]?.[top]?.[second];
        if (value === undefined)
          throw new Error(`Fn::FindInMap ${map}.${top}.${second} in ${stack}: no such mapping entry`);
        return value;
      }
      case 'Fn::If': {
        // conditions are environment-dependent; lint the "true" branch (CDK's usual "feature on" case).
        const [, whenTrue] = arg as [string, unknown, unknown];
        return this.resolve(whenTrue, stack);
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = arg as { StackName: unknown; OutputName: string };
        const producer = this.str(StackName, stack);
        return this.output(producer, OutputName, `Fn::GetStackOutput ${producer}.${OutputName} in ${stack}`);
      }
      case 'Fn::ImportValue': {
        const exportName = this.str(arg, stack);
        for (const [name, template] of Object.entries(this.templates)) {
          const outputs = (template.Outputs ?? {}) as Record<string, { Export?: { Name?: unknown } }>;
          for (const [outputName, output] of Object.entries(outputs)) {
            if (output.Export?.Name !== undefined && this.str(output.Export.Name, name) === exportName) {
              return this.output(name, outputName, `Fn::ImportValue ${exportName}`);
            }
          }
        }
        throw new Error(`Fn::ImportValue ${exportName} in ${stack}: no template exports it`);
      }
      default:
        throw new Error(
          `iam-lint cannot resolve ${fn} in ${stack}; add it to Resolver.intrinsic in test/support/iam-lint.ts`,
        );
    }
  }

  private output(stack: string, outputName: string, what: string): unknown {
    const template = this.templates[stack];
    const outputs = (template?.Outputs ?? {}) as Record<string, { Value: unknown }>;
    if (!outputs[outputName]) throw new Error(`${what}: stack ${stack} has no output ${outputName}`);
    return this.resolve(outputs[outputName].Value, stack);
  }

  private ref(name: string, stack: string): unknown {
    switch (name) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return LINT_ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.region}:${LINT_ACCOUNT}:stack/${stack}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
    }
    const template = this.templates[stack];
    const params = (template.Parameters ?? {}) as Record<string, { Default?: unknown }>;
    if (params[name]) return params[name].Default ?? `param-${name.toLowerCase()}`;
    const { shape, context } = this.resource(name, stack, 'Ref');
    return shape.ref(context);
  }

  private getAtt(logicalId: string, attr: string, stack: string): unknown {
    const { shape, context, type } = this.resource(logicalId, stack, `Fn::GetAtt ${attr}`);
    const fn = shape.attrs[attr];
    if (!fn) {
      throw new Error(
        `iam-lint has no plausible value for Fn::GetAtt ${type}.${attr} (${stack}/${logicalId}); add it to SHAPES in test/support/iam-lint.ts`,
      );
    }
    return fn(context);
  }

  private resource(logicalId: string, stack: string, what: string) {
    const resources = (this.templates[stack].Resources ?? {}) as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    const resource = resources[logicalId];
    if (!resource) throw new Error(`${what}: no resource ${logicalId} in ${stack}`);
    const shape = SHAPES[resource.Type];
    if (!shape) {
      throw new Error(
        `iam-lint has no plausible value for ${what} of ${resource.Type} (${stack}/${logicalId}); add the type to SHAPES in test/support/iam-lint.ts`,
      );
    }
    const props = resource.Properties ?? {};
    const declared = shape.nameProperty ? props[shape.nameProperty] : undefined;
    const name =
      declared !== undefined
        ? String(this.resolve(declared, stack))
        : `${stack}-${logicalId}`
            .toLowerCase()
            .replace(/[^a-z0-9-]/g, '-')
            .slice(0, 63);
    return {
      type: resource.Type,
      shape,
      context: { region: this.region, account: LINT_ACCOUNT, stackName: stack, logicalId, props, name },
    };
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

// ---------------------------------------------------------------------------------------------------------
// Extraction and linting
// ---------------------------------------------------------------------------------------------------------

interface PolicyLocation {
  readonly kind: PolicyKind;
  /** Property paths holding a policy document (`Policies[].PolicyDocument` style paths expanded by hand). */
  readonly documents: (props: Record<string, unknown>) => { path: string; document: unknown }[];
}

const single =
  (property: string) =>
  (props: Record<string, unknown>): { path: string; document: unknown }[] =>
    props[property] === undefined ? [] : [{ path: property, document: props[property] }];
const inlinePolicies = (props: Record<string, unknown>): { path: string; document: unknown }[] =>
  ((props.Policies ?? []) as { PolicyName?: unknown; PolicyDocument: unknown }[]).map((p, i) => ({
    path: `Policies[${i}].PolicyDocument`,
    document: p.PolicyDocument,
  }));

/** Every resource type whose properties hold an IAM policy document, and where. */
const POLICY_LOCATIONS: Readonly<Record<string, PolicyLocation[]>> = {
  'AWS::IAM::Policy': [{ kind: 'identity', documents: single('PolicyDocument') }],
  'AWS::IAM::ManagedPolicy': [{ kind: 'identity', documents: single('PolicyDocument') }],
  'AWS::IAM::Role': [
    { kind: 'identity', documents: inlinePolicies },
    { kind: 'trust', documents: single('AssumeRolePolicyDocument') },
  ],
  'AWS::IAM::User': [{ kind: 'identity', documents: inlinePolicies }],
  'AWS::IAM::Group': [{ kind: 'identity', documents: inlinePolicies }],
  'AWS::S3::BucketPolicy': [{ kind: 'resource', documents: single('PolicyDocument') }],
  'AWS::KMS::Key': [{ kind: 'resource', documents: single('KeyPolicy') }],
  'AWS::SNS::TopicPolicy': [{ kind: 'resource', documents: single('PolicyDocument') }],
  'AWS::SQS::QueuePolicy': [{ kind: 'resource', documents: single('PolicyDocument') }],
  'AWS::SecretsManager::ResourcePolicy': [{ kind: 'resource', documents: single('ResourcePolicy') }],
};

/**
 * IAM compares condition values as strings; CloudFormation templates often carry numbers or booleans
 * (`"s3:TlsVersion": 1.2`, `"aws:SecureTransport": false`). Stringify them the way IAM does.
 */
function stringifyConditionValues(policy: unknown): unknown {
  if (policy === null || typeof policy !== 'object') return policy;
  const doc = policy as { Statement?: unknown };
  const statements = ([] as Record<string, unknown>[]).concat((doc.Statement ?? []) as Record<string, unknown>[]);
  for (const statement of statements) {
    const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
    if (!condition) continue;
    for (const block of Object.values(condition)) {
      for (const [key, value] of Object.entries(block)) {
        block[key] = Array.isArray(value)
          ? value.map((v) => (typeof v === 'object' ? v : String(v)))
          : typeof value === 'object'
            ? value
            : String(value);
      }
    }
  }
  return policy;
}

/** Extracts every policy document of every template, with intrinsics resolved to plausible values. */
export function extractPolicies(
  templates: Readonly<Record<string, TemplateJson>>,
  options: IamLintOptions = {},
): ExtractedPolicy[] {
  const resolver = new Resolver(templates, options.region ?? 'us-east-1');
  const policies: ExtractedPolicy[] = [];
  for (const [stack, template] of Object.entries(templates)) {
    const resources = (template.Resources ?? {}) as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    for (const [logicalId, resource] of Object.entries(resources)) {
      for (const location of POLICY_LOCATIONS[resource.Type] ?? []) {
        for (const { path: where, document } of location.documents(resource.Properties ?? {})) {
          const id = `${stack}/${logicalId}/${where}`;
          let resolved: unknown;
          try {
            resolved = resolver.resolve(typeof document === 'string' ? JSON.parse(document) : document, stack);
          } catch (e) {
            throw new Error(`${id}: ${(e as Error).message}`);
          }
          policies.push({
            id,
            kind: location.kind,
            resourceType: resource.Type,
            policy: stringifyConditionValues(resolved) as Record<string, unknown>,
          });
        }
      }
    }
  }
  return policies;
}

/** Is a finding accepted by {@link IAM_LINT_ACCEPTED}? */
function isAccepted(issue: string, kind: PolicyKind, detail: string): boolean {
  return IAM_LINT_ACCEPTED.some(
    (a) =>
      a.issue === issue &&
      (a.kind === undefined || a.kind === kind) &&
      (a.detailIncludes === undefined || detail.includes(a.detailIncludes)) &&
      (a.detailTest === undefined || a.detailTest(detail)),
  );
}

/**
 * Trust policies have no Resource element, which parliament (an identity-policy linter) reports as
 * malformed; they are checked structurally here instead: Allow + a Principal + sts:AssumeRole-family actions.
 */
function lintTrustPolicy(policy: ExtractedPolicy): IamLintFinding[] {
  const findings: IamLintFinding[] = [];
  const statements = ([] as Record<string, unknown>[]).concat(
    (policy.policy.Statement ?? []) as Record<string, unknown>[],
  );
  for (const [i, s] of statements.entries()) {
    const actions = ([] as string[]).concat((s.Action ?? []) as string[]);
    const bad = actions.filter(
      (a) =>
        !/^sts:(AssumeRole|AssumeRoleWithWebIdentity|AssumeRoleWithSAML|TagSession|SetSourceIdentity|SetContext)$/.test(
          a,
        ),
    );
    const problems: string[] = [];
    if (s.Principal === undefined) problems.push('no Principal');
    if (s.Resource !== undefined) problems.push('a trust policy must not have a Resource');
    if (bad.length > 0) problems.push(`actions not valid in a trust policy: ${bad.join(', ')}`);
    for (const detail of problems) {
      findings.push({
        policyId: policy.id,
        kind: policy.kind,
        issue: 'MALFORMED_TRUST_POLICY',
        severity: 'HIGH',
        title: 'Malformed trust policy',
        detail,
        location: `Statement[${i}]`,
        policy: JSON.stringify(policy.policy, null, 2),
      });
    }
  }
  return findings;
}

/** Runs parliament over the given policies; returns the findings that {@link IAM_LINT_ACCEPTED} does not accept. */
export function lintPolicies(policies: readonly ExtractedPolicy[]): IamLintFinding[] {
  const byId = new Map(policies.map((p) => [p.id, p]));
  const findings: IamLintFinding[] = policies.filter((p) => p.kind === 'trust').flatMap(lintTrustPolicy);
  const toParliament = policies.filter((p) => p.kind !== 'trust').map((p) => ({ id: p.id, policy: p.policy }));
  if (toParliament.length === 0) return findings;
  const script = path.join(__dirname, 'iam_lint.py');
  const res = runVenvTool('python', [script], JSON.stringify(toParliament));
  if (res.status !== 0) throw new Error(`parliament run failed (exit ${res.status}):\n${res.stderr}`);
  const raw = JSON.parse(res.stdout) as {
    id: string;
    issue: string;
    severity: string;
    title: string;
    detail: string;
    location: string;
  }[];
  for (const f of raw) {
    const policy = byId.get(f.id);
    if (!policy) throw new Error(`parliament reported an unknown policy id ${f.id}`);
    if (isAccepted(f.issue, policy.kind, f.detail)) continue;
    findings.push({
      policyId: f.id,
      kind: policy.kind,
      issue: f.issue,
      severity: f.severity,
      title: f.title,
      detail: f.detail,
      location: f.location,
      policy: JSON.stringify(policy.policy, null, 2),
    });
  }
  return findings;
}

/** Extracts and lints every policy in the given templates. */
export function iamLintTemplates(
  templates: Readonly<Record<string, TemplateJson>>,
  options: IamLintOptions = {},
): IamLintFinding[] {
  return lintPolicies(extractPolicies(templates, options));
}

/** Synthesizes a Stage/App and lints every policy in it. */
export function iamLintStage(stage: cdk.Stage, options: IamLintOptions = {}): IamLintFinding[] {
  return iamLintTemplates(templatesOf(stage), options);
}

/** Each finding with the policy it is about, for a readable test failure. */
export function formatIamLintFindings(findings: readonly IamLintFinding[]): string {
  if (findings.length === 0) return 'no IAM lint findings';
  return findings
    .map(
      (f) =>
        `${f.policyId} (${f.kind}): ${f.issue} [${f.severity}] ${f.title}: ${f.detail} at ${f.location}\n${f.policy}`,
    )
    .join('\n\n');
}

/** Asserts that no policy has an unaccepted finding, printing each policy and its finding on failure. */
export function expectIamLintClean(findings: readonly IamLintFinding[]): void {
  if (findings.length > 0) {
    throw new Error(`${findings.length} IAM lint finding(s):\n${formatIamLintFindings(findings)}`);
  }
}
