import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRecipe } from '../../lib/config/load-recipes';
import { type Finding, formatFinding } from '../../lib/recipes/findings';
import { validateRecipeFile } from '../../lib/recipes/validate-recipe';
import { configErrorOf } from '../support/config-error';
import { CONFIG } from './support';

/** Every finding carries file:line:column: of the value, of the key when it is unknown, of the parent when missing. */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'positions-'));
function check(name: string, text: string) {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, text);
  return validateRecipeFile(file, CONFIG, { cwd: dir });
}
const at = (f: Finding | undefined) => (f ? [f.keyPath, f.line, f.column] : undefined);

const RECIPE = `# a comment line, so positions are not just key order
model_name_or_path: openai/gpt-oss-20b
dtype: bfloat16
attn_implementation: flash_attention_2   # rule finding at the value
use_peft: true
lora_alhpa: 16
learning_rate: -1.0e-4
lora_target_modules:
  - q_proj
  - experts
platform:
  training:
    instance_type: ml.p5.4xlarge
    spot: true
`;

describe('finding positions', () => {
  const v = check('positions', RECIPE);
  const find = (rule: string, keyPath: string) => v.findings.find((f) => f.rule === rule && f.keyPath === keyPath);

  test('schema errors point at the value', () => {
    expect(at(find('schema', 'learning_rate'))).toEqual(['learning_rate', 7, 16]);
    const platform = check('platform', 'platform:\n  training:\n    instance_type: p5.48xlarge # no ml.\n');
    expect(at(platform.findings[0])).toEqual(['platform.training.instance_type', 3, 20]);
  });

  test('an unknown key points at the key, with the closest known key', () => {
    const f = find('schema', 'lora_alhpa');
    expect(at(f)).toEqual(['lora_alhpa', 6, 1]);
    expect(formatFinding(f as Finding)).toBe(
      'error positions.yaml:6:1: lora_alhpa: unknown key; did you mean lora_alpha? (rename it, or remove it) [schema]',
    );
  });

  test('rule findings point at the value, or the item of a list', () => {
    expect(at(find('attention-implementation', 'attn_implementation'))).toEqual(['attn_implementation', 4, 22]);
    // a finding on a whole list points at its first item
    expect(at(find('lora-target-modules', 'lora_target_modules'))).toEqual(['lora_target_modules', 9, 3]);
  });

  test('a missing value points at the enclosing key', () => {
    // spot without max_wait_seconds: reported at platform.training (line 12), the key it belongs under
    const f = v.findings.find((x) => x.keyPath === 'platform.training.max_wait_seconds');
    expect(at(f)).toEqual(['platform.training.max_wait_seconds', 12, 3]);
  });

  test('findings come in file order', () => {
    const lines = v.findings.map((f) => f.line ?? 0);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });
});

describe('YAML and structure problems', () => {
  test('a syntax error names its line and column once', () => {
    const v = check('syntax', 'model_name_or_path: openai/gpt-oss-20b\nlora_r: [8, 16\nplatform: {}\n');
    expect(v.findings).toHaveLength(1);
    const line = formatFinding(v.findings[0]);
    expect(line).toMatch(/^error syntax\.yaml:3:1: \(syntax\): .*; fix the YAML syntax \[yaml\]$/);
    expect(line).not.toMatch(/at line|line \d/);
  });

  test('a duplicate key points at the second one', () => {
    const v = check('dup', 'lora_r: 8\nlora_r: 16\nplatform:\n  training:\n    instance_type: ml.p5.4xlarge\n');
    expect(at(v.findings.find((f) => f.rule === 'yaml'))).toEqual(['lora_r', 2, 1]);
  });

  test('no platform block gives a clear message, not a zod type error', () => {
    const v = check('noplatform', 'model_name_or_path: openai/gpt-oss-20b\n');
    const f = v.findings.find((x) => x.keyPath === 'platform');
    expect(formatFinding(f as Finding)).toMatch(
      /^error noplatform\.yaml:1:1: platform: found nothing; every recipe needs a platform: block .*instance_type: ml\.p5\.4xlarge/,
    );
    expect(formatFinding(f as Finding)).not.toMatch(/Invalid input/);
  });

  test('a platform block without instance_type says what to write', () => {
    const v = check('notype', 'platform:\n  training:\n    spot: false\n');
    const f = v.findings.find((x) => x.keyPath === 'platform.training.instance_type');
    expect(f?.message).toMatch(/found nothing; required: write a SageMaker instance type like "ml\.p5\.4xlarge"/);
    expect([f?.line, f?.column]).toEqual([2, 3]);
  });

  test('loadRecipe (prepare-data) names a syntax error line once', () => {
    const file = path.join(dir, 'load.yaml');
    fs.writeFileSync(file, 'a: 1\nb: [1, 2\nc: 3\n');
    const error = configErrorOf(() => loadRecipe(file));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(/^line 3, column 1: [^\n]*; fix the YAML syntax$/);
    expect(error.issues[0].match(/line \d+/g)).toHaveLength(1);
  });
});

describe('did you mean', () => {
  const TYPOS: [string, string][] = [
    ['lora_alhpa: 16', 'lora_alpha'],
    ['lerning_rate: 1.0e-4', 'learning_rate'],
    ['num_train_epoch: 1', 'num_train_epochs'],
    ['gradient_acumulation_steps: 4', 'gradient_accumulation_steps'],
    ['per_device_train_batchsize: 1', 'per_device_train_batch_size'],
    ['modle_name_or_path: openai/gpt-oss-20b', 'model_name_or_path'],
    ['lora_target_module: all-linear', 'lora_target_modules'],
    ['warmup_step: 10', 'warmup_steps'],
    ['Learning_Rate: 1.0e-4', 'learning_rate'],
    ['use_pfet: true', 'use_peft'],
    ['eval_stratgy: epoch', 'eval_strategy'],
  ];
  const PLATFORM = 'platform:\n  training:\n    instance_type: ml.p5.4xlarge\n';

  test.each(TYPOS)('%s → %s', (line, expected) => {
    const v = check('typo', `${line}\n${PLATFORM}`);
    const key = line.split(':')[0];
    expect(v.findings.find((f) => f.keyPath === key)?.message).toBe(
      `unknown key; did you mean ${expected}? (rename it, or remove it)`,
    );
  });

  test.each([
    ['platform:\n  trainig:\n    instance_type: ml.p5.4xlarge\n', 'platform.trainig', 'training'],
    ['platform:\n  training:\n    instance_typ: ml.p5.4xlarge\n', 'platform.training.instance_typ', 'instance_type'],
    [`${PLATFORM}    distrbution: zero3\n`, 'platform.training.distrbution', 'distribution'],
    [
      `${PLATFORM}  serving:\n    instance_type: ml.g5.12xlarge\n    max_model_length: 4096\n`,
      'platform.serving.max_model_length',
      'max_model_len',
    ],
    [`${PLATFORM}  qualitygate: {}\n`, 'platform.qualitygate', 'quality_gate'],
  ])('nested key %#: %s → %s', (text, keyPath, expected) => {
    const v = check('nested', text);
    expect(v.findings.find((f) => f.keyPath === keyPath)?.message).toMatch(`did you mean ${expected}?`);
  });

  test('a key that resembles nothing gets no guess', () => {
    const v = check('custom', `my_custom_setting: 1\n${PLATFORM}`);
    expect(v.findings.find((f) => f.keyPath === 'my_custom_setting')?.message).toBe(
      'unknown key; remove it or check the spelling against the documented keys',
    );
  });
});
