import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ManagedMlflow, type MlflowKind } from '../../lib/constructs/mlflow/managed-mlflow';
import { MLFLOW_TRACKING_LOGGING_ACTIONS } from '../../lib/iam/perms';
import { iamLintTemplates, expectIamLintClean } from '../support/iam-lint';
import { templatesOf } from '../support/template';

/** A bucket stack, an MLflow stack and a "training" stack whose role gets grantLogging, as the pipeline stack will. */
function build(kind: MlflowKind) {
  const app = new cdk.App({ context: { '@aws-cdk/core:defaultCrossStackReferences': 'weak' } });
  const data = new cdk.Stack(app, 'Data');
  const key = new kms.Key(data, 'Key', { enableKeyRotation: true });
  const bucket = new s3.Bucket(data, 'Artifacts', { encryptionKey: key });
  const platform = new cdk.Stack(app, 'Platform');
  const mlflow = new ManagedMlflow(platform, 'Mlflow', { name: 'test-mlflow', kind, artifactsBucket: bucket });
  const training = new cdk.Stack(app, 'Training');
  const jobRole = new iam.Role(training, 'JobRole', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
  const viewer = new iam.Role(training, 'Viewer', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
  mlflow.grantLogging(jobRole);
  mlflow.grantRead(viewer);
  return { app, mlflow, training: Template.fromStack(training), platform: Template.fromStack(platform) };
}

function actionsFor(template: Template, rolePrefix: string): string[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(rolePrefix))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .flatMap((s: { Action: string | string[] }) => ([] as string[]).concat(s.Action));
}

describe('ManagedMlflow, tracking server', () => {
  const { app, mlflow, training, platform } = build('tracking-server');

  test('exposes the tracking server ARN and artifact store', () => {
    // GIVEN a tracking server on a bucket / THEN
    expect(mlflow.kind).toBe('tracking-server');
    platform.hasResourceProperties('AWS::SageMaker::MlflowTrackingServer', {
      TrackingServerName: 'test-mlflow',
      TrackingServerSize: 'Small',
      WeeklyMaintenanceWindowStart: 'Sun:03:00',
      AutomaticModelRegistration: false,
    });
  });

  test('survives stack deletion: the server, its role and the role policy are retained', () => {
    for (const type of ['AWS::SageMaker::MlflowTrackingServer', 'AWS::IAM::Role', 'AWS::IAM::Policy']) {
      const resources = Object.values(platform.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources)
        expect({ type, deletion: resource.DeletionPolicy }).toEqual({ type, deletion: 'Retain' });
    }
  });

  test('waits for its role policy before creating the server', () => {
    platform.hasResource('AWS::SageMaker::MlflowTrackingServer', {
      DependsOn: [Match.stringLikeRegexp('^MlflowServiceRoleDefaultPolicy')],
    });
  });

  test('grantLogging gives a job the logging actions on the server ARN and read/write under mlflow/', () => {
    // WHEN a training role is granted logging / THEN
    const actions = actionsFor(training, 'JobRole');
    expect(actions).toEqual(
      expect.arrayContaining([...MLFLOW_TRACKING_LOGGING_ACTIONS, 's3:PutObject', 'kms:GenerateDataKey']),
    );
    expect(actions).not.toContain('sagemaker-mlflow:DeleteExperiment');
    training.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sagemaker-mlflow:LogMetric']),
            Resource: { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'Platform' }) },
          }),
          Match.objectLike({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['mlflow/*'] } } }),
        ]),
      },
    });
  });

  test('grantRead gives a viewer read actions only', () => {
    const actions = actionsFor(training, 'Viewer');
    expect(actions).toEqual(
      expect.arrayContaining([
        'sagemaker-mlflow:AccessUI',
        'sagemaker-mlflow:SearchRuns',
        'sagemaker:CreatePresignedMlflowTrackingServerUrl',
        's3:GetObject',
        'kms:Decrypt',
      ]),
    );
    expect(actions.filter((a) => /Log|Create(Run|Experiment)|Put|Delete|GenerateDataKey/.test(a))).toEqual([]);
  });

  test('passes the IAM policy linter', () => {
    expectIamLintClean(iamLintTemplates(templatesOf(app)));
  });
});

describe('ManagedMlflow, serverless MLflow App', () => {
  const { app, training, platform } = build('serverless-app');

  test('survives stack deletion: the App is retained', () => {
    const [app] = Object.values(platform.findResources('AWS::SageMaker::MlflowApp'));
    expect(app.DeletionPolicy).toBe('Retain');
  });

  test('creates an MLflow App and grants the one data-plane action on its ARN', () => {
    platform.resourceCountIs('AWS::SageMaker::MlflowTrackingServer', 0);
    platform.hasResourceProperties('AWS::SageMaker::MlflowApp', {
      Name: 'test-mlflow',
      ModelRegistrationMode: 'AutoModelRegistrationDisabled',
    });
    expect(actionsFor(training, 'JobRole')).toContain('sagemaker:CallMlflowAppApi');
    expect(actionsFor(training, 'Viewer')).toEqual(
      expect.arrayContaining([
        'sagemaker:CallMlflowAppApi',
        'sagemaker:CreatePresignedMlflowAppUrl',
        'sagemaker:DescribeMlflowApp',
      ]),
    );
  });

  test('passes the IAM policy linter', () => {
    expectIamLintClean(iamLintTemplates(templatesOf(app)));
  });
});

describe('ManagedMlflow, bad input', () => {
  test('fails on an artifacts prefix that does not end in /', () => {
    // GIVEN a prefix without the trailing slash / WHEN / THEN
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'S');
    const bucket = new s3.Bucket(stack, 'B');
    expect(
      () => new ManagedMlflow(stack, 'M', { name: 'x', artifactsBucket: bucket, artifactsPrefix: 'mlflow' }),
    ).toThrow(/artifactsPrefix "mlflow" must end in "\/"/);
  });
});
