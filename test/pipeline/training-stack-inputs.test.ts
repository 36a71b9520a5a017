import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_RECIPES_PER_SHARD, shardOf } from '../../lib/pipeline/pipeline-shards';
import { readMetricDefinitions } from '../../lib/pipeline/training-job-contract';
import { groupsOf, pipelinesOf, RECIPES, trainingTestApp } from './stack-support';
import { fixtureRecipe } from './support';

/**
 * What the TrainingStack is given: recipes added and removed (exactly their pipelines change, each in a stable
 * nested stack), and the inputs it refuses with a message that says what to fix.
 */

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
