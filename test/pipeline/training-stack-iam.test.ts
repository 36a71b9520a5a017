import { Match, Template } from 'aws-cdk-lib/assertions';
import { ARTIFACTS_LAYOUT } from '../../lib/config/artifacts-layout';
import { definitionSteps, parameterDefaults } from '../../lib/pipeline';
import { cfnLintTemplates, expectCfnLintClean } from '../support/cfn-lint';
import { expectIamLintClean, iamLintTemplates } from '../support/iam-lint';
import { expectNoNagFindings } from '../support/nag';
import { type TemplateJson, testConfig } from '../support/template';
import {
  mergeNestedIntoParent,
  nestedTemplates,
  synthesizedTrainingApp,
  trainingTestApp,
  type TrainingTestApp,
} from './stack-support';
import { fixtureRecipe, type Obj } from './support';

/**
 * The TrainingStack's IAM and compliance: the training job and pipeline roles are least privilege, the staged
 * base models are read-only (and not granted at all when the jobs read the Hub through a NAT), and the
 * templates pass cdk-nag, cfn-lint and parliament. One synthesized app with both fixture recipes is shared by
 * the read-only assertions.
 */

/** Statements of the training job role's policy (the one that grants MLflow logging). */
function trainingRoleStatements(template: Template): Obj[] {
  const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
    JSON.stringify(p).includes('sagemaker-mlflow:LogMetric'),
  ) as Obj;
  return ((policy.Properties as Obj).PolicyDocument as Obj).Statement as Obj[];
}

describe('training stack', () => {
  let shared: TrainingTestApp;
  let parent: Template;
  beforeAll(() => {
    ({ shared, parent } = synthesizedTrainingApp());
  });

  test('the training job role is least privilege: prefixes, key via S3, log group, namespace, ENIs, MLflow', () => {
    // GIVEN the training job role policy.
    const policy = JSON.stringify(
      Object.values(parent.findResources('AWS::IAM::Policy')).find((p) =>
        JSON.stringify(p).includes('sagemaker-mlflow:LogMetric'),
      ),
    );
    // THEN S3 access is per prefix, writes only to models/ and checkpoints/, deletes only checkpoints/.
    expect(policy).toContain('/code/*');
    expect(policy).toContain('/models/*');
    expect(policy).toContain('/checkpoints/*');
    parent.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 's3:DeleteObject', Resource: Match.objectLike({ 'Fn::Join': Match.anyValue() }) }),
          Match.objectLike({
            Action: 'kms:CreateGrant',
            Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
          }),
          Match.objectLike({
            Action: 'cloudwatch:PutMetricData',
            Resource: '*',
            Condition: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
          }),
          Match.objectLike({ Action: 'ec2:CreateNetworkInterface' }),
        ]),
      },
    });
    expect(policy).not.toMatch(/"s3:\*"|"s3:GetObject\*"|"kms:\*"|"sagemaker:\*"/);
    // AND the role trusts only SageMaker of this account, and has no managed policies.
    parent.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'sagemaker.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
      Description: Match.stringLikeRegexp('training jobs'),
    });
    for (const role of Object.values(parent.findResources('AWS::IAM::Role'))) {
      expect((role.Properties as Obj).ManagedPolicyArns).toBeUndefined();
    }
  });

  test('the training job role reads staged base models and can never write them', () => {
    // GIVEN the training job role's statements on the artifacts bucket
    const statements = trainingRoleStatements(parent);
    const onBaseModels = statements.filter((st) =>
      JSON.stringify(st.Resource).includes(`/${ARTIFACTS_LAYOUT.baseModels}*`),
    );
    const actions = onBaseModels.flatMap((st) => [st.Action].flat() as string[]);
    // THEN it may get base-models/ objects, and nothing that writes, deletes or re-tags them
    expect(actions).toContain('s3:GetObject');
    expect(actions.filter((a) => !/^s3:(Get|List)/.test(a))).toEqual([]);
    // AND the jobs of every pipeline receive the model channel (no NAT in this config)
    expect(shared.stack.baseModelSource).toBe('staged');
    for (const pipeline of shared.stack.pipelines.values()) {
      expect(parameterDefaults(pipeline.definition.toJson())).toHaveProperty('BaseModelS3Uri');
    }
  });

  test('the pipeline role may only run pipeline training jobs and pass the training role to SageMaker', () => {
    // GIVEN the pipeline role policy THEN it is scoped to pipelines-* jobs and PassRole is conditioned.
    parent.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['sagemaker:AddTags', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'],
            Resource: { 'Fn::Join': ['', Match.arrayWith([':training-job/pipelines-*'])] },
          }),
          // CreateTrainingJob only with the conditions test/pipeline/iam-conditions.test.ts simulates
          Match.objectLike({
            Action: 'sagemaker:CreateTrainingJob',
            Condition: Match.objectLike({ Null: Match.objectLike({ 'sagemaker:InstanceTypes': 'false' }) }),
            Resource: { 'Fn::Join': ['', Match.arrayWith([':training-job/pipelines-*'])] },
          }),
          Match.objectLike({
            Action: 'iam:PassRole',
            Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TrainingJobRole'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    // GIVEN the four compliance packs WHEN run over the stack and its nested stacks THEN nothing is left.
    expectNoNagFindings(shared.stack);
  });

  test('passes cfn-lint and the IAM policy lint (parliament), nested stacks included', () => {
    // GIVEN every template of the app, the nested ones with their parameters resolved from the parent.
    const assembly = shared.app.synth();
    const templates: Record<string, TemplateJson> = {};
    for (const artifact of assembly.stacks) templates[artifact.stackName] = artifact.template as TemplateJson;
    const nested: Record<string, TemplateJson> = {};
    for (const [shard, template] of nestedTemplates(shared.stack))
      nested[`Training-Pipelines${shard}`] = template.toJSON();
    // WHEN linted THEN cfn-lint reports no error or warning and parliament no finding.
    expectCfnLintClean(cfnLintTemplates({ Training: templates.Training, ...nested }));
    const merged: Record<string, TemplateJson> = { Deps: templates.Deps, Training: templates.Training };
    for (const [shard, nestedStack] of shared.stack.shards) {
      merged[`Training-Pipelines${shard}`] = mergeNestedIntoParent(templates.Training, nestedStack, shared.stack);
    }
    expectIamLintClean(iamLintTemplates(merged));
  });
});

describe('a VPC with internet egress (NAT)', () => {
  test('jobs download the base model from the Hub: no model channel, no base-models/ grant, the Hub online', () => {
    // GIVEN a config whose VPC has a NAT gateway
    const config = testConfig({ vpc: { mode: 'create', natGateways: 1 } });
    const { app, stack } = trainingTestApp([fixtureRecipe('sft-lora-20b')], { config });
    app.synth();
    // THEN the pipeline reads the Hub, and the role has no access to staged base models
    expect(stack.baseModelSource).toBe('hub');
    const definition = [...stack.pipelines.values()][0].definition.toJson();
    expect(parameterDefaults(definition)).not.toHaveProperty('BaseModelS3Uri');
    for (const step of definitionSteps(definition).filter((s) => s.type === 'Training')) {
      const args = step.arguments as Obj;
      expect((args.InputDataConfig as Obj[]).map((c) => c.ChannelName)).toEqual(['code', 'recipe', 'training']);
      expect(args.Environment).toMatchObject({ GPT_OSS_MODEL_SOURCE: 'hub' });
      expect(args.Environment).not.toHaveProperty('HF_HUB_OFFLINE');
    }
    expect(JSON.stringify(trainingRoleStatements(Template.fromStack(stack)))).not.toContain(
      ARTIFACTS_LAYOUT.baseModels,
    );
    expectNoNagFindings(stack);
  });
});
