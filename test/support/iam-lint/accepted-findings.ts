import type { PolicyKind } from './types';

/** The parliament findings the project accepts, each with its reason, and the test that applies them. */

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

/** Is a finding accepted by {@link IAM_LINT_ACCEPTED}? */
export function isAccepted(issue: string, kind: PolicyKind, detail: string): boolean {
  return IAM_LINT_ACCEPTED.some(
    (a) =>
      a.issue === issue &&
      (a.kind === undefined || a.kind === kind) &&
      (a.detailIncludes === undefined || detail.includes(a.detailIncludes)) &&
      (a.detailTest === undefined || a.detailTest(detail)),
  );
}
