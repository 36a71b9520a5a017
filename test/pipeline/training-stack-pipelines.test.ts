import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ARTIFACTS_LAYOUT } from '../../lib/config/artifacts-layout';
import { ARTIFACT_KEYS, type Json, parameterDefaults } from '../../lib/pipeline';
import {
  groupsOf,
  nestedTemplates,
  pipelinesOf,
  RECIPES,
  resourcesOfType,
  synthesizedTrainingApp,
  trainingTestApp,
  type TrainingTestApp,
} from './stack-support';
import { fixtureRecipe, type Obj } from './support';

/**
 * The TrainingStack's pipelines and the files they deploy: one pipeline and model package group per recipe,
 * definitions and recipe files uploaded to S3 under content-hashed keys, the training code, byte-stable synthesis.
 * One synthesized app with both fixture recipes is shared by the read-only assertions.
 */

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
});

/** Finds the staged file of a Source.data/jsonData asset by its object key. */
function findAssetFile(assemblyDir: string, objectKey: string): string {
  for (const entry of fs.readdirSync(assemblyDir)) {
    const candidate = path.join(assemblyDir, entry, objectKey);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`no asset in ${assemblyDir} holds ${objectKey}`);
}
