import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRecipe } from '../../lib/config/load-recipes';
import { RECIPE_FIELDS, RENAMED_KEYS } from '../../lib/config/recipe-schema';
import { configErrorOf } from '../support/config-error';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recipe-'));
function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}
const PLATFORM = 'platform:\n  training:\n    instance_type: ml.p5.48xlarge\n';

describe('recipe schema', () => {
  test('knows the TRL dataclass fields it was generated from', () => {
    expect(RECIPE_FIELDS.max_length).toMatchObject({ group: 'sft' });
    expect(RECIPE_FIELDS.lora_target_parameters).toMatchObject({ group: 'model' });
    expect(RECIPE_FIELDS.dataset_name).toMatchObject({ group: 'script' });
    expect(RECIPE_FIELDS.eval_split_size).toMatchObject({ group: 'script' });
    expect(RECIPE_FIELDS.max_seq_length).toBeUndefined();
    expect(RENAMED_KEYS).toEqual({ torch_dtype: 'dtype', warmup_ratio: 'warmup_steps' });
  });

  test('a minimal recipe gets the platform defaults and a stable hash', () => {
    const file = write('tiny.yaml', `model_name_or_path: openai/gpt-oss-20b\n${PLATFORM}`);
    const recipe = loadRecipe(file);
    expect(recipe.name).toBe('tiny');
    expect(recipe.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(loadRecipe(file).hash).toBe(recipe.hash);
    expect(recipe.document.platform.training).toMatchObject({
      instance_count: 1,
      distribution: 'single-gpu',
      spot: false,
      checkpoints: true,
    });
  });

  test('single values for list fields and renamed keys are accepted', () => {
    const file = write(
      'stock.yaml',
      `torch_dtype: bfloat16\nwarmup_ratio: 0.03\nlora_target_modules: all-linear\nreport_to: [trackio]\n${PLATFORM}`,
    );
    expect(() => loadRecipe(file)).not.toThrow();
  });

  test('fails on a misspelt key, an enum typo and a wrong type, all in one error', () => {
    const file = write('bad.yaml', `lerning_rate: 1.0e-4\nlr_scheduler_type: cosine_min\nlora_r: eight\n${PLATFORM}`);
    const error = configErrorOf(() => loadRecipe(file));
    expect(error.file).toMatch(/bad\.yaml$/);
    expect(error.issues).toHaveLength(3);
    expect(error.message).toMatch(/lerning_rate: unknown key; did you mean learning_rate\?/);
    expect(error.message).toMatch(/lr_scheduler_type: found "cosine_min"; expected one of "linear", "cosine"/);
    expect(error.message).toMatch(/lora_r: found "eight"/);
  });

  test('fails without a platform block, naming the key', () => {
    const error = configErrorOf(() => loadRecipe(write('noplat.yaml', 'model_name_or_path: openai/gpt-oss-20b\n')));
    expect(error.message).toMatch(/platform: found nothing; every recipe needs a platform: block/);
  });

  test('fails on unknown platform keys and bad instance types', () => {
    const error = configErrorOf(() =>
      loadRecipe(
        write('plat.yaml', 'platform:\n  training:\n    instance_type: p5.48xlarge\n    spot_instances: true\n'),
      ),
    );
    expect(error.message).toMatch(
      /platform\.training\.instance_type: found "p5\.48xlarge"; expected a SageMaker instance type/,
    );
    expect(error.message).toMatch(/platform\.training\.spot_instances: unknown key/);
  });

  test('fails on YAML syntax errors and duplicate keys with the line number', () => {
    const error = configErrorOf(() => loadRecipe(write('dup.yaml', `lora_r: 8\nlora_r: 16\n${PLATFORM}`)));
    expect(error.message).toMatch(/line 2, column 1: [Mm]ap keys must be unique; fix the YAML syntax/);
  });
});
