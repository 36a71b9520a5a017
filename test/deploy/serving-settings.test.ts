import { recipeSettingsDocument, servingSettingsFiles } from '../../lib/constructs/serving-settings';
import { planServing, type ServingPlan } from '../../lib/recipes/serving-plan';
import { testConfig } from '../support/template';
import { fixtureRecipe } from './support';

/** The per-recipe settings objects: what REGISTER and DEPLOY read from S3 instead of a lookup table. */

const config = testConfig();
const lora = planServing(fixtureRecipe('sft-lora-20b'), config);
const auto = planServing(fixtureRecipe('full-120b-auto'), config);

test('a document carries what each machine reads, free of deploy-time tokens', () => {
  // GIVEN the LoRA recipe's plan WHEN rendered THEN register and deploy halves hold its settings
  const doc = recipeSettingsDocument(lora);
  expect(doc.register).toEqual({
    recipe: 'sft-lora-20b',
    groupName: 'gptoss-dev-sft-lora-20b',
    endpointName: 'gptoss-dev-sft-lora-20b',
    approvalStatus: 'PendingManualApproval',
    instanceTypes: ['ml.g6e.12xlarge'],
    environment: lora.environment,
    defaultEnvironment: {
      RECIPE_NAME: 'sft-lora-20b',
      RECIPE_HASH: lora.recipeHash,
      GIT_SHA: 'unknown',
      DATASET_URI: 'unknown',
      MLFLOW_TRACKING_ARN: 'none',
      MLFLOW_EXPERIMENT_NAME: 'sft-lora-20b',
    },
  });
  expect(doc.deploy).toEqual({
    recipe: 'sft-lora-20b',
    endpointName: 'gptoss-dev-sft-lora-20b',
    resourceBase: lora.resourceBase,
    instanceType: 'ml.g6e.12xlarge',
    minInstances: 1,
    maxInstances: 2,
    dataCapture: true,
    environment: lora.environment,
  });
  // AND the default DLC image (its URI depends on the region) is left to the state machine
  expect(JSON.stringify(doc)).not.toMatch(/\$\{Token|dkr\.ecr/);
  expect(recipeSettingsDocument(auto).register.approvalStatus).toBe('Approved');
});

test('a recipe with its own serving image names it in the register half', () => {
  // GIVEN a plan with a private ECR image WHEN rendered THEN the image is the recipe's URI
  const uri = '123456789012.dkr.ecr.us-east-1.amazonaws.com/vllm-custom:2026-11';
  const custom: ServingPlan = {
    ...lora,
    image: { kind: 'custom', uri, account: '123456789012', region: 'us-east-1', repository: 'vllm-custom' },
  };
  expect(recipeSettingsDocument(custom).register.image).toBe(uri);
});

test('one object per name, under a prefix that depends on every name and setting but not on order', () => {
  // GIVEN two plans WHEN the files are generated THEN one object per pipeline/group name
  const { prefix, files } = servingSettingsFiles([lora, auto]);
  expect(prefix).toMatch(/^serving\/[0-9a-f]{16}\/$/);
  expect(files.map((f) => f.key)).toEqual([
    `${prefix}gptoss-dev-full-120b-auto.json`,
    `${prefix}gptoss-dev-sft-lora-20b.json`,
  ]);
  expect(JSON.parse(files[1].body)).toEqual(recipeSettingsDocument(lora));
  // AND the order of the recipes does not matter
  expect(servingSettingsFiles([auto, lora]).prefix).toBe(prefix);
  // AND any change of a setting, or of the recipe set, moves the prefix
  expect(servingSettingsFiles([{ ...lora, maxInstances: 3 }, auto]).prefix).not.toBe(prefix);
  expect(servingSettingsFiles([lora]).prefix).not.toBe(prefix);
  // AND no recipes means no objects
  expect(servingSettingsFiles([]).files).toEqual([]);
});

test('fails when two recipes map to the same pipeline or group name', () => {
  // GIVEN two plans with the same names WHEN the files are generated THEN the error names both recipes
  expect(() => servingSettingsFiles([lora, { ...lora, recipe: 'sft-lora-20b-copy', file: 'copy.yaml' }])).toThrow(
    /copy\.yaml: recipe "sft-lora-20b-copy" and recipe "sft-lora-20b" both map to .*"gptoss-dev-sft-lora-20b"/,
  );
});
