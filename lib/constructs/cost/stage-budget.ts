import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface StageBudgetProps {
  /** Budget name (unique per account). */
  readonly name: string;
  /** Monthly limit in USD. */
  readonly monthlyUsd: number;
  /** Percentages of the limit at which actual spend notifies the topic. */
  readonly alertPercents: readonly number[];
  /**
   * Cost-allocation tags that select the stage's spend; all must match. They must be activated as
   * cost-allocation tags in the Billing console before Budgets sees them (README, "Costs").
   */
  readonly tags: Readonly<Record<string, string>>;
  /** Where the alerts go. */
  readonly topic: sns.ITopic;
  /** The topic's key: Budgets must be allowed to use it to publish. */
  readonly topicKey: kms.IKey;
}

/**
 * A monthly cost budget for one stage: spend carrying the stage's cost-allocation tags, with an SNS alert at
 * each configured percentage of actual spend. The topic and its key admit AWS Budgets of this account only.
 * @see https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
 */
export class StageBudget extends Construct {
  public readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: StageBudgetProps) {
    super(scope, id);
    const account = props.topic.stack.account;
    const budgetsPrincipal = new iam.ServicePrincipal('budgets.amazonaws.com');
    props.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgetsOfThisAccount',
        principals: [budgetsPrincipal],
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgetsOfThisAccount',
        principals: [budgetsPrincipal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        // in a key policy, "*" means this key.
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    const tagFilters = Object.entries(props.tags).map(([key, value]) => ({ tags: { key, values: [value] } }));
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: props.name,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyUsd, unit: 'USD' },
        filterExpression: tagFilters.length === 1 ? tagFilters[0] : { and: tagFilters },
      },
      notificationsWithSubscribers: props.alertPercents.map((percent) => ({
        notification: {
          notificationType: 'ACTUAL',
          comparisonOperator: 'GREATER_THAN',
          threshold: percent,
          thresholdType: 'PERCENTAGE',
        },
        subscribers: [{ subscriptionType: 'SNS', address: props.topic.topicArn }],
      })),
    });
  }
}
