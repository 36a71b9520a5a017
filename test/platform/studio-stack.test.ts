import { Match, Template } from 'aws-cdk-lib/assertions';
import { expectNoNagFindings } from '../support/nag';
import { snapshotOf } from '../support/template';
import { IMPORTED_VPC_CONFIG, platformApp } from './fixtures';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

/** Every statement of every policy attached to the role with the given logical id prefix. */
function statementsOf(template: Template, rolePrefix: string): Statement[] {
  return (
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      // what the role is granted; the explicit Deny statements (no approvals, lib/iam/approval.ts) are tested apart.
      .filter((s) => (s as { Effect?: string }).Effect !== 'Deny')
  );
}
const actionsOf = (statements: Statement[]): string[] => statements.flatMap((s) => ([] as string[]).concat(s.Action));

describe('StudioStack (default config: tracking server, no users)', () => {
  const { stacks } = platformApp();
  const template = Template.fromStack(stacks.studio);

  test('creates a VpcOnly, IAM-auth domain encrypted with the platform key, in the private subnets', () => {
    // GIVEN the default config / WHEN synthesized / THEN
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DomainName: 'gptoss-dev',
      AuthMode: 'IAM',
      AppNetworkAccessType: 'VpcOnly',
      KmsKeyId: { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'gptoss-dev-data' }) },
      VpcId: { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'gptoss-dev-network' }) },
      SubnetIds: [Match.anyValue(), Match.anyValue()],
      TagPropagation: 'ENABLED',
    });
  });

  test('shuts idle JupyterLab and Code Editor apps down and sets EBS defaults', () => {
    const idle = {
      AppLifecycleManagement: {
        IdleSettings: {
          LifecycleManagement: 'ENABLED',
          IdleTimeoutInMinutes: 60,
          MinIdleTimeoutInMinutes: 60,
          MaxIdleTimeoutInMinutes: 60,
        },
      },
    };
    const ebs = { DefaultEbsStorageSettings: { DefaultEbsVolumeSizeInGb: 5, MaximumEbsVolumeSizeInGb: 100 } };
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DefaultUserSettings: Match.objectLike({
        JupyterLabAppSettings: idle,
        CodeEditorAppSettings: idle,
        SpaceStorageSettings: ebs,
        SecurityGroups: [Match.anyValue()],
        StudioWebPortal: 'ENABLED',
      }),
      DefaultSpaceSettings: Match.objectLike({ JupyterLabAppSettings: idle, SpaceStorageSettings: ebs }),
    });
  });

  test('runs a managed MLflow tracking server on the artifacts bucket mlflow/ prefix with its own role', () => {
    template.hasResourceProperties('AWS::SageMaker::MlflowTrackingServer', {
      TrackingServerName: 'gptoss-dev-mlflow',
      TrackingServerSize: 'Small',
      WeeklyMaintenanceWindowStart: 'Sun:03:00',
      AutomaticModelRegistration: false,
      ArtifactStoreUri: { 'Fn::Join': ['', ['s3://', Match.anyValue(), '/mlflow/']] },
      RoleArn: { 'Fn::GetAtt': ['MlflowServiceRoleEA35FAFB', 'Arn'] },
    });
    const service = statementsOf(template, 'MlflowServiceRole');
    expect(actionsOf(service).sort()).toEqual(
      [
        'kms:Decrypt',
        'kms:GenerateDataKey',
        's3:AbortMultipartUpload',
        's3:GetObject',
        's3:ListBucket',
        's3:ListMultipartUploadParts',
        's3:PutObject',
      ].sort(),
    );
    expect(JSON.stringify(service)).not.toContain('sagemaker:CreateModelPackage');
  });

  test('gives the execution role no managed policies (no AmazonSageMakerFullAccess)', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('lets Studio users read datasets and MLflow artifacts only: no other bucket, no writes, no deletes', () => {
    const statements = statementsOf(template, 'StudioExecutionRole');
    const s3 = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('s3:')));
    expect([...new Set(actionsOf(s3))].sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    const outputs = JSON.stringify(s3.map((s) => s.Resource));
    expect(outputs).toMatch(/PublishOutputFnGetAttDatasets/);
    expect(outputs).toMatch(/PublishOutputFnGetAttArtifacts/);
    expect(outputs).not.toMatch(/AccessLogs/);
    // artifacts are readable under mlflow/ only
    const artifacts = s3.filter((s) => JSON.stringify(s).includes('Artifacts'));
    for (const s of artifacts) expect(JSON.stringify(s)).toContain('mlflow/');
  });

  test("scopes pipeline actions to this deployment's pipelines", () => {
    const statements = statementsOf(template, 'StudioExecutionRole');
    const start = statements.find((s) => actionsOf([s]).includes('sagemaker:StartPipelineExecution'));
    expect(start?.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':sagemaker:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':pipeline/gptoss-dev-*',
        ],
      ],
    });
    const stop = statements.find((s) => actionsOf([s]).includes('sagemaker:StopPipelineExecution'));
    expect(JSON.stringify(stop?.Resource)).toContain(':pipeline/gptoss-dev-*/execution/*');
    expect(actionsOf(statements)).not.toContain('sagemaker:UpdateModelPackage');
    expect(actionsOf(statements)).not.toContain('sagemaker:CreatePipeline');
  });

  test('grants "*" only to actions without resource-level permissions', () => {
    const star = statementsOf(template, 'StudioExecutionRole').filter((s) => s.Resource === '*');
    expect(actionsOf(star).sort()).toEqual(
      [
        'sagemaker-mlflow:AccessUI',
        'sagemaker:ListApps',
        'sagemaker:ListMlflowTrackingServers',
        'sagemaker:ListModelPackageGroups',
        'sagemaker:ListPipelines',
        'sagemaker:ListSpaces',
        'sagemaker:ListTrainingJobs',
        'sagemaker:ListUserProfiles',
      ].sort(),
    );
  });

  test('lets Studio users view MLflow but not log to it', () => {
    const actions = actionsOf(statementsOf(template, 'StudioExecutionRole'));
    expect(actions).toEqual(
      expect.arrayContaining(['sagemaker:CreatePresignedMlflowTrackingServerUrl', 'sagemaker-mlflow:SearchRuns']),
    );
    expect(actions).not.toContain('sagemaker-mlflow:LogMetric');
    expect(actions).not.toContain('sagemaker-mlflow:DeleteExperiment');
  });

  test('has a teardown custom resource for the domain, run by a Node.js Lambda with only the delete rights it needs', () => {
    template.hasResourceProperties('Custom::StudioTeardown', {
      DomainId: { 'Fn::GetAtt': ['Studio43727D10', 'DomainId'] },
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StudioTeardownFunction'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Timeout: 900,
      Handler: 'index.handler',
    });
    const actions = actionsOf(statementsOf(template, 'StudioTeardownRole')).sort();
    expect(actions).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sagemaker:DeleteApp',
        'sagemaker:DeleteSpace',
        'sagemaker:DescribeApp',
        'sagemaker:DescribeSpace',
        'sagemaker:ListApps',
        'sagemaker:ListSpaces',
      ].sort(),
    );
  });

  test('exposes typed handles for the next stacks', () => {
    expect(stacks.studio.mlflow.kind).toBe('tracking-server');
    expect(stacks.studio.mlflow.arn).toBeDefined();
    expect(stacks.studio.domainId).toBeDefined();
    expect(stacks.studio.studioExecutionRole.roleArn).toBeDefined();
    template.hasOutput('MlflowArn', { Value: { 'Fn::GetAtt': ['MlflowTrackingServer97E86BDA', 'TrackingServerArn'] } });
  });

  test('has zero unacknowledged cdk-nag findings across the four packs', () => {
    expectNoNagFindings(stacks.studio);
  });

  test('matches the snapshot', () => {
    expect(snapshotOf(stacks.studio)).toMatchSnapshot();
  });
});

describe('StudioStack (users, MLflow App, automatic registration)', () => {
  const { stacks } = platformApp(IMPORTED_VPC_CONFIG);
  const template = Template.fromStack(stacks.studio);

  test('creates one user profile per configured user, without tags (UserProfile Tags are create-only)', () => {
    // GIVEN users alice and bob-smith / THEN
    template.resourceCountIs('AWS::SageMaker::UserProfile', 2);
    for (const name of ['alice', 'bob-smith']) {
      template.hasResourceProperties('AWS::SageMaker::UserProfile', {
        UserProfileName: name,
        DomainId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Studio'), 'DomainId'] },
        Tags: Match.absent(),
      });
    }
  });

  test('tags every other taggable resource with project, stage and the configured tags', () => {
    const domain = Object.values(template.findResources('AWS::SageMaker::Domain'))[0];
    expect(domain.Properties.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'project', Value: 'mlplat' },
        { Key: 'stage', Value: 'prod' },
        { Key: 'cost-center', Value: 'ml-research' },
      ]),
    );
    template.hasResourceProperties('AWS::SageMaker::MlflowApp', {
      Tags: Match.arrayWith([{ Key: 'project', Value: 'mlplat' }]),
    });
  });

  test('runs the teardown after both profiles are gone from the dependency graph (it depends on them)', () => {
    const teardown = Object.values(template.findResources('Custom::StudioTeardown'))[0];
    const profiles = Object.keys(template.findResources('AWS::SageMaker::UserProfile'));
    expect(teardown.DependsOn).toEqual(expect.arrayContaining(profiles));
  });

  test('applies the configured idle timeout and maximum EBS size', () => {
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DefaultUserSettings: Match.objectLike({
        JupyterLabAppSettings: {
          AppLifecycleManagement: {
            IdleSettings: Match.objectLike({ IdleTimeoutInMinutes: 120, MaxIdleTimeoutInMinutes: 120 }),
          },
        },
        SpaceStorageSettings: {
          DefaultEbsStorageSettings: { DefaultEbsVolumeSizeInGb: 5, MaximumEbsVolumeSizeInGb: 200 },
        },
      }),
    });
  });

  test('runs the serverless MLflow App with automatic registration and a scoped service role', () => {
    template.resourceCountIs('AWS::SageMaker::MlflowTrackingServer', 0);
    template.hasResourceProperties('AWS::SageMaker::MlflowApp', {
      Name: 'mlplat-prod-mlflow',
      ModelRegistrationMode: 'AutoModelRegistrationEnabled',
      WeeklyMaintenanceWindowStart: 'Tue:03:30',
      ArtifactStoreUri: { 'Fn::Join': ['', ['s3://', Match.anyValue(), '/mlflow/']] },
    });
    const actions = actionsOf(statementsOf(template, 'MlflowServiceRole'));
    expect(actions).toEqual(
      expect.arrayContaining(['sagemaker:CreateModelPackage', 'sagemaker:CreateModelPackageGroup']),
    );
    const studio = actionsOf(statementsOf(template, 'StudioExecutionRole'));
    expect(studio).toEqual(
      expect.arrayContaining(['sagemaker:CallMlflowAppApi', 'sagemaker:CreatePresignedMlflowAppUrl']),
    );
    expect(studio.filter((a) => a.startsWith('sagemaker-mlflow:'))).toEqual([]);
  });

  test('uses the explicit account and region', () => {
    expect(stacks.studio.account).toBe('111122223333');
    expect(stacks.studio.region).toBe('eu-west-1');
  });

  test('has zero unacknowledged cdk-nag findings across the four packs', () => {
    expectNoNagFindings(stacks.studio);
  });

  test('matches the snapshot', () => {
    expect(snapshotOf(stacks.studio)).toMatchSnapshot();
  });
});
