import { expectCfnLintClean, cfnLintTemplates } from '../support/cfn-lint';
import { expectIamLintClean, iamLintTemplates } from '../support/iam-lint';
import { expectNoNagFindings } from '../support/nag';
import { aslValidation, type CfnTemplate, definitionOf, type RefValues } from '../support/sfn-local';
import { synthApp, type SynthesizedApp } from '../support/template';
import { PREFIX } from './support';

/**
 * The real app's deployment stack (bin/app.ts wiring, repository recipes), synthesized once here: cdk-nag, cfn-lint
 * and parliament, and its state machine definitions as ASL.
 */

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

describe('state machines', () => {
  test('the definitions of the real app (repository recipes) are valid ASL', () => {
    // GIVEN the app as createStacks wires it WHEN its deployment stack's machines are validated THEN valid
    const tpl = full.templates[`${PREFIX}-deployment`] as unknown as CfnTemplate;
    const stack = full.stacks.deployment;
    const refs: RefValues = new Proxy({} as RefValues, {
      // every Ref/GetAtt/import resolves to a plausible ARN: only the structure is checked here.
      get: (_t, key: string) => `arn:aws:sns:us-east-1:123456789012:${key.replace(/[^A-Za-z0-9-]/g, '-')}`,
    });
    for (const prefix of ['RegisterStateMachine', 'DeployStateMachine']) {
      const definition = definitionOf(tpl, prefix, refs);
      const { errors } = aslValidation(definition);
      expect(errors).toEqual([]);
    }
    expect(stack.plans.map((p) => p.recipe).sort()).toEqual(
      full.stacks.training.pipelines.size > 0 ? [...full.stacks.training.pipelines.keys()].sort() : [],
    );
  });
});
