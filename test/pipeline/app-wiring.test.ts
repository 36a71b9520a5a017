import { Template } from 'aws-cdk-lib/assertions';
import { buildTrainingPipeline, definitionSteps, resolveExpressions } from '../../lib/pipeline';
import { readMetricDefinitions } from '../../lib/pipeline/training-job-contract';
import { estimateVolumeSizeGb } from '../../lib/recipes/volume-estimator';
import { type BotocoreRequest, formatInvalid, validateRequests } from '../support/botocore-shapes';
import { cfnLintTemplates, expectCfnLintClean } from '../support/cfn-lint';
import { expectIamLintClean, extractPolicies, lintPolicies } from '../support/iam-lint';
import {
  loadRecipesFrom,
  REPO_RECIPES_DIR,
  synthApp,
  type SynthesizedApp,
  type TemplateJson,
} from '../support/template';
import { mergeNestedIntoParent, nestedTemplates } from './stack-support';
import { DEPLOY_VALUES, METRIC_DEFINITIONS_FILE } from './support';

/**
 * The training stack as `cdk synth` builds it: the real createStacks, the repository's recipes and the
 * training code's contract files. This fails, naming the file, while the training code lacks one of them.
 */

test('the training-code contract file defines the metrics the pipelines read', () => {
  // GIVEN the repository file WHEN read THEN it lists eval_loss (the quality gate) and train_loss.
  const names = readMetricDefinitions(METRIC_DEFINITIONS_FILE).map((m) => m.Name);
  expect(names).toEqual(expect.arrayContaining(['eval_loss', 'train_loss']));
});

test('every repository recipe, with the real metric definitions, gives valid CreateTrainingJob requests', () => {
  // GIVEN each repository recipe built with the contract's metric definitions, resolved with defaults.
  const metricDefinitions = readMetricDefinitions(METRIC_DEFINITIONS_FILE);
  const requests: BotocoreRequest[] = [];
  for (const recipe of loadRecipesFrom(REPO_RECIPES_DIR)) {
    const definition = buildTrainingPipeline(recipe, DEPLOY_VALUES, {
      metricDefinitions,
      volumeSizeGb: recipe.document.platform.training.volume_size_gb ?? estimateVolumeSizeGb(recipe),
      gitSha: 'abc1234',
    }).toJson();
    for (const step of definitionSteps(definition).filter((s) => s.type === 'Training')) {
      requests.push({
        service: 'sagemaker',
        operation: 'CreateTrainingJob',
        params: {
          TrainingJobName: `pipelines-abcdef123456-${step.name}-x1y2z3`,
          ...(resolveExpressions(step.arguments, definition) as object),
        },
        label: `${recipe.file} ${step.name}`,
      });
    }
  }
  // WHEN validated against the botocore model THEN every request is accepted.
  expect(requests.length).toBeGreaterThan(0);
  expect(formatInvalid(validateRequests(requests))).toBe('');
});

describe('training stack in the full app', () => {
  let app: SynthesizedApp;
  beforeAll(() => {
    app = synthApp();
  });

  test('creates one pipeline and one model package group per repository recipe', () => {
    // GIVEN the recipes directory WHEN the app is synthesized THEN each recipe has its pipeline.
    const recipes = loadRecipesFrom(REPO_RECIPES_DIR).map((r) => r.name);
    expect(recipes.length).toBeGreaterThan(0);
    expect([...app.stacks.training.pipelines.keys()].sort()).toEqual([...recipes].sort());
    const names = [...nestedTemplates(app.stacks.training).values()].flatMap((t) =>
      Object.values(t.findResources('AWS::SageMaker::Pipeline')).map((r) => r.Properties.PipelineName as string),
    );
    expect(names.sort()).toEqual(recipes.map((r) => `${app.config.namePrefix}-${app.config.stage}-${r}`).sort());
  });

  test('the pipeline nested stacks pass cfn-lint and the IAM policy lint', () => {
    // GIVEN the nested templates (which the app-level checks do not see) WHEN linted THEN they are clean.
    const training = app.stacks.training;
    const nested: Record<string, TemplateJson> = {};
    const merged: Record<string, TemplateJson> = { ...app.templates };
    for (const [shard, stack] of training.shards) {
      nested[`${training.stackName}-pipelines${shard}`] = Template.fromStack(stack).toJSON();
      merged[`${training.stackName}-pipelines${shard}`] = mergeNestedIntoParent(
        app.templates[training.stackName],
        stack,
        training,
      );
    }
    expectCfnLintClean(cfnLintTemplates(nested));
    // only this stack's policies (the other templates are there to resolve cross-stack references).
    const ours = extractPolicies(merged).filter((p) => p.id.startsWith(`${training.stackName}`));
    expect(ours.length).toBeGreaterThan(3);
    expectIamLintClean(lintPolicies(ours));
  });
});
