import * as path from 'node:path';
import type * as cdk from 'aws-cdk-lib';
import { runVenvTool } from '../python-tools';
import { templatesOf, type TemplateJson } from '../template';
import { isAccepted } from './accepted-findings';
import { extractPolicies } from './extract-policies';
import type { ExtractedPolicy, IamLintFinding, IamLintOptions } from './types';

/** Linting: trust policies checked here, the rest by parliament (../iam_lint.py); accepted findings dropped. */

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
  const script = path.join(__dirname, '..', 'iam_lint.py');
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
