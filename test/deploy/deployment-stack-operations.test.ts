import { Match, Template } from 'aws-cdk-lib/assertions';
import { expectCfnLintClean, cfnLintTemplates } from '../support/cfn-lint';
import { TEST_ACCOUNT } from '../support/sfn-local';
import { snapshotOf } from '../support/template';
import { buildDeploymentStack, type DeploymentFixture, deploymentTemplate, PREFIX } from './support';

/** The DeploymentStack's notifications topic, budget, alarms and dashboard, and the snapshot of its template. */

let fixture: DeploymentFixture;
let template: Template;

beforeAll(() => {
  ({ fixture, template } = deploymentTemplate());
});

describe('notifications and operations', () => {
  test('the topic is KMS-encrypted, SSL-only, subscribed by the configured email, and alarms can publish', () => {
    // GIVEN notificationEmail in config WHEN synthesized THEN topic, subscription and policies exist
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ml-team@example.com' });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Effect: 'Deny' }),
        ]),
      },
    });
  });

  test('without notificationEmail there is no subscription', () => {
    // GIVEN no email WHEN synthesized THEN no subscription
    const quiet = buildDeploymentStack({ config: { notificationEmail: undefined } });
    Template.fromJSON(quiet.template).resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('a configured budget watches the stage by its cost-allocation tags and alerts the topic, which admits Budgets', () => {
    // GIVEN a budget of 500 USD a month with the default alerts
    const budgeted = buildDeploymentStack({ config: { budget: { monthlyUsd: 500 } } });
    const t = Template.fromJSON(budgeted.template);
    // THEN one monthly cost budget on spend tagged with this project AND stage, alerting at 80% and 100%
    t.resourceCountIs('AWS::Budgets::Budget', 1);
    const alert = (threshold: number) => ({
      Notification: {
        NotificationType: 'ACTUAL',
        ComparisonOperator: 'GREATER_THAN',
        Threshold: threshold,
        ThresholdType: 'PERCENTAGE',
      },
      Subscribers: [{ SubscriptionType: 'SNS', Address: { Ref: Match.stringLikeRegexp('^Notifications') } }],
    });
    t.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: `${PREFIX}-monthly`,
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: 500, Unit: 'USD' },
        FilterExpression: {
          And: [{ Tags: { Key: 'project', Values: ['gptoss'] } }, { Tags: { Key: 'stage', Values: ['dev'] } }],
        },
      },
      NotificationsWithSubscribers: [alert(80), alert(100)],
    });
    // AND Budgets of this account may publish to the topic and use its key
    const budgetsStatement = Match.objectLike({
      Principal: { Service: 'budgets.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': TEST_ACCOUNT } },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([budgetsStatement]) },
    });
    t.hasResourceProperties('AWS::KMS::Key', { KeyPolicy: { Statement: Match.arrayWith([budgetsStatement]) } });
    // AND the template is cfn-lint clean
    expectCfnLintClean(cfnLintTemplates({ [`${PREFIX}-deployment`]: budgeted.template }));
    // AND without a budget in the config there is none
    template.resourceCountIs('AWS::Budgets::Budget', 0);
  });

  test('failed executions alarm to the topic, and one dashboard covers endpoints and pipelines by SEARCH', () => {
    // GIVEN the stack WHEN synthesized THEN two alarms with topic actions and a dashboard with SEARCH queries
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
    });
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties);
    expect(body).toContain(`${PREFIX}-models`);
    for (const metric of ['Invocation5XXErrors', 'ModelLatency', 'GPUUtilization', 'ExecutionFailed']) {
      expect(body).toContain(`MetricName=\\\\\\"${metric}\\\\\\"`);
    }
  });

  test('matches the snapshot', () => {
    // GIVEN the stack WHEN synthesized THEN the template is unchanged (asset hashes normalised)
    expect(snapshotOf(fixture.stack)).toMatchSnapshot();
  });
});
