import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
// asl-validator 4 ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: unknown[] };
import { servingSettingsFiles } from '../../lib/constructs/serving-settings';
import { expectCfnLintClean, cfnLintTemplates } from '../support/cfn-lint';
import { expectIamLintClean, iamLintTemplates } from '../support/iam-lint';
import { expectNoNagFindings } from '../support/nag';
import { type CfnTemplate, definitionOf, type RefValues, TEST_ACCOUNT } from '../support/sfn-local';
import { snapshotOf, synthApp, type SynthesizedApp } from '../support/template';
import {
  buildDeploymentStack,
  deployDefinition,
  type DeploymentFixture,
  fixtureRecipe,
  IMPORTED,
  registerDefinition,
} from './support';

let fixture: DeploymentFixture;
let template: Template;
let full: SynthesizedApp;

beforeAll(() => {
  fixture = buildDeploymentStack();
  template = Template.fromJSON(fixture.template);
  // the real app, wired by createStacks with the repository's recipes
  full = synthApp();
});

const PREFIX = 'gptoss-dev';

function rolePolicyStatements(logicalIdPrefix: string): Record<string, unknown>[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const [, policy] = Object.entries(policies).find(([id]) => id.startsWith(logicalIdPrefix)) ?? [];
  if (!policy) throw new Error(`no policy ${logicalIdPrefix}*`);
  return (policy.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

describe('event rules', () => {
  test("REGISTER starts on Succeeded executions of this deployment's pipelines only", () => {
    // GIVEN the stack WHEN synthesized THEN the rule matches the pipeline ARN prefix and Succeeded status
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Building Pipeline Execution Status Change'],
        detail: {
          currentPipelineExecutionStatus: ['Succeeded'],
          pipelineArn: [{ prefix: `arn:aws:sagemaker:us-east-1:123456789012:pipeline/${PREFIX}-` }],
        },
      },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^RegisterStateMachine') },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UndeliveredEvents'), 'Arn'] } },
        }),
      ],
    });
  });

  test("DEPLOY starts on Approved, completed packages of this deployment's groups only", () => {
    // GIVEN the stack WHEN synthesized THEN the rule matches the group prefix and Approved status
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        detail: {
          ModelPackageGroupName: [{ prefix: `${PREFIX}-` }],
          ModelApprovalStatus: ['Approved'],
          ModelPackageStatus: ['Completed'],
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^DeployStateMachine') } })],
    });
    template.resourceCountIs('AWS::Events::Rule', 2);
  });
});

describe('state machines', () => {
  test('log ALL with execution data to KMS-encrypted log groups, and trace with X-Ray', () => {
    // GIVEN the two state machines WHEN synthesized THEN both log and trace
    for (const name of [`${PREFIX}-register`, `${PREFIX}-deploy`]) {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: name,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: true,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
        },
      });
    }
    // (the third group is the settings file deployment's handler's)
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.values(groups)).toHaveLength(3);
    for (const group of Object.values(groups)) {
      expect(group.Properties).toMatchObject({ KmsKeyId: IMPORTED.keyArn, RetentionInDays: 365 });
    }
  });

  test('both definitions are valid ASL (asl-validator), on JSONPath', () => {
    // GIVEN the synthesized definitions WHEN validated THEN no errors
    for (const definition of [registerDefinition(fixture), deployDefinition(fixture)]) {
      const { isValid, errors } = aslValidator(definition, { checkPaths: true, checkArn: true });
      expect(errors).toEqual([]);
      expect(isValid).toBe(true);
      expect(JSON.stringify(definition)).not.toContain('JSONata');
    }
  });

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
      const { errors } = aslValidator(definition, { checkPaths: true, checkArn: true });
      expect(errors).toEqual([]);
    }
    expect(stack.plans.map((p) => p.recipe).sort()).toEqual(
      full.stacks.training.pipelines.size > 0 ? [...full.stacks.training.pipelines.keys()].sort() : [],
    );
  });

  test('with no recipes, both machines are valid and ignore every event', () => {
    // GIVEN a deployment without recipes WHEN synthesized THEN the definitions are valid ASL
    const empty = buildDeploymentStack({ recipes: [] });
    for (const definition of [registerDefinition(empty), deployDefinition(empty)]) {
      expect(aslValidator(definition, { checkPaths: true, checkArn: true }).errors).toEqual([]);
    }
    expect(registerDefinition(empty).States['Not a recipe pipeline']).toMatchObject({ Type: 'Succeed' });
    // AND there is nothing to deploy or read: no settings deployment, no S3 grant but REGISTER's registry copy
    Template.fromJSON(empty.template).resourceCountIs('Custom::CDKBucketDeployment', 0);
    const machinePolicies = Object.entries(empty.template.Resources).filter(
      ([id, r]) => r.Type === 'AWS::IAM::Policy' && /^(RegisterRole|DeployStateMachineRole)DefaultPolicy/.test(id),
    );
    expect(machinePolicies).toHaveLength(2);
    const [deployPolicy] = machinePolicies.filter(([id]) => id.startsWith('Deploy'));
    expect(JSON.stringify(deployPolicy)).not.toMatch(/"s3:/);
    const [registerPolicy] = machinePolicies.filter(([id]) => id.startsWith('Register'));
    expect(JSON.stringify(registerPolicy)).not.toContain('serving/');
  });

  test('a recipe adds neither a state nor a CloudFormation resource: the definitions differ only in the settings revision', () => {
    // GIVEN one and two recipes WHEN synthesized THEN the resource lists are the same
    const one = buildDeploymentStack({ recipes: [fixtureRecipe('sft-lora-20b')] });
    const types = (t: CfnTemplate) =>
      Object.values(t.Resources)
        .map((r) => r.Type)
        .sort();
    expect(types(one.template)).toEqual(types(fixture.template));
    // AND both definitions are the same text once the content-addressed settings prefix is set aside
    const revisionFree = (f: DeploymentFixture, definition: unknown) =>
      JSON.stringify(definition).split(f.stack.servingSettings.prefix).join('serving/<revision>/');
    expect(one.stack.servingSettings.prefix).not.toBe(fixture.stack.servingSettings.prefix);
    expect(revisionFree(one, registerDefinition(one))).toBe(revisionFree(fixture, registerDefinition(fixture)));
    expect(revisionFree(one, deployDefinition(one))).toBe(revisionFree(fixture, deployDefinition(fixture)));
  });

  test('both machines read the settings objects only after they are deployed, from the prefix they name', () => {
    // GIVEN the stack WHEN synthesized THEN one file deployment writes the settings prefix from one source
    const prefix = fixture.stack.servingSettings.prefix;
    expect(prefix).toMatch(/^serving\/[0-9a-f]{16}\/$/);
    const deployments = template.findResources('Custom::CDKBucketDeployment');
    const [[deploymentId, deployment]] = Object.entries(deployments).filter(
      ([, r]) => (r.Properties as Record<string, unknown>).DestinationBucketKeyPrefix === prefix,
    );
    expect(deployment.Properties).toMatchObject({
      DestinationBucketName: IMPORTED.bucketName,
      SourceObjectKeys: [expect.stringMatching(/\.zip$/)],
      Prune: false,
      RetainOnDelete: true,
    });
    expect(deployment.Properties.SourceMarkers).toBeUndefined();
    // AND each state machine depends on it and names the prefix in its definition
    for (const [logicalIdPrefix, definition] of [
      ['RegisterStateMachine', registerDefinition(fixture)],
      ['DeployStateMachine', deployDefinition(fixture)],
    ] as const) {
      const [machine] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(([id]) =>
        id.startsWith(logicalIdPrefix),
      );
      expect(machine[1].DependsOn).toEqual(expect.arrayContaining([deploymentId]));
      expect(JSON.stringify(definition)).toContain(`'${prefix}{}.json'`);
    }
  });

  test('the staged settings asset holds exactly the objects servingSettingsFiles generates', () => {
    // GIVEN the synthesized assembly WHEN the staged directory is read THEN it has one file per object
    const settings = fixture.stack.servingSettings;
    const staged = path.join(fixture.app.outdir, settings.asset?.assetPath ?? 'missing');
    const { files } = servingSettingsFiles(fixture.stack.plans);
    expect(fs.readdirSync(staged).sort()).toEqual(files.map((f) => `${f.name}.json`).sort());
    for (const file of files) {
      expect(fs.readFileSync(path.join(staged, `${file.name}.json`), 'utf8')).toBe(file.body);
      expect(file.key).toBe(`${settings.prefix}${file.name}.json`);
    }
    expect(files.map((f) => f.name)).toEqual(['gptoss-dev-full-120b-auto', 'gptoss-dev-sft-lora-20b']);
  });
});

describe('least privilege', () => {
  test("the REGISTER role reaches only this deployment's pipelines, training jobs and package groups", () => {
    // GIVEN the register role's policy WHEN read THEN every SageMaker write is scoped by name prefix
    const statements = rolePolicyStatements('RegisterRoleDefaultPolicy');
    const byAction = (action: string) =>
      statements.filter((s) => asList(s.Action).some((a) => (a as string).toLowerCase() === action.toLowerCase()));
    expect(JSON.stringify(byAction('sagemaker:CreateModelPackage'))).toContain(`model-package/${PREFIX}-*/*`);
    expect(JSON.stringify(byAction('sagemaker:ListPipelineExecutionSteps'))).toContain(
      `pipeline/${PREFIX}-*/execution/*`,
    );
    expect(JSON.stringify(byAction('sagemaker:DescribeTrainingJob'))).toContain('training-job/pipelines-*');
    // AND nothing grants a sagemaker:* or iam:* action
    expect(
      statements.flatMap((s) => asList(s.Action)).filter((a) => /^(sagemaker|iam):\*|^\*$/.test(a as string)),
    ).toEqual([]);
    // AND "*" resources are used only by the actions that support no resource-level permissions
    const starActions = statements.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action));
    expect(starActions.filter((a) => !/^(xray:|logs:|sagemaker:listmodelpackages$)/i.test(a as string))).toEqual([]);
  });

  test('REGISTER reads the job outputs under models/, writes only registry/, and deletes nothing', () => {
    const statements = rolePolicyStatements('RegisterRoleDefaultPolicy');
    const withAction = (action: string) => statements.filter((s) => asList(s.Action).includes(action));
    expect(withAction('s3:PutObject').flatMap((s) => asList(s.Resource))).toEqual([
      `arn:aws:s3:::${IMPORTED.bucketName}/registry/*`,
    ]);
    expect(
      withAction('s3:GetObject')
        .flatMap((s) => asList(s.Resource))
        .sort(),
    ).toEqual(
      [
        `arn:aws:s3:::${IMPORTED.bucketName}/models/*`,
        `arn:aws:s3:::${IMPORTED.bucketName}/registry/*`,
        `arn:aws:s3:::${IMPORTED.bucketName}/serving/*`,
      ].sort(),
    );
    expect(statements.flatMap((s) => asList(s.Action)).filter((a) => /^s3:Delete/.test(a as string))).toEqual([]);
  });

  test('DEPLOY reads the settings objects under serving/ only, lists only that prefix, and decrypts through S3 only', () => {
    // GIVEN the role's policy WHEN read THEN the S3 and KMS statements are scoped to the settings
    for (const role of ['DeployStateMachineRoleDefaultPolicy']) {
      const statements = rolePolicyStatements(role);
      const withAction = (action: string) => statements.filter((s) => asList(s.Action).includes(action));
      expect(withAction('s3:GetObject').flatMap((s) => asList(s.Resource))).toEqual(
        expect.arrayContaining([`arn:aws:s3:::${IMPORTED.bucketName}/serving/*`]),
      );
      for (const s of withAction('s3:GetObject')) {
        expect(asList(s.Resource)).toEqual([`arn:aws:s3:::${IMPORTED.bucketName}/serving/*`]);
      }
      expect(withAction('s3:ListBucket')).toEqual([
        expect.objectContaining({
          Resource: `arn:aws:s3:::${IMPORTED.bucketName}`,
          Condition: { StringLike: { 's3:prefix': ['serving/*'] } },
        }),
      ]);
      // (the other kms:Decrypt is the notifications topic's own key, for SNS publishing)
      expect(withAction('kms:Decrypt').filter((st) => st.Resource === IMPORTED.keyArn)).toEqual([
        expect.objectContaining({
          Resource: IMPORTED.keyArn,
          Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
        }),
      ]);
      expect(
        statements.flatMap((s) => asList(s.Action)).filter((a) => /^s3:(\*|List\*|GetObject\*)/.test(a as string)),
      ).toEqual([]);
    }
  });

  test('the DEPLOY role passes only the model role, to SageMaker, and writes only prefixed hosting resources', () => {
    // GIVEN the deploy role's policy WHEN read THEN PassRole is conditioned and writes are prefix-scoped
    const statements = rolePolicyStatements('DeployStateMachineRoleDefaultPolicy');
    const pass = statements.filter((s) => asList(s.Action).includes('iam:PassRole'));
    expect(pass).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ModelRole/), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    ]);
    const writes = statements.filter((s) =>
      asList(s.Action).some((a) => /^sagemaker:(Create|Update|Delete|create|update|delete)/.test(a as string)),
    );
    for (const s of writes) {
      for (const resource of asList(s.Resource)) expect(JSON.stringify(resource)).toMatch(new RegExp(`/${PREFIX}-\\*`));
    }
    const starActions = statements.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action));
    expect(
      starActions.filter(
        (a) =>
          !/^(xray:|logs:|sagemaker:(listEndpoints|listModels|listEndpointConfigs|ListEndpoints|ListModels|ListEndpointConfigs)$)/.test(
            a as string,
          ),
      ),
    ).toEqual([]);
    expect(JSON.stringify(statements)).toContain(`"sagemaker:InvokeEndpoint"`);
  });

  test('the model role is assumed by SageMaker, reads registry/ (not models/) and writes data-capture/ only, with no managed policies', () => {
    // GIVEN the model execution role WHEN synthesized THEN trust and scope are as designed
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })],
      },
      ManagedPolicyArns: Match.absent(),
    });
    const text = JSON.stringify(rolePolicyStatements('ModelRole'));
    // endpoints serve the registered copy only; a job's mutable output is out of their reach
    expect(text).toContain(`arn:aws:s3:::${IMPORTED.bucketName}/registry/*`);
    expect(text).not.toContain(`arn:aws:s3:::${IMPORTED.bucketName}/models/*`);
    expect(text).toContain(`arn:aws:s3:::${IMPORTED.bucketName}/data-capture/*`);
    expect(text).toContain('repository/vllm');
    expect(text).not.toMatch(/"s3:\*"|"s3:GetObject\*"|"s3:List\*"/);
  });

  test("the endpoints' security group accepts nothing and sends HTTPS only", () => {
    // GIVEN no security group passed WHEN synthesized THEN the stack's own group is egress-443-only
    const own = buildDeploymentStack({ props: { securityGroup: undefined } });
    Template.fromJSON(own.template).hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: IMPORTED.vpcId,
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })],
      SecurityGroupIngress: Match.absent(),
    });
  });
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
