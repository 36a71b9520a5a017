import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';
import { acknowledgeRegulatedRule } from './compliance';

/**
 * The cdk-nag acknowledgements of the delivery pipeline's generated resources (aws-cdk-lib/pipelines creates
 * its roles, policies and CodeBuild projects itself). Each wildcard is matched against a known pattern with
 * its reason; a wildcard that matches none stays a finding, so a new grant still fails the checks.
 */

/** Wildcards CDK Pipelines grants, and why each is acceptable. */
const WILDCARD_REASONS: readonly { readonly pattern: RegExp; readonly reason: string }[] = [
  {
    pattern: /^Action::(s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*|kms:(GenerateDataKey|ReEncrypt)\*)$/,
    reason:
      "aws-cdk-lib's read/write grant sets on the pipeline's one artifact bucket and its key (S3 and KMS action groups such as s3:GetObject*); no other bucket or key is named.",
  },
  {
    pattern: /^Resource::<Artifacts[0-9A-F]{8}\.Arn>\/\*$/,
    reason: "The objects of the pipeline's own artifact bucket: pipeline artifacts have generated keys.",
  },
  {
    pattern: /^Resource::arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:\/aws\/codebuild\/(<[A-Za-z0-9]+>:)?\*$/,
    reason:
      'CodeBuild log streams: CodeBuild names them per build, under /aws/codebuild/<project>; the shared asset-publishing role of CDK Pipelines is created before its projects, so it is scoped to /aws/codebuild/* of this account and region.',
  },
  {
    pattern: /^Resource::arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:report-group\/(<[A-Za-z0-9]+>-)?\*$/,
    reason:
      "CodeBuild test report groups, named by CodeBuild after the project (this account and region only); CDK Pipelines' shared asset role precedes its projects.",
  },
  {
    pattern: /^Resource::\*$/,
    reason:
      'Actions without resource-level permissions or run before the target is known: ecr:GetAuthorizationToken (registry login), codebuild:StartBuild/BatchGetBuilds/StopBuild of the shared asset role, and cloudformation:DescribeStacks / s3:ListBucket of the self-mutation step (cdk deploy of this pipeline stack).',
  },
  {
    pattern: /^Resource::arn:\*:iam::\d{12}:role\/\*$/,
    reason:
      'sts:AssumeRole limited by condition to the CDK bootstrap roles of the pipeline account (tag aws-cdk:bootstrap-role = deploy, file-publishing or image-publishing).',
  },
];

/** The policy documents' wildcard findings, named as cdk-nag's AwsSolutions-IAM5 names them. */
function wildcardFindings(document: { Statement?: unknown[] }): string[] {
  const found = new Set<string>();
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  for (const statement of (document.Statement ?? []) as Record<string, unknown>[]) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of list(statement.Action)) {
      if (typeof action === 'string' && action.includes('*')) found.add(`Action::${action}`);
    }
    for (const resource of list(statement.Resource)) {
      const flat = flattenCfnReference(resource);
      if (flat.includes('*')) found.add(`Resource::${flat}`);
    }
  }
  return [...found];
}

/** Acknowledges the wildcards of every IAM policy under `scope` that match a known pattern. */
function acknowledgeKnownWildcards(scope: IConstruct): void {
  for (const policy of scope.node.findAll().filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy)) {
    // the document resolves only at synthesis, after every grant was added: acknowledge in a validation.
    policy.node.addValidation({
      validate: () => {
        const stack = cdk.Stack.of(policy);
        const document = stack.resolve(policy.policyDocument) as { Statement?: unknown[] };
        const acknowledgements = wildcardFindings(document).flatMap((finding) => {
          const known = WILDCARD_REASONS.find((w) => w.pattern.test(finding));
          return known ? [{ id: `AwsSolutions-IAM5[${finding}]`, reason: known.reason }] : [];
        });
        if (acknowledgements.length > 0) cdk.Validations.of(policy).acknowledge(...acknowledgements);
        return [];
      },
    });
  }
}

/**
 * Records the delivery stack's acknowledgements: on the pipeline (generated roles, CodeBuild projects) and on
 * the access-log bucket. Call after `pipeline.buildPipeline()`.
 */
export function acknowledgeDeliveryFindings(
  pipeline: IConstruct,
  accessLogsBucket: IConstruct,
  buckets: IConstruct[],
): void {
  acknowledgeKnownWildcards(pipeline);
  acknowledgeRegulatedRule(
    pipeline,
    'IAMNoInlinePolicy',
    "CDK Pipelines generates one role per pipeline action and build, each with an inline policy of only that action's grants (artifact bucket, key, its own logs); a customer-managed policy would be a reusable object no other principal should attach.",
  );
  for (const pack of ['HIPAA.Security', 'PCI.DSS.321']) {
    cdk.Validations.of(pipeline).acknowledge({
      id: `${pack}-CodeBuildProjectSourceRepoUrl`,
      reason:
        'Every CodeBuild project of the pipeline takes its source from CodePipeline (source type CODEPIPELINE), which reads the repository through a CodeConnections connection; no repository URL or credential is stored in a project.',
    });
  }
  for (const pack of ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321']) {
    for (const bucket of buckets) {
      cdk.Validations.of(bucket).acknowledge({
        id: `${pack}-S3BucketReplicationEnabled`,
        reason:
          'Pipeline artifacts are rebuilt from the repository by every execution; a cross-region replica would hold nothing that cannot be rebuilt.',
      });
    }
    cdk.Validations.of(accessLogsBucket).acknowledge({
      id: `${pack}-S3DefaultEncryptionKMS`,
      reason: 'S3 server access log delivery only supports SSE-S3 (AES256) on the target bucket, not SSE-KMS.',
    });
  }
}
