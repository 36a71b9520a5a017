import type { IamLintFinding } from './types';

/** Reporting: findings as readable text, and the assertion tests use. */

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
