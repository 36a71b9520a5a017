import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countLevels, formatFinding } from '../../lib/recipes/findings';
import { suggestTrainingInstance } from '../../lib/recipes/recipe-analysis';
import { buildRecipeReport, loadValidatedRecipes, renderRecipeReport, reportRows } from '../../lib/recipes/report';
import { validateRecipeFile } from '../../lib/recipes/validate-recipe';
import { configErrorOf } from '../support/config-error';
import { CONFIG, goodRecipe, REPO_ROOT, writeRecipe } from './support';

const RECIPES_DIR = path.join(REPO_ROOT, 'recipes');
const FIXTURES = path.join(__dirname, 'fixtures', 'stock');

describe('shipped recipes', () => {
  const report = buildRecipeReport(RECIPES_DIR, CONFIG, { cwd: REPO_ROOT });
  const byName = Object.fromEntries(report.recipes.map((r) => [r.name, r]));

  test('all are valid with zero errors', () => {
    expect(report.recipes.length).toBeGreaterThanOrEqual(4);
    const errors = report.recipes.flatMap((r) => r.findings.filter((f) => f.level === 'error').map(formatFinding));
    expect(errors).toEqual([]);
    expect(report.ok).toBe(true);
  });

  test('file names are lowercase pipeline names', () => {
    for (const r of report.recipes) expect(r.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  test('20b multilingual LoRA: attention + expert LoRA, on the cheapest single GPU that fits, spot, gate, serving, manual', () => {
    const r = byName['gpt-oss-20b-multilingual-lora'];
    const doc = r.document!;
    expect(r.analysis?.method).toBe('LoRA attn+experts');
    expect(doc.platform.training).toMatchObject({
      instance_count: 1,
      distribution: 'single-gpu',
      spot: true,
      checkpoints: true,
    });
    expect(r.analysis?.instance?.gpuCount).toBe(1);
    expect(doc.platform.quality_gate).toBeDefined();
    expect(doc.platform.serving).toBeDefined();
    expect(doc.platform.approval).toBe('manual');
    expect(doc.dataset_name).toBe('HuggingFaceH4/Multilingual-Thinking');
    // the estimator's own choice is the instance the recipe names
    expect(suggestTrainingInstance(doc, r.analysis!.model!)?.instance.instanceType).toBe(
      doc.platform.training.instance_type,
    );
  });

  test('120b LoRA on 8 GPUs, 20b full fine-tune with zero3, 120b multi-node', () => {
    const lora120 = byName['gpt-oss-120b-multilingual-lora'];
    expect(lora120.analysis?.model?.shortName).toBe('gpt-oss-120b');
    expect(lora120.analysis?.worldSize).toBe(8);
    expect(lora120.document?.platform.training.instance_type).toMatch(/^ml\.p5/);
    const full = byName['gpt-oss-20b-full'];
    expect(full.analysis?.method).toBe('full');
    expect(full.document?.platform.training.distribution).toBe('zero3');
    const multi = byName['gpt-oss-120b-multinode-lora'];
    expect(multi.document?.platform.training.instance_count).toBeGreaterThanOrEqual(2);
    expect(multi.analysis?.model?.shortName).toBe('gpt-oss-120b');
  });

  test('the table shows model, method, instance, memory, hours, cost and verdict per recipe', () => {
    const rows = reportRows(report);
    const row = rows.find((x) => x[0] === 'gpt-oss-20b-multilingual-lora')!;
    expect(row.slice(1, 5)).toEqual(['gpt-oss-20b', 'LoRA attn+experts', 'ml.p5.4xlarge × 1', 'single-gpu']);
    expect(row[5]).toMatch(/^\d+\.\d \/ 79\.6$/);
    expect(row[7]).toMatch(/^\$\d+\.\d\d spot$/);
    expect(row[8]).toBe('ok');
    const text = renderRecipeReport(report);
    for (const r of report.recipes) expect(text).toContain(r.name);
    expect(text).toContain('Assumptions:');
  });
});

describe('stock recipes with only a platform block added', () => {
  test('huggingface/gpt-oss-recipes configs/sft_lora.yaml validates (warnings allowed, no errors)', () => {
    // GIVEN the stock TRL recipe with a platform block WHEN validated
    const v = validateRecipeFile(path.join(FIXTURES, 'gpt-oss-recipes-sft-lora.yaml'), CONFIG, { cwd: REPO_ROOT });
    // THEN it is valid; the renamed keys are warnings
    expect(v.findings.filter((f) => f.level === 'error').map(formatFinding)).toEqual([]);
    expect(v.valid).toBe(true);
    expect(v.findings.filter((f) => f.rule === 'renamed-key').map((f) => f.keyPath)).toEqual([
      'torch_dtype',
      'warmup_ratio',
    ]);
    // report_to: trackio (TRL's example default) is swapped at run time, and the PR says so
    expect(v.findings.filter((f) => f.rule === 'report-to-replaced').map((f) => [f.level, f.found])).toEqual([
      ['warning', '["trackio"]'],
    ]);
  });

  test('fails on the AWS sample recipe, reporting every one of its defects at once', () => {
    const v = validateRecipeFile(path.join(FIXTURES, 'aws-sample-gpt-oss-20b-qlora.yaml'), CONFIG, { cwd: REPO_ROOT });
    expect(v.valid).toBe(false);
    const keyed = v.findings.map((f) => `${f.rule} ${f.keyPath}`);
    expect(keyed).toEqual(
      expect.arrayContaining([
        'yaml bf16',
        'yaml tf32',
        'schema tokenizer_name_or_path',
        'schema dataset_id_or_path',
        'max-seq-length max_seq_length',
        'expert-params-in-modules-to-save lora_modules_to_save',
        'attention-implementation attn_implementation',
        'renamed-key torch_dtype',
        'renamed-key warmup_ratio',
      ]),
    );
    // max_seq_length is ignored, so the estimate uses TRL's default max_length of 1024
    expect(v.analysis?.shape?.seqLen).toBe(1024);
  });
});

describe('loadValidatedRecipes (what cdk synth uses)', () => {
  test('returns every shipped recipe with its hash, warnings and estimates', () => {
    const recipes = loadValidatedRecipes(RECIPES_DIR, CONFIG, { cwd: REPO_ROOT });
    expect(recipes.map((r) => r.name)).toContain('gpt-oss-20b-multilingual-lora');
    for (const r of recipes) {
      expect(r.hash).toMatch(/^[0-9a-f]{12}$/);
      expect(r.document.platform.training.instance_type).toMatch(/^ml\./);
      expect(r.analysis.memory?.perGpuGiB).toBeGreaterThan(0);
    }
  });

  test('fails with one ConfigError listing the problems of every bad file', () => {
    // GIVEN a directory with two broken recipes and a good one
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recipes-bad-'));
    const noSpotWait = goodRecipe();
    delete noSpotWait.platform.training.max_wait_seconds;
    writeRecipe(noSpotWait, 'first', dir);
    const flash = goodRecipe();
    flash.attn_implementation = 'flash_attention_2';
    flash.lerning_rate = 1;
    writeRecipe(flash, 'second', dir);
    writeRecipe(goodRecipe(), 'third', dir);
    // WHEN loaded THEN one error names all three problems, with file and key
    const error = configErrorOf(() => loadValidatedRecipes(dir, CONFIG));
    expect(error.issues).toHaveLength(3);
    expect(error.message).toMatch(/first\.yaml:\d+:\d+: platform\.training\.max_wait_seconds: found nothing/);
    expect(error.message).toMatch(/second\.yaml:\d+:\d+: lerning_rate: unknown key; did you mean learning_rate\?/);
    expect(error.message).toMatch(/second\.yaml:\d+:\d+: attn_implementation: found "flash_attention_2"/);
  });

  test('fails on two files that become the same pipeline', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recipes-dup-'));
    writeRecipe(goodRecipe(), 'twin', dir);
    fs.copyFileSync(path.join(dir, 'twin.yaml'), path.join(dir, 'twin.yml'));
    const report = buildRecipeReport(dir, CONFIG);
    expect(report.ok).toBe(false);
    expect(countLevels(report.recipes.flatMap((r) => r.findings)).errors).toBe(2);
    expect(formatFinding(report.recipes[0].findings[0])).toMatch(/both become pipeline "twin"/);
  });

  test('fails on a missing directory', () => {
    expect(configErrorOf(() => loadValidatedRecipes('/nonexistent/recipes', CONFIG)).message).toMatch(
      /recipes directory not found/,
    );
  });
});

describe('npm run recipes (the real CLI)', () => {
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const cli = path.join(REPO_ROOT, 'bin', 'cli.ts');
  const run = (args: string[], cwd = REPO_ROOT) => spawnSync(tsx, [cli, 'recipes', ...args], { cwd, encoding: 'utf8' });

  test('exits 0 on the shipped recipes and prints the table', () => {
    const result = run([]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^recipe\s+model\s+method\s+instance × count/);
    expect(result.stdout).toMatch(/gpt-oss-20b-multilingual-lora\s+gpt-oss-20b\s+LoRA attn\+experts/);
    expect(result.stdout).toMatch(/0 invalid; 0 errors/);
  });

  test('fails with exit 1 and every finding on a directory with a bad recipe', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recipes-cli-'));
    const bad = goodRecipe();
    bad.max_seq_length = 4096;
    bad.platform.training.instance_type = 'ml.g6.xlarge';
    writeRecipe(bad, 'bad', dir);
    writeRecipe(goodRecipe(), 'good', dir);
    const result = run(['--dir', dir]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/bad\s+gpt-oss-20b .* 2 errors/);
    expect(result.stdout).toMatch(
      /error .*bad\.yaml:\d+:\d+: max_seq_length: found 4096; .*write max_length: 4096 instead/,
    );
    expect(result.stdout).toMatch(
      /error .*bad\.yaml:\d+:\d+: platform\.training\.instance_type: found "ml\.g6\.xlarge"; estimated peak/,
    );
    expect(result.stdout).toMatch(/good\s+gpt-oss-20b .* ok/);
  });

  test('fails with exit 2 on a missing directory', () => {
    const result = run(['--dir', 'no-such-dir']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/error: .*no-such-dir: 1 problem\n\s+- recipes directory not found/);
  });

  test('applies the price overrides of cdk.json context gptOss', () => {
    // GIVEN a project whose cdk.json overrides the H100 price
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'project-'));
    fs.writeFileSync(
      path.join(project, 'cdk.json'),
      JSON.stringify({ context: { gptOss: { prices: { 'ml.p5.4xlarge': 100 } } } }),
    );
    fs.mkdirSync(path.join(project, 'recipes'));
    const doc = goodRecipe();
    doc.platform.training.spot = false;
    delete doc.platform.training.max_wait_seconds;
    writeRecipe(doc, 'priced', path.join(project, 'recipes'));
    // WHEN the report runs there with --details
    const result = run(['--details'], project);
    // THEN the hourly price in the details and the $/run come from the override
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\$100\.00\/h \(app config `prices` override/);
    const hours = Number(/priced\s+\S+\s+.+?\s{2}(\d+\.\d)\s{2}/.exec(result.stdout)?.[1]);
    expect(hours).toBeGreaterThan(0);
    expect(result.stdout).toMatch(/priced .* \$\d+ +ok/);
  });

  test('fails with exit 2 on an invalid app config', () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'project-'));
    fs.writeFileSync(path.join(project, 'cdk.json'), JSON.stringify({ context: { gptOss: { stage: 'Prod!' } } }));
    fs.mkdirSync(path.join(project, 'recipes'));
    const result = run([], project);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/stage: found "Prod!"/);
  });
});
