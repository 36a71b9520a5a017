import type { TemplateJson } from '../template';
import { Resolver } from './resolver';
import type { ExtractedPolicy, IamLintOptions, PolicyKind } from './types';

/** Extraction: finds every policy document in the templates and resolves its intrinsics. */

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
