import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { cfnLintTemplates, expectCfnLintClean } from '../support/cfn-lint';
import { expectIamLintClean, extractPolicies, iamLintTemplates, lintPolicies } from '../support/iam-lint';
import { expectNoNagFindings, nagFindings } from '../support/nag';
import { normaliseTemplate, templatesOf } from '../support/template';

/** The validation harness must catch what it claims to catch; each check is run on a known-bad input. */

describe('nag harness', () => {
  test('fails on a bucket without SSL enforcement and reports every pack', () => {
    // GIVEN a bucket that breaks S10 and its regulated equivalents
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'Bad');
    new s3.Bucket(stack, 'Bucket');
    // WHEN the packs run
    const findings = nagFindings(stack);
    // THEN each of the four packs reports the bucket
    const packs = new Set(findings.map((f) => f.pack));
    expect([...packs].sort()).toEqual(['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']);
    expect(findings.map((f) => f.ruleId)).toContain('AwsSolutions-S10');
    expect(() => expectNoNagFindings(stack)).toThrow(/Bad\/Bucket\/Resource: AwsSolutions-S10/);
  });

  test('honours an acknowledgement on the resource', () => {
    // GIVEN the same bucket with S10 acknowledged
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'Acked');
    const bucket = new s3.Bucket(stack, 'Bucket');
    cdk.Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S10', reason: 'test' });
    // WHEN / THEN S10 is gone, the other findings stay
    const ids = nagFindings(stack).map((f) => f.ruleId);
    expect(ids).not.toContain('AwsSolutions-S10');
    expect(ids).toContain('AwsSolutions-S1');
  });
});

describe('cfn-lint harness', () => {
  test('fails on a tracking server size that does not exist', () => {
    // GIVEN a template with TrackingServerSize XLarge
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'BadMlflow');
    new sagemaker.CfnMlflowTrackingServer(stack, 'Server', {
      trackingServerName: 'x',
      artifactStoreUri: 's3://bucket/mlflow/',
      roleArn: 'arn:aws:iam::123456789012:role/x',
      trackingServerSize: 'XLarge',
    });
    // WHEN cfn-lint runs
    const findings = cfnLintTemplates(templatesOf(app));
    // THEN E3030 names the property
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'E3030',
          level: 'Error',
          template: 'BadMlflow',
          path: expect.stringMatching(/TrackingServerSize$/),
        }),
      ]),
    );
    expect(() => expectCfnLintClean(findings)).toThrow(/E3030/);
  });

  test('knows AWS::SageMaker::MlflowApp (no E3006)', () => {
    // GIVEN a valid MLflow App
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'App');
    new sagemaker.CfnMlflowApp(stack, 'App', {
      name: 'gptoss-dev-mlflow',
      artifactStoreUri: 's3://bucket/mlflow/',
      roleArn: 'arn:aws:iam::123456789012:role/x',
      modelRegistrationMode: 'AutoModelRegistrationDisabled',
    });
    // WHEN / THEN it lints clean
    expectCfnLintClean(cfnLintTemplates(templatesOf(app)));
  });
});

describe('iam-lint harness', () => {
  function templateWith(statement: iam.PolicyStatement): ReturnType<typeof templatesOf> {
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'Policies');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    role.addToPolicy(statement);
    return templatesOf(app);
  }

  test('fails on an unknown action and prints the policy', () => {
    // GIVEN a misspelt action
    const templates = templateWith(
      new iam.PolicyStatement({ actions: ['sagemaker:StartPipelineExecutions'], resources: ['*'] }),
    );
    // WHEN the lint runs
    const findings = iamLintTemplates(templates);
    // THEN it reports UNKNOWN_ACTION with the policy text
    expect(findings.map((f) => f.issue)).toContain('UNKNOWN_ACTION');
    expect(() => expectIamLintClean(findings)).toThrow(/UNKNOWN_ACTION[\s\S]*StartPipelineExecutions/);
  });

  test('fails on an action granted on the wrong kind of resource', () => {
    // GIVEN StartPipelineExecution on a bucket ARN
    const templates = templateWith(
      new iam.PolicyStatement({ actions: ['sagemaker:StartPipelineExecution'], resources: ['arn:aws:s3:::bucket'] }),
    );
    // WHEN / THEN RESOURCE_MISMATCH
    expect(iamLintTemplates(templates).map((f) => f.issue)).toContain('RESOURCE_MISMATCH');
  });

  test('resolves intrinsics to plausible ARNs, across stacks', () => {
    // GIVEN a role in one stack granted on a bucket of another (weak reference: Fn::GetStackOutput)
    const app = new cdk.App({ context: { '@aws-cdk/core:defaultCrossStackReferences': 'weak' } });
    const producer = new cdk.Stack(app, 'Producer');
    const bucket = new s3.Bucket(producer, 'Bucket');
    const consumer = new cdk.Stack(app, 'Consumer');
    const role = new iam.Role(consumer, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('data/*')] }),
    );
    // WHEN the policies are extracted
    const policies = extractPolicies(templatesOf(app));
    // THEN the bucket ARN is a literal S3 ARN and the policy lints clean
    const policy = policies.find((p) => p.id.startsWith('Consumer/RoleDefaultPolicy'));
    expect(JSON.stringify(policy?.policy)).toMatch(/"arn:aws:s3:::producer-bucket[0-9a-f]+\/data\/\*"/);
    expectIamLintClean(lintPolicies(policies));
  });

  test('knows the MLflow App actions, on mlflow-app ARNs only', () => {
    // GIVEN CallMlflowAppApi on an app ARN and on a tracking-server ARN
    const good = templateWith(
      new iam.PolicyStatement({
        actions: ['sagemaker:CallMlflowAppApi'],
        resources: ['arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-ABC'],
      }),
    );
    const bad = templateWith(
      new iam.PolicyStatement({
        actions: ['sagemaker:CallMlflowAppApi'],
        resources: ['arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/x'],
      }),
    );
    // WHEN / THEN only the second is a mismatch
    expectIamLintClean(iamLintTemplates(good));
    expect(iamLintTemplates(bad).map((f) => f.issue)).toContain('RESOURCE_MISMATCH');
  });

  test('fails on a trust policy with a Resource element', () => {
    // GIVEN a role whose trust policy was overridden with a Resource
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'Trust');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    (role.node.defaultChild as iam.CfnRole).addPropertyOverride('AssumeRolePolicyDocument.Statement.0.Resource', '*');
    // WHEN / THEN
    expect(iamLintTemplates(templatesOf(app)).map((f) => f.issue)).toContain('MALFORMED_TRUST_POLICY');
  });
});

describe('template normaliser', () => {
  test('replaces asset hashes only', () => {
    // GIVEN a template fragment with an asset key and a logical id
    const hash = 'a'.repeat(64);
    const fragment = { S3Key: `${hash}.zip`, Ref: 'Bucket83908E77' };
    // WHEN / THEN
    expect(normaliseTemplate(fragment)).toEqual({ S3Key: 'ASSET-HASH.zip', Ref: 'Bucket83908E77' });
  });
});
