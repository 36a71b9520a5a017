import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { definitionSteps } from '../../lib/pipeline';
import { estimateVolumeSizeGb } from '../../lib/recipes/volume-estimator';
import { trainingTestApp } from './stack-support';
import { fixtureRecipe, type Obj, TEST_METRICS } from './support';

/**
 * What the TrainingStack's jobs run on: the training image (the region's PyTorch DLC, or built from the code's
 * Dockerfile) and the training volume (estimated, or the recipe's own size).
 */

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
