import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ARTIFACTS_LAYOUT } from '../../lib/config/artifacts-layout';
import { ARTIFACT_KEYS, type Json, parameterDefaults, definitionSteps } from '../../lib/pipeline';
import { cfnLintTemplates, expectCfnLintClean } from '../support/cfn-lint';
import { expectIamLintClean, iamLintTemplates } from '../support/iam-lint';
import { expectNoNagFindings } from '../support/nag';
import { type TemplateJson, testConfig } from '../support/template';
import {
  groupsOf,
  nestedTemplates,
  pipelinesOf,
  RECIPES,
  resourcesOfType,
  synthesizedTrainingApp,
  trainingTestApp,
  type TrainingTestApp,
  mergeNestedIntoParent,
} from './stack-support';
import { fixtureRecipe, type Obj } from './support';

/**
 * The TrainingStack, synthesized once with both fixture recipes for the read-only assertions: one pipeline and
 * model package group per recipe; definitions and recipe files uploaded to S3 under content-hashed keys; the
 * training code; byte-stable synthesis; least-privilege training job and pipeline roles; read-only staged base
 * models (not granted at all when the jobs read the Hub through a NAT); cdk-nag, cfn-lint and parliament.
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

  test('creates one pipeline and one model package group per recipe, named by naming.ts', () => {
    // GIVEN two recipes WHEN synthesized THEN each has a lowercase pipeline and a group of the same name.
    expect([...pipelinesOf(shared.stack).keys()].sort()).toEqual([
      'gptoss-dev-minimal-120b',
      'gptoss-dev-sft-lora-20b',
    ]);
    expect(groupsOf(shared.stack).sort()).toEqual(['gptoss-dev-minimal-120b', 'gptoss-dev-sft-lora-20b']);
  });

  test('stores each definition in S3 under a content-hashed key, never inline', () => {
    // GIVEN the synthesized pipelines WHEN their definitions are read.
    for (const [name, { props }] of pipelinesOf(shared.stack)) {
      const recipe = name.replace('gptoss-dev-', '');
      // THEN each names an S3 location in the artifacts bucket under pipelines/<recipe>/<hash>.json.
      expect(props.PipelineDefinition).toEqual({
        PipelineDefinitionS3Location: {
          Bucket: { Ref: 'ArtifactsBucketName' },
          Key: expect.stringMatching(new RegExp(`^pipelines/${recipe}/[0-9a-f]{16}\\.json$`)),
        },
      });
      expect(props.RoleArn).toEqual({ Ref: expect.stringMatching(/PipelineRole/) });
    }
    const all = JSON.stringify([...nestedTemplates(shared.stack).values()].map((t) => t.toJSON()));
    expect(all).not.toContain('PipelineDefinitionBody');
  });

  test('uploads the definition and the recipe file as deploy-time-substituted files before the pipeline', () => {
    // GIVEN the sft-lora-20b pipeline and its stack's file deployment.
    const pipeline = shared.stack.pipelines.get('sft-lora-20b');
    expect(pipeline).toBeDefined();
    const template = Template.fromStack(cdk.Stack.of(pipeline!));
    const [deploymentId, deployment] = Object.entries(resourcesOfType(template, 'Custom::CDKBucketDeployment'))[0];
    const props = deployment.Properties as Obj;
    // THEN it writes to the artifacts bucket without pruning, substitutes markers JSON-escaped,
    expect(props).toMatchObject({
      DestinationBucketName: { Ref: 'ArtifactsBucketName' },
      Prune: false,
      RetainOnDelete: true,
    });
    const markers = JSON.stringify(props.SourceMarkers);
    for (const ref of [
      'TrainingJobRoleArn',
      'KmsKeyArn',
      'ArtifactsBucketName',
      'SubnetId1',
      'SubnetId2',
      'SecurityGroupId1',
      'MlflowTrackingArn',
    ]) {
      expect(markers).toContain(`{"Ref":"${ref}"}`);
    }
    // AND the pipeline waits for it.
    const [, cfnPipeline] = Object.entries(resourcesOfType(template, 'AWS::SageMaker::Pipeline')).find(
      ([, r]) => (r.Properties as Obj).PipelineName === 'gptoss-dev-sft-lora-20b',
    )!;
    expect(cfnPipeline.DependsOn).toEqual(expect.arrayContaining([deploymentId]));
  });

  test('the uploaded definition file is the builder output with markers where the deploy-time values go', () => {
    // GIVEN the asset holding the definition file of sft-lora-20b.
    const pipeline = shared.stack.pipelines.get('sft-lora-20b')!;
    const assembly = shared.app.synth();
    const file = findAssetFile(assembly.directory, pipeline.definitionKey);
    const text = fs.readFileSync(file, 'utf8');
    // WHEN every marker is replaced by a placeholder THEN the file parses and equals the definition.
    const markers = text.match(/<<marker:0xbaba:\d+>>/g) ?? [];
    expect(markers.length).toBeGreaterThan(10);
    const parsed = JSON.parse(text.replace(/<<marker:0xbaba:\d+>>/g, 'VALUE')) as Json;
    const expected = JSON.parse(
      JSON.stringify(pipeline.definition.toJson()).replace(/\$\{Token\[[^\]]+\]\}/g, 'VALUE'),
    ) as Json;
    expect(parsed).toEqual(expected);
    expect(parameterDefaults(parsed).TrainingInstanceType).toBe('ml.p5.48xlarge');
    // AND the recipe file is uploaded byte for byte as <recipe>.yaml under its content prefix.
    const recipeFile = findAssetFile(assembly.directory, `${pipeline.recipePrefix}sft-lora-20b.yaml`);
    expect(fs.readFileSync(recipeFile, 'utf8')).toBe(fixtureRecipe('sft-lora-20b').source);
  });

  test('uploads the training code once, extracted under a content-hashed prefix, without tests or caches', () => {
    // GIVEN the parent stack WHEN its code deployment is read THEN it targets code/training/<hash>/.
    parent.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketKeyPrefix: Match.stringLikeRegexp('^code/training/[0-9a-f]{64}/$'),
      Prune: false,
    });
    const assembly = shared.app.synth();
    const codeDir = fs
      .readdirSync(assembly.directory)
      .map((d) => path.join(assembly.directory, d))
      .find((d) => fs.existsSync(path.join(d, 'launch.py')));
    expect(codeDir).toBeDefined();
    const entries = fs.readdirSync(codeDir!);
    expect(entries).toContain('gpt_oss_train');
    expect(entries).not.toContain('tests');
    expect(entries).not.toContain('.venv');
  });

  test('the artifact keys live under the data stack layout prefixes', () => {
    // GIVEN the shared layout WHEN compared THEN every pipeline key sits under a layout prefix.
    expect(ARTIFACT_KEYS.codeRoot).toBe(ARTIFACTS_LAYOUT.code);
    expect(ARTIFACT_KEYS.recipesRoot.startsWith(ARTIFACTS_LAYOUT.code)).toBe(true);
    expect(ARTIFACT_KEYS.pipelinesRoot).toBe(ARTIFACTS_LAYOUT.pipelines);
    expect(ARTIFACT_KEYS.modelsRoot).toBe(ARTIFACTS_LAYOUT.models);
    expect(ARTIFACT_KEYS.checkpointsRoot).toBe(ARTIFACTS_LAYOUT.checkpoints);
  });

  test('is byte-stable: a second synthesis gives identical templates and definition files', () => {
    // GIVEN a second app over the same recipes WHEN synthesized THEN the nested templates are identical.
    const again = trainingTestApp(RECIPES());
    for (const [shard, template] of nestedTemplates(again.stack)) {
      expect(JSON.stringify(template.toJSON())).toBe(
        JSON.stringify(nestedTemplates(shared.stack).get(shard)!.toJSON()),
      );
    }
    const a = shared.stack.pipelines.get('sft-lora-20b')!;
    const b = again.stack.pipelines.get('sft-lora-20b')!;
    expect(b.definitionKey).toBe(a.definitionKey);
    expect(JSON.stringify(again.stack.resolve(b.definition.toJson()))).toBe(
      JSON.stringify(shared.stack.resolve(a.definition.toJson())),
    );
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

/** Finds the staged file of a Source.data/jsonData asset by its object key. */
function findAssetFile(assemblyDir: string, objectKey: string): string {
  for (const entry of fs.readdirSync(assemblyDir)) {
    const candidate = path.join(assemblyDir, entry, objectKey);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`no asset in ${assemblyDir} holds ${objectKey}`);
}
