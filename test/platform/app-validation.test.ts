import { cfnLintTemplates, expectCfnLintClean } from '../support/cfn-lint';
import { expectIamLintClean, iamLintTemplates } from '../support/iam-lint';
import { expectNoNagFindings } from '../support/nag';
import { synthApp } from '../support/template';
import { IMPORTED_VPC_CONFIG } from './fixtures';

/**
 * The whole app, as `cdk synth` builds it, through the three spec-based checks: cdk-nag (four packs),
 * cfn-lint (CloudFormation registry schemas) and parliament (IAM action catalogue). Two configs cover both
 * VPC modes and both MLflow kinds.
 */
describe.each([
  ['default config (new VPC, tracking server) with the repository recipes', {}, undefined],
  ['imported VPC, users, MLflow App, explicit account/region', IMPORTED_VPC_CONFIG, []],
])('full app: %s', (_name, config, recipes) => {
  // GIVEN the app synthesized from this config
  const synthesized = synthApp({ config, recipes });
  const region = synthesized.config.region ?? 'us-east-1';

  test('creates the platform stacks with the configured names', () => {
    // THEN
    const prefix = `${synthesized.config.namePrefix}-${synthesized.config.stage}`;
    expect(Object.keys(synthesized.templates)).toEqual(
      expect.arrayContaining([`${prefix}-data`, `${prefix}-network`, `${prefix}-studio`]),
    );
  });

  test('sets no stack-level tags (they would reach UserProfile, whose Tags are create-only)', () => {
    // THEN cost-allocation tags are on resources only (@aws-cdk/core:explicitStackTags)
    for (const stack of synthesized.assembly.stacks)
      expect({ stack: stack.stackName, tags: stack.tags }).toEqual({ stack: stack.stackName, tags: {} });
  });

  test('has zero unacknowledged cdk-nag findings in any stack', () => {
    // WHEN the four packs run over the app / THEN
    expectNoNagFindings(synthesized.app);
  });

  test('passes cfn-lint with zero errors and warnings', () => {
    // WHEN cfn-lint runs over every template / THEN
    expectCfnLintClean(cfnLintTemplates(synthesized.templates, { regions: [region] }));
  });

  test('passes the IAM policy linter for every policy', () => {
    // WHEN parliament runs over every policy document / THEN
    expectIamLintClean(iamLintTemplates(synthesized.templates, { region }));
  });
});
