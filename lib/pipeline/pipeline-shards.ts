import * as crypto from 'node:crypto';
import { ConfigError } from '../config/errors';

/*
 * How recipe pipelines are spread over a training stack's nested stacks: by a stable hash of the recipe name,
 * with at most MAX_RECIPES_PER_SHARD per nested stack so each stays within CloudFormation's limits.
 */

/** Resources per recipe: the pipeline and its model package group (files share one deployment per stack). */
export const RESOURCES_PER_RECIPE = 2;
/** CloudFormation's per-template resource limit, and the share of it a pipelines stack may use. */
export const CFN_RESOURCE_LIMIT = 500;
export const RESOURCE_BUDGET = 0.8;
/**
 * Other resources of a pipelines nested stack: the deployment handler's function, role, policy and log group
 * (4), and a custom resource plus a Lambda layer per RECIPES_PER_FILE_DEPLOYMENT recipes (16 at 190; the
 * constant lives in lib/constructs/pipelines-nested-stack.ts).
 */
const SHARD_OVERHEAD_RESOURCES = 20;
/**
 * Recipes one nested stack holds at most, keeping it under 80% of the resource limit (the template stays
 * far below 80% of 1 MB: about 1.6 KB per recipe, measured by test/bench/synth-scale.ts).
 */
export const MAX_RECIPES_PER_SHARD = Math.floor(
  (CFN_RESOURCE_LIMIT * RESOURCE_BUDGET - SHARD_OVERHEAD_RESOURCES) / RESOURCES_PER_RECIPE,
);
/** Default number of pipeline nested stacks; fixed so that adding a recipe never moves another one. */
export const DEFAULT_PIPELINE_SHARDS = 8;

/** The nested stack a recipe's pipeline lives in: a stable hash of its name, so adding recipes moves none. */
export function shardOf(recipeName: string, shardCount: number): number {
  const h = crypto.createHash('sha256').update(recipeName).digest();
  return (h.readUInt32BE(0) % shardCount) + 1;
}

/**
 * The recipes of each nested stack (1..shardCount), each list sorted by name. Throws when `shardCount` is not a
 * whole number of at least 1, or when a nested stack would hold more than {@link MAX_RECIPES_PER_SHARD} recipes.
 */
export function recipesByShard<R extends { readonly name: string }>(
  recipes: readonly R[],
  shardCount: number,
): Map<number, R[]> {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new Error(`pipelineShards must be a whole number of at least 1, found ${shardCount}`);
  }
  const byShard = new Map<number, R[]>();
  for (const recipe of [...recipes].sort((a, b) => a.name.localeCompare(b.name))) {
    const shard = shardOf(recipe.name, shardCount);
    byShard.set(shard, [...(byShard.get(shard) ?? []), recipe]);
  }
  for (const shard of [...byShard.keys()].sort((a, b) => a - b)) {
    const inShard = byShard.get(shard) ?? [];
    if (inShard.length > MAX_RECIPES_PER_SHARD) {
      // the number of recipe files is user input: a ConfigError (message, no stack trace), not a bug.
      throw new ConfigError('(recipes)', [
        `pipelines nested stack ${shard} would hold ${inShard.length} recipes, more than ${MAX_RECIPES_PER_SHARD} ` +
          `(80% of CloudFormation's ${CFN_RESOURCE_LIMIT} resources or 1 MB); raise pipelineShards (now ${shardCount}) ` +
          'and deploy it once with every pipeline removed, since pipelines cannot move between stacks in place',
      ]);
    }
  }
  return byShard;
}
