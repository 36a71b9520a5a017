import * as cdk from 'aws-cdk-lib';
import type { AppConfig } from '../../lib/config/app-config';
import { CONFIG_FILE_CONTEXT_KEY, loadAppConfig, readCdkJsonContext } from '../../lib/config/load-app-config';
import { type DeliveryStage, loadDeliveryStages } from '../../lib/config/load-delivery-stages';
import { createDelivery, type Delivery } from '../../lib/create-delivery';
import type { AnalyzedRecipe } from '../../lib/recipes/recipe-analysis';
import { REPO_ROOT } from '../support/python-tools';
import { appContext, loadRecipesFrom, REPO_RECIPES_DIR, templatesOf, type TemplateJson } from '../support/template';

/** The shipped delivery config (README "Delivery pipeline"). */
export const DELIVERY_CONFIG_FILE = 'stages/delivery.yaml';

export interface SynthesizedDelivery {
  readonly app: cdk.App;
  readonly config: AppConfig;
  readonly stages: readonly DeliveryStage[];
  readonly delivery: Delivery;
  /** Every template of the app (the pipeline stack and each stage's stacks), by stack name. */
  readonly templates: Record<string, TemplateJson>;
  /** The pipeline stack's template. */
  readonly pipelineTemplate: TemplateJson;
}

/**
 * Synthesizes the delivery app the way `cdk synth -c configFile=stages/delivery.yaml` does in bin/app.ts:
 * the same config loading (cdk.json context + the delivery file, each stage's file), recipes and wiring,
 * offline, without asset bundling and without the cdk-nag plugins (the tests run the packs explicitly).
 */
export function synthDelivery(
  options: { recipes?: readonly AnalyzedRecipe[]; gitSha?: string } = {},
): SynthesizedDelivery {
  const context = { ...readCdkJsonContext(REPO_ROOT), [CONFIG_FILE_CONTEXT_KEY]: DELIVERY_CONFIG_FILE };
  const config = loadAppConfig(context, REPO_ROOT);
  const stages = loadDeliveryStages(context, config, REPO_ROOT);
  const app = new cdk.App({ context: appContext() });
  const delivery = createDelivery(app, {
    config,
    configFile: DELIVERY_CONFIG_FILE,
    stages,
    recipes: options.recipes ?? loadRecipesFrom(REPO_RECIPES_DIR),
    gitSha: options.gitSha ?? 'test-sha',
  });
  const templates = templatesOf(app);
  return { app, config, stages, delivery, templates, pipelineTemplate: templates[delivery.stack.stackName] };
}
