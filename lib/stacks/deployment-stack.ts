import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import { ARTIFACTS_LAYOUT } from '../config/artifacts-layout';
import { resourcePrefix } from '../config/naming';
import { ApproverRole } from '../constructs/approver-role';
import { StageBudget } from '../constructs/cost/stage-budget';
import { DeployModel, type EndpointAlarmSettings } from '../constructs/deploy/deploy-model';
import { EndpointOperations } from '../constructs/endpoint-operations';
import { RegisterModel } from '../constructs/register/register-model';
import { ServingModelRole } from '../constructs/serving-model-role';
import { ServingSettings } from '../constructs/serving-settings';
import type { AnalyzedRecipe } from '../recipes/recipe-analysis';
import { planServing, type ServingPlan } from '../recipes/serving-plan';

export interface DeploymentStackProps extends cdk.StackProps {
  readonly config: AppConfig;
  /**
   * Every recipe with its analysis (lib/recipes/report.ts `loadValidatedRecipes`): each gets a model package
   * group (training stack), an endpoint name and serving settings from its serving plan.
   */
  readonly recipes: readonly AnalyzedRecipe[];
  /** The platform key: encrypts the state machines' log groups and the data capture. */
  readonly key: kms.IKey;
  /**
   * Holds the trained models (`models/`, read by endpoints), data capture (`data-capture/`) and the recipes'
   * serving settings (`serving/`, read by the state machines).
   */
  readonly artifactsBucket: s3.IBucket;
  readonly vpc: ec2.IVpc;
  /** Private subnets of the endpoints' model `VpcConfig`. */
  readonly subnets: readonly ec2.ISubnet[];
  /**
   * Security group of the endpoints' ENIs.
   * @default - a new group in `vpc` with no inbound rules and HTTPS out only (S3 gateway, ECR, logs endpoints)
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * Subscribed to the notifications topic.
   * @default - `config.notificationEmail`; no subscription when that is unset
   */
  readonly notificationEmail?: string;
  /**
   * Rollback alarm thresholds of every endpoint.
   * @default - see EndpointAlarmSettings
   */
  readonly alarms?: EndpointAlarmSettings;
  /**
   * DescribeEndpoint polling interval of the deploy state machine.
   * @default cdk.Duration.minutes(1)
   */
  readonly pollInterval?: cdk.Duration;
}

/**
 * The register-and-deploy stage: EventBridge rules, the REGISTER and DEPLOY state machines, the endpoints'
 * model execution role, an SNS topic for approvals and outcomes, and the operations dashboard. Holds no
 * per-recipe CloudFormation resources (endpoints, their alarms and autoscaling are created at run time) and
 * no per-recipe state: each recipe's settings are one JSON object in the artifacts bucket, deployed as one
 * asset, so the template does not grow with the number of recipes.
 */
export class DeploymentStack extends cdk.Stack {
  public readonly plans: readonly ServingPlan[];
  /** The recipes' settings objects in the artifacts bucket, read by both state machines. */
  public readonly servingSettings: ServingSettings;
  public readonly topic: sns.Topic;
  public readonly register: RegisterModel;
  public readonly deploy: DeployModel;
  public readonly operations: EndpointOperations;
  public readonly modelRole: iam.IRole;
  /** Security group of the endpoints' model containers. */
  public readonly servingSecurityGroup: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: DeploymentStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prefix = resourcePrefix(config);
    this.plans = props.recipes.map((recipe) => planServing(recipe, config));

    // its own key: CloudWatch alarms publish to the topic, and the platform key's policy does not admit them.
    const topicKey = new kms.Key(this, 'NotificationsKey', {
      description: `${prefix}: encrypts the model registration and deployment notices`,
      enableKeyRotation: true,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        // in a key policy, "*" means this key.
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: `${prefix} models`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    const approver = new ApproverRole(this, 'Approver', {
      roleName: `${prefix}-approver`,
      groupPrefix: prefix,
      approvers: config.approvers,
    });
    new cdk.CfnOutput(this, 'ApproverRoleArn', {
      value: approver.role.roleArn,
      description: 'Assume this role to approve or reject model packages (npm run cli -- approve)',
    });
    if (config.budget) {
      new StageBudget(this, 'Budget', {
        name: `${prefix}-monthly`,
        monthlyUsd: config.budget.monthlyUsd,
        alertPercents: config.budget.alertPercents,
        tags: { project: config.namePrefix, stage: config.stage },
        topic: this.topic,
        topicKey,
      });
    }
    const email = props.notificationEmail ?? config.notificationEmail;
    if (email) this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    const deadLetterQueue = new sqs.Queue(this, 'UndeliveredEvents', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: cdk.Duration.days(14),
    });
    cdk.Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the EventBridge rule targets; it needs no DLQ of its own.',
    });

    this.servingSecurityGroup =
      props.securityGroup ??
      new ec2.SecurityGroup(this, 'ServingSecurityGroup', {
        vpc: props.vpc,
        description: `${prefix}: SageMaker endpoint containers (model download, image pull, logs over HTTPS)`,
        allowAllOutbound: false,
      });
    if (!props.securityGroup) {
      this.servingSecurityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to the VPC endpoints and the S3 gateway',
      );
    }

    this.modelRole = new ServingModelRole(this, 'ModelRole', {
      naming: config,
      artifactsBucket: props.artifactsBucket,
      // endpoints serve registered models only: the write-once copies REGISTER makes.
      modelsPrefix: ARTIFACTS_LAYOUT.registry,
      dataCapturePrefix: ARTIFACTS_LAYOUT.dataCapture,
      images: this.plans.map((p) => p.image),
      subnets: props.subnets,
      securityGroup: this.servingSecurityGroup,
    }).role;

    this.servingSettings = new ServingSettings(this, 'ServingSettings', {
      plans: this.plans,
      artifactsBucket: props.artifactsBucket,
    });
    this.register = new RegisterModel(this, 'Register', {
      naming: config,
      artifactsBucket: props.artifactsBucket,
      settings: this.servingSettings,
      topic: this.topic,
      logKey: props.key,
      deadLetterQueue,
    });
    this.deploy = new DeployModel(this, 'Deploy', {
      naming: config,
      settings: this.servingSettings,
      topic: this.topic,
      logKey: props.key,
      modelRole: this.modelRole,
      artifactsBucket: props.artifactsBucket,
      dataCapturePrefix: ARTIFACTS_LAYOUT.dataCapture,
      subnets: props.subnets,
      securityGroup: this.servingSecurityGroup,
      alarms: props.alarms,
      pollInterval: props.pollInterval,
      deadLetterQueue,
    });
    this.operations = new EndpointOperations(this, 'Operations', {
      naming: config,
      stateMachines: [this.register.stateMachine, this.deploy.stateMachine],
      alarms: [this.register.failedExecutionsAlarm, this.deploy.failedExecutionsAlarm],
    });

    new cdk.CfnOutput(this, 'RegisterStateMachineArn', { value: this.register.stateMachine.stateMachineArn });
    new cdk.CfnOutput(this, 'DeployStateMachineArn', { value: this.deploy.stateMachine.stateMachineArn });
    new cdk.CfnOutput(this, 'NotificationsTopicArn', { value: this.topic.topicArn });
    new cdk.CfnOutput(this, 'DashboardName', { value: this.operations.dashboard.dashboardName });
  }
}
