import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ARTIFACTS_LAYOUT } from '../../lib/config/artifacts-layout';
import { ARTIFACT_KEYS, definitionSteps, type Json, parameterDefaults } from '../../lib/pipeline';
import { MAX_RECIPES_PER_SHARD, shardOf } from '../../lib/pipeline/pipeline-shards';
import { readMetricDefinitions } from '../../lib/pipeline/training-job-contract';
import { estimateVolumeSizeGb } from '../../lib/recipes/volume-estimator';
import type { TrainingStack } from '../../lib/stacks/training-stack';
import { cfnLintTemplates, expectCfnLintClean } from '../support/cfn-lint';
import { expectIamLintClean, iamLintTemplates } from '../support/iam-lint';
import { expectNoNagFindings } from '../support/nag';
import { type TemplateJson, testConfig } from '../support/template';
import { mergeNestedIntoParent, nestedTemplates, trainingTestApp } from './stack-support';
import { fixtureRecipe, TEST_METRICS } from './support';

/**
 * The TrainingStack over its own dependency stack (key, buckets, VPC). Synthesis is the slow part, so one
 * app with both fixture recipes is shared by the read-only assertions.
 */

type Obj = Record<string, Json>;
const RECIPES = () => [fixtureRecipe('sft-lora-20b'), fixtureRecipe('minimal-120b')];

function resourcesOfType(template: Template, type: string): Record<string, Obj> {
  return template.findResources(type) as Record<string, Obj>;
}

/** Statements of the training job role's policy (the one that grants MLflow logging). */
function trainingRoleStatements(template: Template): Obj[] {
  const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
    JSON.stringify(p).includes('sagemaker-mlflow:LogMetric'),
  ) as Obj;
  return ((policy.Properties as Obj).PolicyDocument as Obj).Statement as Obj[];
}

/** All pipelines of a stack: pipeline name → {shard, logical id, properties}. */
function pipelinesOf(stack: TrainingStack): Map<string, { shard: number; logicalId: string; props: Obj }> {
  const out = new Map<string, { shard: number; logicalId: string; props: Obj }>();
  for (const [shard, template] of nestedTemplates(stack)) {
    for (const [logicalId, r] of Object.entries(resourcesOfType(template, 'AWS::SageMaker::Pipeline'))) {
      const props = r.Properties as Obj;
      out.set(props.PipelineName as string, { shard, logicalId, props });
    }
  }
  return out;
}

function groupsOf(stack: TrainingStack): string[] {
  return [...nestedTemplates(stack).values()].flatMap((t) =>
    Object.values(resourcesOfType(t, 'AWS::SageMaker::ModelPackageGroup')).map(
      (r) => (r.Properties as Obj).ModelPackageGroupName as string,
    ),
  );
}

describe('training stack', () => {
  let shared: ReturnType<typeof trainingTestApp>;
  let parent: Template;
  beforeAll(() => {
    shared = trainingTestApp(RECIPES());
    shared.app.synth();
    parent = Template.fromStack(shared.stack);
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
});

describe('adding and removing recipes', () => {
  test('adding a recipe adds exactly one pipeline and one group, and leaves the others untouched', () => {
    // GIVEN one recipe, then the same plus a second.
    const one = trainingTestApp([fixtureRecipe('sft-lora-20b')]).stack;
    const two = trainingTestApp(RECIPES()).stack;
    // THEN exactly the new pipeline and group appear.
    const before = pipelinesOf(one);
    const after = pipelinesOf(two);
    expect([...after.keys()].filter((k) => !before.has(k))).toEqual(['gptoss-dev-minimal-120b']);
    expect(groupsOf(two).length - groupsOf(one).length).toBe(1);
    // AND the existing pipeline keeps its stack, logical id and definition key (no replacement, no update).
    const old = before.get('gptoss-dev-sft-lora-20b')!;
    const kept = after.get('gptoss-dev-sft-lora-20b')!;
    expect(kept.shard).toBe(old.shard);
    expect(kept.logicalId).toBe(old.logicalId);
    expect(kept.props).toEqual(old.props);
  });

  test('removing a recipe removes exactly its pipeline and group', () => {
    // GIVEN two recipes, then only the second.
    const two = trainingTestApp(RECIPES()).stack;
    const one = trainingTestApp([fixtureRecipe('minimal-120b')]).stack;
    // THEN only the removed recipe's pipeline and group are gone.
    expect([...pipelinesOf(two).keys()].filter((k) => !pipelinesOf(one).has(k))).toEqual(['gptoss-dev-sft-lora-20b']);
    expect(groupsOf(one)).toEqual(['gptoss-dev-minimal-120b']);
  });

  test('a recipe always lands in the same nested stack, whatever else is deployed', () => {
    // GIVEN recipe names WHEN sharded with the default count THEN the shard depends only on the name.
    expect(shardOf('sft-lora-20b', 8)).toBe(shardOf('sft-lora-20b', 8));
    const shards = new Set(Array.from({ length: 200 }, (_, i) => shardOf(`recipe-${i}`, 8)));
    expect([...shards].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('inputs the stack refuses', () => {
  test('fails clearly when the metric definitions file of the training-code contract is missing', () => {
    // GIVEN a path without the file WHEN read THEN the message names the file and the expected content.
    expect(() => readMetricDefinitions(path.join(os.tmpdir(), 'nope', 'metric_definitions.json'))).toThrow(
      /metric_definitions.json not found: the training code must ship its SageMaker MetricDefinitions there/,
    );
  });

  test('fails a malformed metric definitions file', () => {
    // GIVEN a file that is not a list of Name/Regex WHEN read THEN it says what is expected.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-'));
    const file = path.join(dir, 'metric_definitions.json');
    fs.writeFileSync(file, JSON.stringify([{ Name: 'eval_loss' }]));
    expect(() => readMetricDefinitions(file)).toThrow(/expected a non-empty list of \{"Name": "...", "Regex": "..."\}/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('fails a recipe image that is not in Amazon ECR, naming the file and key', () => {
    // GIVEN a recipe with a Docker Hub image.
    const recipe = fixtureRecipe('minimal-120b');
    const bad = {
      ...recipe,
      document: {
        ...recipe.document,
        platform: {
          ...recipe.document.platform,
          training: { ...recipe.document.platform.training, image_uri: 'pytorch/pytorch:latest' },
        },
      },
    };
    // WHEN the stack is built THEN the message says what to write.
    expect(() => trainingTestApp([bad])).toThrow(
      /minimal-120b.yaml: platform.training.image_uri: "pytorch\/pytorch:latest" is not an Amazon ECR image URI/,
    );
  });

  test('fails when one nested stack would exceed its share of the CloudFormation limits', () => {
    // GIVEN more recipes than one nested stack may hold, all in one shard.
    const base = fixtureRecipe('minimal-120b');
    const many = Array.from({ length: MAX_RECIPES_PER_SHARD + 1 }, (_, i) => ({ ...base, name: `r${i}` }));
    // WHEN built with a single shard THEN the error says how to split.
    expect(() => trainingTestApp(many, { pipelineShards: 1 })).toThrow(
      /would hold \d+ recipes, more than \d+ .*raise pipelineShards/,
    );
  });
});

describe('training image', () => {
  /** A minimal code directory: the launcher and the metric file, with or without a Dockerfile. */
  function codeDir(withDockerfile: boolean): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'training-code-'));
    fs.writeFileSync(path.join(dir, 'launch.py'), 'print("launch")\n');
    fs.writeFileSync(path.join(dir, 'metric_definitions.json'), JSON.stringify(TEST_METRICS));
    if (withDockerfile)
      fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/python:3.12-slim\n');
    return dir;
  }

  test('is the PyTorch training DLC of the region when the code has no Dockerfile', () => {
    // GIVEN a code directory without a Dockerfile WHEN synthesized.
    const { stack } = trainingTestApp([fixtureRecipe('minimal-120b')], { codeDirectory: codeDir(false) });
    const uri = JSON.stringify(stack.resolve(stack.defaultImageUri));
    // THEN the image is the DLC of the region's DLC account (a mapping: the stack is region-agnostic).
    expect(uri).toContain('DlcRegistryAccount');
    expect(uri).toContain('/pytorch-training:2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker');
    Template.fromStack(stack).templateMatches({
      Mappings: {
        DlcRegistryAccount: Match.objectLike({
          'us-east-1': { account: '763104351884' },
          'ap-east-1': { account: '871362719292' },
        }),
      },
    });
  });

  test('is built from the Dockerfile when there is one, and synthesis needs no Docker', () => {
    // GIVEN a code directory with a Dockerfile WHEN synthesized (no Docker on this machine).
    const { app, stack } = trainingTestApp([fixtureRecipe('minimal-120b')], { codeDirectory: codeDir(true) });
    const assembly = app.synth();
    // THEN the image is a CDK Docker image asset, pulled by the training role.
    const manifest = JSON.parse(
      fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'),
    ) as { dockerImages: Record<string, unknown> };
    expect(Object.keys(manifest.dockerImages)).toHaveLength(1);
    expect(JSON.stringify(stack.resolve(stack.defaultImageUri))).toContain('container-assets');
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (p) => ((p.Properties as Obj).PolicyDocument as { Statement: Obj[] }).Statement,
    );
    const pull = statements.find((st) => JSON.stringify(st.Action).includes('ecr:BatchGetImage'));
    expect(pull?.Action).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetDownloadUrlForLayer',
    ]);
    expect(JSON.stringify(pull?.Resource)).toMatch(/:repository\/.*cdk-[a-z0-9]+-container-assets-/);
    expect(
      statements.some((st) => JSON.stringify(st.Action).includes('ecr:GetAuthorizationToken') && st.Resource === '*'),
    ).toBe(true);
  });
});

describe('volume estimate', () => {
  test('sizes the volume from the model, PEFT and node count, in 50 GB steps', () => {
    // GIVEN the LoRA 20b recipe and the full fine-tune 120b recipe WHEN estimated.
    const lora20b = estimateVolumeSizeGb(fixtureRecipe('sft-lora-20b'));
    const full120b = estimateVolumeSizeGb(fixtureRecipe('minimal-120b'));
    // THEN both are multiples of 50, and full fine-tuning 120b needs far more (optimizer checkpoints).
    expect(lora20b % 50).toBe(0);
    expect(lora20b).toBeGreaterThanOrEqual(100);
    expect(full120b).toBeGreaterThan(2000);
  });

  test('a recipe volume_size_gb wins over the estimate', () => {
    // GIVEN a recipe that sets the volume WHEN synthesized THEN the training steps use it.
    const recipe = fixtureRecipe('sft-lora-20b');
    const sized = {
      ...recipe,
      document: {
        ...recipe.document,
        platform: {
          ...recipe.document.platform,
          training: { ...recipe.document.platform.training, volume_size_gb: 321 },
        },
      },
    };
    const { stack } = trainingTestApp([sized]);
    const definition = stack.pipelines.get('sft-lora-20b')!.definition.toJson();
    const train = definitionSteps(definition).find((s) => s.name === 'TrainOnDemand')!;
    expect(((train.arguments as Obj).ResourceConfig as Obj).VolumeSizeInGB).toBe(321);
  });
});

// ---------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------

/** Finds the staged file of a Source.data/jsonData asset by its object key. */
function findAssetFile(assemblyDir: string, objectKey: string): string {
  for (const entry of fs.readdirSync(assemblyDir)) {
    const candidate = path.join(assemblyDir, entry, objectKey);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`no asset in ${assemblyDir} holds ${objectKey}`);
}

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
