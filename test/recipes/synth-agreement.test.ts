import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { ConfigError } from '../../lib/config/errors';
import { createStacks } from '../../lib/create-stacks';
import { formatFinding } from '../../lib/recipes/findings';
import { buildRecipeReport, loadValidatedRecipes } from '../../lib/recipes/report';
import { appContext, testConfig } from '../support/template';
import { goodRecipe, type TestRecipe, writeRecipe } from './support';

/**
 * One validator: for every recipe of a corpus, `cdk synth` (bin/app.ts: loadValidatedRecipes, then createStacks)
 * refuses exactly what `npm run recipes` marks as an error, with the same messages, and builds every stack for
 * a recipe the report passes, so no construct refuses a recipe on its own. The corpus holds the cases where
 * the two disagreed before (a public serving image, spot off with a short max wait) and the edges of every
 * check the serving plan and the pipeline builder used to make themselves.
 */

// 111122223333 stands for a registry the stage trusts (guardrails.trustedImageAccounts); 999988887777 for a foreign one.
const config = testConfig({ guardrails: { trustedImageAccounts: ['111122223333'] } });
const training = (d: TestRecipe) => d.platform.training;
const serving = (d: TestRecipe) => d.platform.serving as Record<string, unknown>;

interface Case {
  readonly what: string;
  readonly mutate: (d: TestRecipe) => void;
  /** Recipe file name (default `agree`). */
  readonly name?: string;
  /** Whether the report must mark the recipe invalid (guards the corpus against turning all-good or all-bad). */
  readonly refused: boolean;
}

const CASES: Case[] = [
  { what: 'the good recipe', refused: false, mutate: () => undefined },
  {
    what: 'a public serving image',
    refused: true,
    mutate: (d) => {
      serving(d).image_uri = 'public.ecr.aws/vllm/vllm:latest';
    },
  },
  {
    what: 'a private ECR serving image',
    refused: false,
    mutate: (d) => {
      serving(d).image_uri = '111122223333.dkr.ecr.us-west-2.amazonaws.com/my/vllm:0.14.0';
    },
  },
  {
    what: 'spot off with a max wait below the max runtime',
    refused: true,
    mutate: (d) => {
      training(d).spot = false;
      training(d).max_wait_seconds = 600;
    },
  },
  {
    what: 'spot off with a max wait equal to the max runtime',
    refused: false,
    mutate: (d) => {
      training(d).spot = false;
      training(d).max_wait_seconds = training(d).max_runtime_seconds;
    },
  },
  {
    what: 'spot without a max wait',
    refused: true,
    mutate: (d) => {
      delete training(d).max_wait_seconds;
    },
  },
  {
    what: 'a serving GPU without bf16',
    refused: true,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.g4dn.12xlarge' };
    },
  },
  {
    what: 'a CPU serving instance',
    refused: true,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.m5.xlarge' };
    },
  },
  {
    what: 'an unknown serving instance',
    refused: true,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.g7.12xlarge' };
    },
  },
  {
    what: 'no serving block (the cheapest instance that fits is derived)',
    refused: false,
    mutate: (d) => {
      delete d.platform.serving;
    },
  },
  {
    what: 'tensor-parallel 2 of 4 GPUs',
    refused: false,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.g6e.12xlarge', tensor_parallel_degree: 2 };
    },
  },
  {
    what: 'tensor-parallel 3',
    refused: true,
    mutate: (d) => {
      serving(d).tensor_parallel_degree = 3;
    },
  },
  {
    what: 'tensor-parallel over the GPU count',
    refused: true,
    mutate: (d) => {
      serving(d).tensor_parallel_degree = 8;
    },
  },
  {
    what: 'merged weights over the vLLM budget',
    refused: true,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.g6e.2xlarge' };
    },
  },
  {
    what: 'max_model_len at the model context',
    refused: false,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.p5.48xlarge', max_model_len: 131072 };
    },
  },
  {
    what: 'max_model_len over the model context',
    refused: true,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.p5.48xlarge', max_model_len: 262144 };
    },
  },
  {
    what: 'a Docker Hub training image',
    refused: true,
    mutate: (d) => {
      training(d).image_uri = 'pytorch/pytorch:latest';
    },
  },
  {
    what: 'a training image in an account the stage does not trust',
    refused: true,
    mutate: (d) => {
      training(d).image_uri = '999988887777.dkr.ecr.us-east-1.amazonaws.com/train:1';
    },
  },
  {
    what: 'a private ECR training image',
    refused: false,
    mutate: (d) => {
      training(d).image_uri = '111122223333.dkr.ecr.us-east-1.amazonaws.com/train:1';
    },
  },
  {
    what: 'an endpoint name one character over SageMaker’s 63',
    name: 'x'.repeat(53),
    refused: true,
    mutate: () => undefined,
  },
  {
    what: 'the longest file name SageMaker’s 63 characters allow',
    name: 'x'.repeat(52),
    refused: false,
    mutate: () => undefined,
  },
  {
    what: 'a file name with an underscore',
    name: 'my_recipe',
    refused: true,
    mutate: () => undefined,
  },
  {
    what: 'a schema error (unknown key)',
    refused: true,
    mutate: (d) => {
      d.learning_rat = 0.0002;
    },
  },
];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** What `cdk synth` does with a recipes directory: the ConfigError's problems, or [] when every stack builds. */
function synthRefusals(dir: string): string[] {
  try {
    const recipes = loadValidatedRecipes(dir, config);
    createStacks(new cdk.App({ context: appContext() }), { config, recipes });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
}

describe.each(CASES)('synth and the recipe report agree: $what', (c) => {
  test(c.refused ? 'both refuse it, with the same messages' : 'the report passes it and every stack builds', () => {
    // GIVEN a recipes directory holding the case's recipe
    const doc = goodRecipe();
    c.mutate(doc);
    const dir = path.dirname(writeRecipe(doc, c.name ?? 'agree', fs.mkdtempSync(path.join(os.tmpdir(), 'agree-'))));
    dirs.push(dir);
    // WHEN the report checks it and synth builds from it
    const report = buildRecipeReport(dir, config);
    const errors = report.recipes.flatMap((r) => r.findings.filter((f) => f.level === 'error').map(formatFinding));
    // THEN synth refuses exactly the report's errors (a plain Error from a construct fails the test)
    expect(errors.length > 0).toBe(c.refused);
    expect(synthRefusals(dir)).toEqual(errors);
  });
});
