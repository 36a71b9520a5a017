import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { TemplateJson } from './template';

/**
 * Offline IAM evaluation of the synthesized templates with @cloud-copilot/iam-simulate: a role's identity
 * policies (inline and AWS::IAM::Policy), a bucket's policy, an endpoint's policy, resolved to concrete
 * ARNs, then one request evaluated the way IAM does (explicit Deny > Allow > implicit deny).
 *
 * Intrinsics resolve to deterministic stand-ins: a resource's Ref is its physical name when the template
 * sets one (RoleName, BucketName, ...), else its logical id in lowercase; `Fn::GetAtt X.Arn` is the ARN
 * built from that name; `Fn::ImportValue` follows the export to the producing template.
 */

export const SIM_ACCOUNT = '123456789012';
export const SIM_REGION = 'us-east-1';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Template = {
  Resources?: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
};

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': SIM_ACCOUNT,
  'AWS::Region': SIM_REGION,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'stack',
  'AWS::NoValue': '',
};

const NAME_PROPERTY: Record<string, string> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
};

export class SynthesizedIam {
  constructor(private readonly templates: Record<string, TemplateJson>) {}

  private template(stack: string): Template {
    const t = this.templates[stack] as Template | undefined;
    if (!t) throw new Error(`no template ${stack}; have ${Object.keys(this.templates).join(', ')}`);
    return t;
  }

  /** The logical id in `stack` that starts with `prefix` and has `type` (exactly one). */
  logicalId(stack: string, type: string, prefix: string): string {
    const ids = Object.entries(this.template(stack).Resources ?? {})
      .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
      .map(([id]) => id);
    if (ids.length !== 1)
      throw new Error(`${stack}: ${ids.length} ${type} resources start with ${prefix}: ${ids.join(', ')}`);
    return ids[0];
  }

  private physicalName(stack: string, id: string): string {
    const r = this.template(stack).Resources?.[id];
    if (!r) throw new Error(`${stack}: no resource ${id}`);
    const property = NAME_PROPERTY[r.Type];
    const named = property ? r.Properties?.[property] : undefined;
    return named !== undefined ? (this.resolve(stack, named) as string) : id.toLowerCase();
  }

  private arnOf(stack: string, id: string): string {
    const r = this.template(stack).Resources?.[id];
    const name = this.physicalName(stack, id);
    switch (r?.Type) {
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${SIM_ACCOUNT}:role/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${SIM_REGION}:${SIM_ACCOUNT}:key/${name}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${SIM_REGION}:${SIM_ACCOUNT}:${name}`;
      default:
        return `arn:aws:${(r?.Type ?? 'x').split('::')[1].toLowerCase()}:${SIM_REGION}:${SIM_ACCOUNT}:${name}`;
    }
  }

  /** Resolves the intrinsics of `value` in the context of `stack`. */
  resolve(stack: string, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = obj[k];
      if (k === 'Ref') {
        const name = arg as string;
        if (PSEUDO[name] !== undefined) return PSEUDO[name];
        const r = this.template(stack).Resources?.[name];
        if (r?.Type === 'AWS::SNS::Topic') return this.arnOf(stack, name);
        return this.physicalName(stack, name);
      }
      if (k === 'Fn::GetAtt') {
        const [id, attr] = (typeof arg === 'string' ? arg.split('.') : arg) as [string, string];
        if (attr === 'Arn') return this.arnOf(stack, id);
        return `${this.physicalName(stack, id)}-${attr.toLowerCase()}`;
      }
      if (k === 'Fn::ImportValue') {
        const exportName = this.resolve(stack, arg) as string;
        for (const [producer, t] of Object.entries(this.templates) as [string, Template][]) {
          for (const output of Object.values(t.Outputs ?? {})) {
            if (output.Export && this.resolve(producer, output.Export.Name) === exportName) {
              return this.resolve(producer, output.Value);
            }
          }
        }
        throw new Error(`no export ${exportName}`);
      }
      if (k === 'Fn::GetStackOutput') {
        // weak cross-stack references: the producer's output of that name.
        const { StackName, OutputName } = this.resolve(stack, arg) as { StackName: string; OutputName: string };
        const output = this.template(StackName).Outputs?.[OutputName];
        if (!output) throw new Error(`${StackName}: no output ${OutputName}`);
        return this.resolve(StackName, output.Value);
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = arg as [string, unknown[]];
        return (this.resolve(stack, parts) as unknown[]).join(sep);
      }
      if (k === 'Fn::Select') {
        const [index, list] = arg as [number, unknown];
        return (this.resolve(stack, list) as unknown[])[Number(index)];
      }
      if (k === 'Fn::Split') {
        const [sep, source] = arg as [string, unknown];
        return (this.resolve(stack, source) as string).split(sep);
      }
    }
    return Object.fromEntries(Object.entries(obj).map(([key, v]) => [key, this.resolve(stack, v)]));
  }

  /** ARN of the role whose logical id starts with `prefix`. */
  roleArn(stack: string, prefix: string): string {
    return this.arnOf(stack, this.logicalId(stack, 'AWS::IAM::Role', prefix));
  }

  /** Every identity policy of a role: its inline `Policies` and the AWS::IAM::Policy resources attached to it. */
  identityPolicies(stack: string, rolePrefix: string): { name: string; policy: unknown }[] {
    const roleId = this.logicalId(stack, 'AWS::IAM::Role', rolePrefix);
    const resources = this.template(stack).Resources ?? {};
    const role = resources[roleId];
    const inline = ((role.Properties?.Policies as { PolicyName: string; PolicyDocument: unknown }[]) ?? []).map(
      (p) => ({ name: p.PolicyName, policy: this.resolve(stack, p.PolicyDocument) }),
    );
    const attached = Object.entries(resources)
      .filter(
        ([, r]) =>
          r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles ?? []).includes(`"Ref":"${roleId}"`),
      )
      .map(([id, r]) => ({ name: id, policy: this.resolve(stack, r.Properties?.PolicyDocument) }));
    return [...inline, ...attached];
  }

  /** The policy document of the AWS::S3::BucketPolicy of the bucket whose logical id starts with `prefix`. */
  bucketPolicy(stack: string, bucketPrefix: string): { bucketArn: string; policy: unknown } {
    const bucketId = this.logicalId(stack, 'AWS::S3::Bucket', bucketPrefix);
    const [policy] = Object.values(this.template(stack).Resources ?? {}).filter(
      (r) =>
        r.Type === 'AWS::S3::BucketPolicy' &&
        JSON.stringify(r.Properties?.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    if (!policy) throw new Error(`${stack}: no policy for bucket ${bucketId}`);
    return { bucketArn: this.arnOf(stack, bucketId), policy: this.resolve(stack, policy.Properties?.PolicyDocument) };
  }

  /** The PolicyDocument of the VPC endpoint whose logical id starts with `prefix`. */
  endpointPolicy(stack: string, prefix: string): unknown {
    const id = this.logicalId(stack, 'AWS::EC2::VPCEndpoint', prefix);
    return this.resolve(stack, this.template(stack).Resources?.[id].Properties?.PolicyDocument);
  }
}

export interface SimRequest {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly identityPolicies?: { name: string; policy: unknown }[];
  readonly resourcePolicy?: unknown;
  /** Policies of the VPC endpoint the request goes through. */
  readonly vpcEndpointPolicies?: { name: string; policy: unknown }[];
  readonly context?: Record<string, string | string[]>;
}

/** 'Allowed', 'ExplicitlyDenied' or 'ImplicitlyDenied'; throws on a request or policy the simulator rejects. */
export async function simulate(request: SimRequest): Promise<string> {
  const simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: SIM_ACCOUNT },
      contextVariables: {
        'aws:PrincipalAccount': SIM_ACCOUNT,
        'aws:PrincipalArn': request.principal,
        ...request.context,
      },
    },
    identityPolicies: request.identityPolicies ?? [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy,
    vpcEndpointPolicies: request.vpcEndpointPolicies,
  } as unknown as Simulation;
  const response = await runSimulation(simulation, {});
  if (response.resultType === 'error') throw new Error(JSON.stringify(response.errors, null, 2));
  return response.overallResult;
}
