import * as cdk from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { compliancePacks } from '../../lib/create-stacks';

/** One unacknowledged cdk-nag finding on one resource. */
export interface NagFinding {
  /** Pack name, e.g. `AwsSolutions`, `NIST.800.53.R5`, `HIPAA.Security`, `PCI.DSS.321`. */
  readonly pack: string;
  /** Full rule id as used by `Validations.of(x).acknowledge({ id })`, e.g. `AwsSolutions-IAM5[Action::s3:List*]`. */
  readonly ruleId: string;
  readonly severity: string;
  /** Construct path of the violating CfnResource. */
  readonly constructPath: string;
  readonly description: string;
}

/**
 * Runs the app's four compliance packs (AwsSolutions, NIST 800-53 rev 5, HIPAA Security, PCI DSS 3.2.1;
 * the same list `bin/app.ts` registers) over `scope` with `validateScope`, and returns every finding that
 * has no acknowledgement on the resource or one of its parents. The root Stage is synthesized first so
 * aspects (tags, removal policies) have run, exactly as in `cdk synth`.
 */
export function nagFindings(scope: IConstruct): NagFinding[] {
  const root = scope.node.root;
  if (cdk.Stage.isStage(root)) root.synth();
  const findings: NagFinding[] = [];
  for (const pack of compliancePacks()) {
    const report = pack.validateScope(scope);
    for (const violation of report.violations) {
      for (const resource of violation.violatingResources) {
        findings.push({
          pack: pack.readPackName,
          ruleId: violation.ruleName,
          severity: violation.severity ?? 'error',
          constructPath: resource.constructPath ?? resource.resourceLogicalId ?? '(unknown)',
          description: violation.description,
        });
      }
    }
  }
  return findings;
}

/** One line per finding, for a readable test failure: `path: rule (severity) description`. */
export function formatNagFindings(findings: readonly NagFinding[]): string {
  if (findings.length === 0) return 'no cdk-nag findings';
  return findings.map((f) => `${f.constructPath}: ${f.ruleId} (${f.severity}) ${f.description}`).join('\n');
}

/**
 * Asserts zero unacknowledged findings, printing them all on failure. Use in every stack test:
 * `expectNoNagFindings(stack)`.
 */
export function expectNoNagFindings(scope: IConstruct): void {
  const findings = nagFindings(scope);
  if (findings.length > 0) {
    throw new Error(`${findings.length} unacknowledged cdk-nag finding(s):\n${formatNagFindings(findings)}`);
  }
}
