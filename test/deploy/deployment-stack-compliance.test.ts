import { expectCfnLintClean, cfnLintTemplates } from '../support/cfn-lint';
import { expectIamLintClean, iamLintTemplates } from '../support/iam-lint';
import { expectNoNagFindings } from '../support/nag';
import { synthApp, type SynthesizedApp } from '../support/template';
import { PREFIX } from './support';

/** The real app's deployment stack (bin/app.ts wiring, repository recipes) against cdk-nag, cfn-lint and parliament. */

let full: SynthesizedApp;

beforeAll(() => {
  // the real app, wired by createStacks with the repository's recipes
  full = synthApp();
});

describe("compliance of the real app's deployment stack", () => {
  test('has no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 r5, HIPAA, PCI DSS)', () => {
    // GIVEN the app as bin/app.ts builds it WHEN the four packs run on the deployment stack THEN clean
    expectNoNagFindings(full.stacks.deployment);
  });

  test('is cfn-lint clean', () => {
    // GIVEN the synthesized template WHEN linted THEN no errors or warnings
    expectCfnLintClean(cfnLintTemplates({ [`${PREFIX}-deployment`]: full.templates[`${PREFIX}-deployment`] }));
  });

  test('its IAM policies pass parliament', () => {
    // GIVEN every policy of the deployment stack WHEN linted THEN no unknown actions or resource mismatches
    // (all templates: cross-stack references resolve through the producers' outputs)
    const findings = iamLintTemplates(full.templates).filter((f) => f.policyId.startsWith(`${PREFIX}-deployment/`));
    expectIamLintClean(findings);
  });
});
