import { cfnLintTemplates, expectCfnLintClean } from '../support/cfn-lint';
import { expectIamLintClean, iamLintTemplates } from '../support/iam-lint';
import { expectNoNagFindings } from '../support/nag';
import { synthDelivery } from './support';

/**
 * The delivery app as `cdk synth -c configFile=stages/delivery.yaml` builds it (the pipeline stack and every
 * stage's stacks) through the three spec-based checks. The pipeline's synth step runs this file, so it
 * asserts nothing about which stages the delivery config lists.
 */
describe('delivery app: compliance, CloudFormation schemas, IAM', () => {
  // GIVEN the delivery app synthesized once from the repository's delivery config and recipes
  const synthesized = synthDelivery();
  const region = synthesized.config.region ?? 'us-east-1';

  test('has zero unacknowledged cdk-nag findings (four packs) in the pipeline and every stage', () => {
    // WHEN the packs run over the app / THEN
    expectNoNagFindings(synthesized.app);
  });

  test('passes cfn-lint (CodeBuild projects, pipeline, key, buckets against the registry schemas)', () => {
    // GIVEN the pipeline stack holds the CodeBuild projects the schemas must accept
    const resources = synthesized.pipelineTemplate.Resources as Record<string, { Type: string }>;
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::CodeBuild::Project').length).toBeGreaterThanOrEqual(
      3,
    );
    // WHEN cfn-lint runs over every template / THEN
    expectCfnLintClean(cfnLintTemplates(synthesized.templates, { regions: [region] }));
  });

  test('passes the IAM policy linter for every policy', () => {
    // WHEN parliament runs over every policy document / THEN
    expectIamLintClean(iamLintTemplates(synthesized.templates, { region }));
  });
});
