import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { type AppConfig, appConfigSchema } from '../../lib/config/app-config';
import { parseOrThrow } from '../../lib/config/errors';
import { CONFIG_CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY } from '../../lib/config/load-app-config';
import { listRecipeFiles, loadRecipe } from '../../lib/config/load-recipes';
import { createStacks, type PlatformStacks } from '../../lib/create-stacks';
import { type AnalyzedRecipe, analyzeLoadedRecipe } from '../../lib/recipes/recipe-analysis';
import { REPO_ROOT } from './python-tools';

/** The repository's own recipes directory. */
export const REPO_RECIPES_DIR = path.join(REPO_ROOT, 'recipes');

/** A JSON CloudFormation template as synthesized. */
export type TemplateJson = Record<string, unknown>;

/**
 * The feature flags and other context of the real app (cdk.json), minus the deployment's config, so that
 * tests synthesize exactly what `cdk synth` would. Bundling is skipped for every stack.
 */
export function appContext(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const context: Record<string, unknown> = { ...(cdkJson.context ?? {}) };
  delete context[CONFIG_CONTEXT_KEY];
  delete context[CONFIG_FILE_CONTEXT_KEY];
  return { ...context, 'aws:cdk:bundling-stacks': [], ...extra };
}

/**
 * A validated config for tests: `overrides` is raw config input (as a user would write it in cdk.json) and
 * goes through the real zod schema, so defaults apply and an invalid override fails the test loudly.
 */
export function testConfig(overrides: Record<string, unknown> = {}): AppConfig {
  return parseOrThrow(appConfigSchema, overrides, 'test config');
}

/**
 * Loads and analyses every recipe in `dir` with the real loader (schema errors fail the test with the loader's
 * message); the lint verdict is not applied, so fixtures may break training rules the test does not exercise.
 */
export function loadRecipesFrom(dir: string, config: AppConfig = testConfig()): AnalyzedRecipe[] {
  return listRecipeFiles(dir).map((file) => analyzeLoadedRecipe(loadRecipe(file), config));
}

export interface SynthOptions {
  /**
   * Raw config overrides (validated with the real schema), or an already validated config.
   * @default - the schema's defaults (stage `dev`, a new VPC, a Small MLflow tracking server)
   */
  readonly config?: Record<string, unknown> | AppConfig;
  /**
   * Recipes to pass to `createStacks`. Wins over `recipesDir`.
   * @default - the recipes loaded from `recipesDir`
   */
  readonly recipes?: readonly AnalyzedRecipe[];
  /**
   * Directory of recipe YAML files.
   * @default - the repository's `recipes/` directory
   */
  readonly recipesDir?: string;
  /**
   * Extra context (feature flags) on top of cdk.json's.
   * @default - none
   */
  readonly context?: Record<string, unknown>;
}

export interface SynthesizedApp {
  readonly app: cdk.App;
  readonly config: AppConfig;
  readonly stacks: PlatformStacks;
  readonly assembly: CloudAssembly;
  /** Every stack of the app, in assembly order. */
  readonly allStacks: cdk.Stack[];
  /** Templates keyed by CloudFormation stack name (`gptoss-dev-data`, ...). */
  readonly templates: Record<string, TemplateJson>;
}

function isAppConfig(value: SynthOptions['config']): value is AppConfig {
  // a validated config always has every defaulted key; raw overrides usually do not.
  return value !== undefined && 'namePrefix' in value && 'vpc' in value && 'mlflow' in value && 'studio' in value;
}

/**
 * Synthesizes the full app the way `bin/app.ts` does (same `createStacks`, same feature flags), without
 * cdk-nag plugins (run {@link ./nag} explicitly) and without asset bundling. Needs no AWS credentials.
 */
export function synthApp(options: SynthOptions = {}): SynthesizedApp {
  const config = isAppConfig(options.config)
    ? parseOrThrow(appConfigSchema, options.config, 'test config')
    : testConfig(options.config ?? {});
  const recipes = options.recipes ?? loadRecipesFrom(options.recipesDir ?? REPO_RECIPES_DIR, config);
  const app = new cdk.App({ context: appContext(options.context) });
  const stacks = createStacks(app, { config, recipes });
  const assembly = app.synth();
  const allStacks = app.node.findAll().filter((c): c is cdk.Stack => cdk.Stack.isStack(c));
  const templates: Record<string, TemplateJson> = {};
  for (const artifact of assembly.stacks) {
    templates[artifact.stackName] = artifact.template as TemplateJson;
  }
  return { app, config, stacks, assembly, allStacks, templates };
}

/** All templates of a synthesized Stage/App (nested stages included), keyed by stack name. */
export function templatesOf(stage: cdk.Stage): Record<string, TemplateJson> {
  const templates: Record<string, TemplateJson> = {};
  const visit = (assembly: CloudAssembly): void => {
    for (const artifact of assembly.stacks) templates[artifact.stackName] = artifact.template as TemplateJson;
    for (const nested of assembly.nestedAssemblies) visit(nested.nestedAssembly);
  };
  visit(stage.synth());
  return templates;
}

/** Matches CDK asset hashes (sha256 hex) wherever they appear: S3 keys, image tags, metadata. */
const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * Replaces asset hashes with a fixed token so snapshots change only when the template does, not when a
 * bundled file or the CDK version changes.
 */
export function normaliseTemplate<T>(template: T): T {
  return JSON.parse(JSON.stringify(template).replace(ASSET_HASH, 'ASSET-HASH')) as T;
}

/** The snapshot form of a stack: its template with asset hashes normalised. */
export function snapshotOf(stack: cdk.Stack): TemplateJson {
  return normaliseTemplate(Template.fromStack(stack).toJSON());
}
