import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { CONFIG_FILE_CONTEXT_KEY, loadAppConfig, readCdkJsonContext } from '../../lib/config/load-app-config';
import { loadRecipe } from '../../lib/config/load-recipes';
import { type AnalyzedRecipe, analyzeLoadedRecipe } from '../../lib/recipes/recipe-analysis';
import { REPO_ROOT } from '../support/python-tools';
import { loadRecipesFrom, REPO_RECIPES_DIR, synthApp, testConfig } from '../support/template';

type Obj = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Obj;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** Pipelines and model package groups of one stage's training stack (its nested stacks), by name. */
function recipeResources(recipes: readonly AnalyzedRecipe[]) {
  // the dev stage exactly as the pipeline (and `cdk deploy -c configFile=stages/dev.yaml`) builds it
  const config = loadAppConfig(
    { ...readCdkJsonContext(REPO_ROOT), [CONFIG_FILE_CONTEXT_KEY]: 'stages/dev.yaml' },
    REPO_ROOT,
  );
  const { stacks } = synthApp({ config, recipes });
  const pipelines = new Map<string, Resource>();
  const groups = new Map<string, Resource>();
  for (const nested of stacks.training.shards.values()) {
    const resources = Template.fromStack(nested).toJSON().Resources as Record<string, Resource>;
    for (const r of Object.values(resources)) {
      if (r.Type === 'AWS::SageMaker::Pipeline') pipelines.set(r.Properties.PipelineName as string, r);
      if (r.Type === 'AWS::SageMaker::ModelPackageGroup') groups.set(r.Properties.ModelPackageGroupName as string, r);
    }
  }
  return { pipelines, groups };
}

/** Names in `b` and not in `a`. */
const added = (a: Map<string, unknown>, b: Map<string, unknown>) => [...b.keys()].filter((k) => !a.has(k));

describe("a recipe's lifecycle in a stage", () => {
  // GIVEN the repository's recipes, the same plus one new recipe, and the same minus one
  const base = loadRecipesFrom(REPO_RECIPES_DIR);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptoss-lifecycle-'));
  const newFile = path.join(dir, 'gpt-oss-20b-new-team.yaml');
  fs.copyFileSync(path.join(REPO_RECIPES_DIR, `${base[0].name}.yaml`), newFile);
  const removed = base[base.length - 1];
  // WHEN each set is synthesized
  const before = recipeResources(base);
  const withNew = recipeResources([...base, analyzeLoadedRecipe(loadRecipe(newFile), testConfig())]);
  const withoutOne = recipeResources(base.slice(0, -1));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('adding a recipe adds exactly one pipeline and one model package group; the others are unchanged', () => {
    expect(added(before.pipelines, withNew.pipelines)).toEqual(['gptoss-dev-gpt-oss-20b-new-team']);
    expect(added(withNew.pipelines, before.pipelines)).toEqual([]);
    expect(added(before.groups, withNew.groups)).toEqual(['gptoss-dev-gpt-oss-20b-new-team']);
    for (const [name, pipeline] of before.pipelines)
      expect({ name, pipeline: withNew.pipelines.get(name) }).toEqual({ name, pipeline });
  });

  test('removing a recipe removes exactly its pipeline; its model package group is retained by CloudFormation', () => {
    const name = `gptoss-dev-${removed.name}`;
    expect(added(withoutOne.pipelines, before.pipelines)).toEqual([name]);
    expect(added(before.pipelines, withoutOne.pipelines)).toEqual([]);
    for (const [other, pipeline] of withoutOne.pipelines)
      expect({ other, pipeline: before.pipelines.get(other) }).toEqual({ other, pipeline });
    // the group leaves the template, and Retain means CloudFormation leaves it (and its model versions) in place
    expect(added(withoutOne.groups, before.groups)).toEqual([name]);
    expect(before.groups.get(name)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('every model package group is retained on delete and on replacement', () => {
    for (const [name, group] of withNew.groups) {
      expect({ name, deletion: group.DeletionPolicy, replace: group.UpdateReplacePolicy }).toEqual({
        name,
        deletion: 'Retain',
        replace: 'Retain',
      });
    }
  });
});
