#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { ConfigError } from '../lib/config/errors';
import { CONFIG_FILE_CONTEXT_KEY, loadAppConfig } from '../lib/config/load-app-config';
import { loadDeliveryStages } from '../lib/config/load-delivery-stages';
import { createDelivery } from '../lib/create-delivery';
import { compliancePacks, createStacks } from '../lib/create-stacks';
import { loadValidatedRecipes } from '../lib/recipes/report';

/** Context key naming the recipes directory (`-c recipesDir=...`). */
const RECIPES_DIR_CONTEXT_KEY = 'recipesDir';

// the only place that reads context and the environment; everything below receives validated config.
const app = new cdk.App();
try {
  const context = app.node.getAllContext();
  const config = loadAppConfig(context);
  const recipesDir = context[RECIPES_DIR_CONTEXT_KEY];
  // the same check as `npm run recipes` (schema, lint rules, memory fit): synth refuses exactly its errors, and the
  // stacks build from its analysis without checks of their own (test/recipes/synth-agreement.test.ts).
  const recipes = loadValidatedRecipes(typeof recipesDir === 'string' ? recipesDir : 'recipes', config);
  // the deployed commit, recorded on every training job: `-c gitSha=$(git rev-parse HEAD)` or GIT_SHA.
  const gitSha = typeof context.gitSha === 'string' ? context.gitSha : process.env.GIT_SHA;
  if (config.delivery) {
    // a `delivery:` block (stages/delivery.yaml): the pipeline stack, with each stage's stacks inside it.
    const stages = loadDeliveryStages(context, config);
    const configFile = context[CONFIG_FILE_CONTEXT_KEY];
    createDelivery(app, {
      config,
      configFile: typeof configFile === 'string' ? configFile : undefined,
      stages,
      recipes,
      gitSha,
    });
  } else {
    createStacks(app, { config, recipes, gitSha });
  }
} catch (e) {
  if (e instanceof ConfigError) {
    // a user input problem: print the actionable message, not a stack trace.
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
// AwsSolutions, NIST 800-53 rev 5, HIPAA Security and PCI DSS 3.2.1: any unacknowledged finding fails synth.
cdk.Validations.of(app).addPlugins(...compliancePacks());
app.synth();
