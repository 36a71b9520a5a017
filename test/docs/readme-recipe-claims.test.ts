import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, parseDocument, stringify } from 'yaml';
import { loadAppConfig } from '../../lib/config/load-app-config';
import { formatFinding } from '../../lib/recipes/findings';
import { validateRecipeFile } from '../../lib/recipes/validate-recipe';
import { CONFIG, REPO_ROOT } from '../recipes/support';

/**
 * README "Onboarding a recipe" makes claims a test can hold it to: its example `platform:` block, added to the
 * stock TRL recipe (test/recipes/fixtures/stock/gpt-oss-recipes-sft-lora.yaml), gives a valid recipe once the
 * recipe sets `eval_strategy` (the block's quality gate compares the eval loss), and a stock recipe needs nothing else.
 */

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const STOCK = path.join(REPO_ROOT, 'test', 'recipes', 'fixtures', 'stock', 'gpt-oss-recipes-sft-lora.yaml');

/** The first ```yaml block after the "Onboarding a recipe" heading. */
function readmePlatformBlock(): Record<string, unknown> {
  const section = README.slice(README.indexOf('## Onboarding a recipe'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README: no yaml block under "Onboarding a recipe"');
  return parse(block) as Record<string, unknown>;
}

/** The stock recipe's own keys (its test-only platform block removed), plus `extra`. */
function stockWith(extra: Record<string, unknown>, name: string): string {
  const stock = parseDocument(fs.readFileSync(STOCK, 'utf8')).toJS() as Record<string, unknown>;
  delete stock.platform;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, stringify({ ...stock, ...extra }));
  return file;
}

const errorsOf = (file: string) =>
  validateRecipeFile(file, CONFIG)
    .findings.filter((f) => f.level === 'error')
    .map((f) => `${f.rule} ${f.keyPath}`);

describe('README "Onboarding a recipe"', () => {
  const block = readmePlatformBlock();

  test('the example block has a quality gate, so it says the recipe must evaluate', () => {
    expect(block.platform).toHaveProperty('quality_gate.max_eval_loss');
    expect(README).toMatch(/a quality gate needs\s+`eval_strategy` in the recipe/);
  });

  test('stock recipe + the example block: rejected only for the missing eval_strategy, as the README says', () => {
    expect(errorsOf(stockWith(block, 'stock-readme'))).toEqual(['quality-gate-without-eval eval_strategy']);
  });

  test('stock recipe + the example block + the evaluation key the README names: valid', () => {
    expect(README).toContain('add `eval_strategy: epoch`');
    const file = stockWith({ ...block, eval_strategy: 'epoch' }, 'stock-readme-eval');
    const v = validateRecipeFile(file, CONFIG);
    expect(v.findings.filter((f) => f.level === 'error').map(formatFinding)).toEqual([]);
    expect(v.valid).toBe(true);
  });

  test('"a stock TRL recipe needs only platform.training.instance_type": that alone is valid', () => {
    expect(README).toContain('A stock TRL recipe needs only `platform.training.instance_type`');
    const file = stockWith({ platform: { training: { instance_type: 'ml.p5.4xlarge' } } }, 'stock-minimal');
    expect(errorsOf(file)).toEqual([]);
  });

  test('the stage file the README deploys with (stages/prod.yaml) exists and loads', () => {
    expect(README).toContain('-c configFile=stages/prod.yaml');
    const config = loadAppConfig({ configFile: 'stages/prod.yaml' }, REPO_ROOT);
    expect(config.stage).toBe('prod');
  });
});
