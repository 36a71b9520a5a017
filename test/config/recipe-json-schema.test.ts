import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { RECIPE_JSON_SCHEMA_PATH, renderRecipeJsonSchema } from '../../lib/config/recipe-json-schema';
import { recipeSchema } from '../../lib/config/recipe-schema';
import { goodRecipe, REPO_ROOT, type TestRecipe } from '../recipes/support';
import { CHOICE_CASES, OTHER_CASES, RANGE_CASES, TYPE_CASES } from '../recipes/value-cases/value-case';

/**
 * The JSON Schema editors use (schemas/recipe.schema.json) is the zod recipe schema, generated: it is fresh, ajv
 * accepts the shipped recipes with it, and ajv and zod agree on every recipe of a corpus of good and bad ones.
 */

const MODELINE = `# yaml-language-server: $schema=../${RECIPE_JSON_SCHEMA_PATH}`;
const committed = fs.readFileSync(path.join(REPO_ROOT, RECIPE_JSON_SCHEMA_PATH), 'utf8');
const validate = new Ajv({ allErrors: true, strict: true, strictTypes: false }).compile(JSON.parse(committed));
const recipeFiles = fs
  .readdirSync(path.join(REPO_ROOT, 'recipes'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(REPO_ROOT, 'recipes', f));

test('the committed JSON Schema is what the zod schema generates (run `npm run schema` otherwise)', () => {
  expect(committed).toBe(renderRecipeJsonSchema());
});

describe.each(recipeFiles.map((f) => [path.basename(f), f]))('shipped recipe %s', (_name, file) => {
  const text = fs.readFileSync(file, 'utf8');

  test('starts with the yaml-language-server modeline', () => {
    expect(text.split('\n')[0]).toBe(MODELINE);
  });

  test('passes the JSON Schema (ajv) and the zod schema', () => {
    const doc: unknown = parse(text);
    expect(validate.errors ?? (validate(doc) ? [] : validate.errors)).toEqual([]);
    expect(recipeSchema.safeParse(doc).success).toBe(true);
  });
});

const mutated = (mutate: (d: TestRecipe) => void): TestRecipe => {
  const doc = goodRecipe();
  mutate(doc);
  return doc;
};

/** Recipes both schemas must judge alike: [what, document, valid]. */
const CORPUS: [string, unknown, boolean][] = [
  ['the good test recipe', goodRecipe(), true],
  [
    'the stock gpt-oss-recipes sft_lora.yaml with a platform block',
    parse(fs.readFileSync(path.join(REPO_ROOT, 'test/recipes/fixtures/stock/gpt-oss-recipes-sft-lora.yaml'), 'utf8')),
    true,
  ],
  ['a minimal recipe', { platform: { training: { instance_type: 'ml.p5.4xlarge' } } }, true],
  ['no platform block', mutated((d) => delete (d as Partial<TestRecipe>).platform), false],
  ['no training block', mutated((d) => delete (d.platform as Partial<TestRecipe['platform']>).training), false],
  ['no instance type', mutated((d) => delete d.platform.training.instance_type), false],
  ['an instance type without ml.', mutated((d) => (d.platform.training.instance_type = 'p5.48xlarge')), false],
  ['an unknown top-level key', mutated((d) => (d.lora_alhpa = 16)), false],
  ['an unknown platform key', mutated((d) => (d.platform.training.spot_instances = true)), false],
  ['max_seq_length (not an SFT field)', mutated((d) => (d.max_seq_length = 2048)), false],
  ['a string for a number', mutated((d) => (d.lora_r = 'eight')), false],
  ['a number for a boolean', mutated((d) => (d.use_peft = 1)), false],
  ['a float instance count', mutated((d) => (d.platform.training.instance_count = 1.5)), false],
  ['a distribution typo', mutated((d) => (d.platform.training.distribution = 'zero-3')), false],
  ['max runtime over 28 days', mutated((d) => (d.platform.training.max_runtime_seconds = 2_419_201)), false],
  ['a renamed key (accepted)', mutated((d) => (d.warmup_ratio = 0.03)), true],
  ['an env block', mutated((d) => (d.env = { NCCL_DEBUG: 'INFO', X: 1 })), true],
  ['an env object value', mutated((d) => (d.env = { X: { y: 1 } })), false],
  ['null for a nullable field', mutated((d) => (d.max_length = null)), true],
  ['a list field as one value', mutated((d) => (d.lora_target_modules = 'all-linear')), true],
  ['approval typo', mutated((d) => (d.platform.approval = 'automatic')), false],
  ...[...RANGE_CASES, ...CHOICE_CASES, ...OTHER_CASES, ...TYPE_CASES].flatMap((c): [string, unknown, boolean][] => [
    [`${c.key}: ${JSON.stringify(c.good)}`, mutated((d) => (d[c.key] = c.good)), true],
    [`${c.key}: ${JSON.stringify(c.bad)}`, mutated((d) => (d[c.key] = c.bad)), false],
  ]),
];

test.each(CORPUS)('ajv and zod agree: %s', (_what, doc, valid) => {
  const zodValid = recipeSchema.safeParse(doc).success;
  const ajvValid = validate(doc);
  expect({ zod: zodValid, ajv: ajvValid, errors: ajvValid ? null : validate.errors?.[0] }).toMatchObject({
    zod: valid,
    ajv: valid,
  });
});
