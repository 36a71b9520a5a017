import { Template } from 'aws-cdk-lib/assertions';
import { platformApp } from './fixtures';

/**
 * Stateful resources must keep their logical ids: a changed id makes CloudFormation create a new resource and
 * delete (or, for retained ones, orphan) the old one: a new key, empty buckets, a new Studio domain with
 * empty home directories, a new MLflow server without its runs. Change an id here only with a migration plan.
 */
describe('logical ids of stateful resources', () => {
  const { stacks } = platformApp();

  test.each([
    ['data', 'AWS::KMS::Key', ['Key961B73FD']],
    ['data', 'AWS::S3::Bucket', ['AccessLogs8B620ECA', 'Artifacts82DD59A1', 'Datasets0030EE04']],
    ['network', 'AWS::EC2::VPC', ['NetworkVpc7FB7348F']],
    ['studio', 'AWS::SageMaker::Domain', ['Studio43727D10']],
    ['studio', 'AWS::SageMaker::MlflowTrackingServer', ['MlflowTrackingServer97E86BDA']],
  ] as const)('%s stack keeps its %s ids', (stack, type, ids) => {
    // GIVEN the default config / WHEN synthesized / THEN
    const template = Template.fromStack(stacks[stack]);
    expect(Object.keys(template.findResources(type)).sort()).toEqual([...ids].sort());
  });

  test('user profiles are keyed by user name', () => {
    // GIVEN two users / THEN their ids derive from the names, so reordering the list replaces nothing
    const a = Template.fromStack(
      platformApp({ studio: { users: [{ name: 'alice' }, { name: 'bob' }] } }).stacks.studio,
    );
    const b = Template.fromStack(
      platformApp({ studio: { users: [{ name: 'bob' }, { name: 'alice' }] } }).stacks.studio,
    );
    const ids = (t: Template) => Object.keys(t.findResources('AWS::SageMaker::UserProfile')).sort();
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a)).toEqual([
      expect.stringMatching(/^StudioUsersalice[0-9A-F]{8}$/),
      expect.stringMatching(/^StudioUsersbob[0-9A-F]{8}$/),
    ]);
  });

  test('the MLflow App and the tracking server have different ids (switching kind replaces, never retypes)', () => {
    // GIVEN kind serverless-app / THEN CloudFormation sees a new resource, not a type change of the old one
    const app = Template.fromStack(platformApp({ mlflow: { kind: 'serverless-app' } }).stacks.studio);
    expect(Object.keys(app.findResources('AWS::SageMaker::MlflowApp'))).toEqual(['MlflowApp434C8BD0']);
  });
});
