import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixRenamedKeys } from '../../lib/recipes/fix-recipe';
import { runInitCommand } from '../../lib/recipes/init-command';
import { runRecipesCommand } from '../../lib/recipes/recipes-command';
import { validateRecipeFile } from '../../lib/recipes/validate-recipe';
import { CONFIG, goodRecipe, REPO_ROOT, writeRecipe } from './support';

const STOCK = path.join(__dirname, 'fixtures', 'stock', 'gpt-oss-recipes-sft-lora.yaml');

/** A throwaway project: cdk.json (default app config) and a recipes/ directory. */
function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authoring-'));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ context: {} }));
  fs.mkdirSync(path.join(dir, 'recipes'));
  return dir;
}

function sink(): { write(s: string): void; text: string } {
  const s = { text: '', write: (chunk: string) => void (s.text += chunk) };
  return s;
}

function recipes(cwd: string, args: { files?: string[]; fix?: boolean } = {}) {
  const stdout = sink();
  const stderr = sink();
  const code = runRecipesCommand({ dir: 'recipes', cwd, stdout, stderr, ...args });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function init(cwd: string, name: string, from: string) {
  const stdout = sink();
  const stderr = sink();
  const code = runInitCommand({ name, from, dir: 'recipes', cwd, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const commentLines = (text: string) => text.split('\n').filter((l) => l.trim().startsWith('#'));

describe('recipes --fix (renamed keys)', () => {
  test('round trip on the stock TRL recipe: only the two keys change, comments stay, the result passes clean', () => {
    // GIVEN the stock recipe, which uses torch_dtype and warmup_ratio, copied into a project
    const cwd = project();
    const file = path.join(cwd, 'recipes', 'stock.yaml');
    const before = fs.readFileSync(STOCK, 'utf8');
    fs.writeFileSync(file, before);
    // WHEN `recipes --fix` runs on it
    const r = recipes(cwd, { files: ['recipes/stock.yaml'], fix: true });
    // THEN it says what it renamed, at which line
    expect(r.stdout).toContain('fixed recipes/stock.yaml:7: torch_dtype → dtype');
    expect(r.stdout).toContain('fixed recipes/stock.yaml:28: warmup_ratio → warmup_steps');
    // AND the file differs from the original in exactly those two lines; every comment is kept
    const after = fs.readFileSync(file, 'utf8');
    const diff = before
      .split('\n')
      .map((line, i) => [line, after.split('\n')[i]])
      .filter(([a, b]) => a !== b);
    expect(diff).toEqual([
      ['torch_dtype: bfloat16', 'dtype: bfloat16'],
      ['warmup_ratio: 0.03', 'warmup_steps: 0.03'],
    ]);
    expect(commentLines(after)).toEqual(commentLines(before));
    expect(commentLines(after).length).toBeGreaterThan(3);
    // AND it passes the check with no renamed-key warning left
    expect(r.code).toBe(0);
    const v = validateRecipeFile(file, CONFIG, { cwd });
    expect(v.valid).toBe(true);
    expect(v.findings.filter((f) => f.rule === 'renamed-key')).toEqual([]);
    // AND a second run changes nothing
    expect(recipes(cwd, { files: ['recipes/stock.yaml'], fix: true }).stdout).not.toContain('fixed');
    expect(fs.readFileSync(file, 'utf8')).toBe(after);
  });

  test('keeps inline comments, quoting and number formats on the renamed line', () => {
    const r = fixRenamedKeys('a: 1 # one\n"torch_dtype": bfloat16  # the weights\nwarmup_ratio: 3.0e-2\n');
    expect(r.text).toBe('a: 1 # one\ndtype: bfloat16  # the weights\nwarmup_steps: 3.0e-2\n');
  });

  test.each([
    ['both names set', 'torch_dtype: bfloat16\ndtype: float32\n', /dtype is set too/],
    ['a warm-up ratio of 1 (no fractional equivalent)', 'warmup_ratio: 1.0\n', /found 1; .*number of steps/],
    ['a ratio that is not a number', 'warmup_ratio: lots\n', /found "lots"/],
  ])('leaves the key alone and says why: %s', (_what, text, reason) => {
    const r = fixRenamedKeys(text);
    expect(r.text).toBe(text);
    expect(r.skipped).toHaveLength(1);
    expect(r.skipped[0].reason).toMatch(reason);
  });

  test('a file with a YAML syntax error is not touched', () => {
    const text = 'torch_dtype: [bfloat16\n';
    const r = fixRenamedKeys(text);
    expect(r.text).toBe(text);
    expect(r.unreadable).toMatch(/^line \d+: /);
  });
});

describe('recipes <files...>', () => {
  test('checks only the files given: a broken sibling does not fail the check', () => {
    const cwd = project();
    writeRecipe(goodRecipe(), 'mine', path.join(cwd, 'recipes'));
    fs.writeFileSync(path.join(cwd, 'recipes', 'theirs.yaml'), 'lerning_rate: [\n');
    const only = recipes(cwd, { files: ['recipes/mine.yaml'] });
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/^mine\s/m);
    expect(only.stdout).not.toMatch(/theirs/);
    // the whole directory still fails on the sibling
    expect(recipes(cwd).code).toBe(1);
  });

  test('still refuses a file whose name collides with a sibling in its directory', () => {
    const cwd = project();
    writeRecipe(goodRecipe(), 'twin', path.join(cwd, 'recipes'));
    fs.copyFileSync(path.join(cwd, 'recipes', 'twin.yaml'), path.join(cwd, 'recipes', 'Twin.yml'));
    const r = recipes(cwd, { files: ['recipes/twin.yaml'] });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/recipes\/twin\.yaml and recipes\/Twin\.yml both become pipeline "twin"/);
  });

  test('a missing file exits 2 and names it', () => {
    const r = recipes(project(), { files: ['recipes/nope.yaml'] });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/recipes\/nope\.yaml: 1 problem\n\s+- recipe file not found/);
  });
});

describe('init <name> --from', () => {
  test('from a shipped recipe name: writes recipes/<name>.yaml that passes, and never overwrites it', () => {
    const cwd = project();
    fs.copyFileSync(
      path.join(REPO_ROOT, 'recipes', 'gpt-oss-20b-multilingual-lora.yaml'),
      path.join(cwd, 'recipes', 'gpt-oss-20b-multilingual-lora.yaml'),
    );
    const r = init(cwd, 'my-lora', 'gpt-oss-20b-multilingual-lora');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = path.join(cwd, 'recipes', 'my-lora.yaml');
    expect(validateRecipeFile(file, CONFIG, { cwd }).valid).toBe(true);
    fs.appendFileSync(file, '# my edit\n');
    const again = init(cwd, 'my-lora', 'gpt-oss-20b-multilingual-lora');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/recipes\/my-lora\.yaml already exists/);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/# my edit\n$/);
  });

  test('from a stock TRL file: renamed keys rewritten, comments kept', () => {
    const cwd = project();
    const r = init(cwd, 'stock-lora', STOCK);
    expect(r.code).toBe(0);
    const text = fs.readFileSync(path.join(cwd, 'recipes', 'stock-lora.yaml'), 'utf8');
    expect(text).toMatch(/^dtype: bfloat16$/m);
    expect(text).not.toMatch(/torch_dtype|warmup_ratio/);
    expect(text).toContain('# Origin: huggingface/gpt-oss-recipes');
    const v = validateRecipeFile(path.join(cwd, 'recipes', 'stock-lora.yaml'), CONFIG, { cwd });
    expect(v.valid).toBe(true);
  });

  test.each([
    ['My_Recipe', /use lowercase letters, digits and hyphens/],
    ['-lead', /use lowercase letters/],
  ])('refuses the name %s', (name, message) => {
    const r = init(project(), name, STOCK);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test('refuses a source that does not exist, listing the recipes there', () => {
    const cwd = project();
    writeRecipe(goodRecipe(), 'base', path.join(cwd, 'recipes'));
    const r = init(cwd, 'x', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from "nope" is neither a file nor a recipe in recipes\/; recipes there: base/);
  });

  test('a source that fails the check leaves nothing behind and prints why', () => {
    const cwd = project();
    const bad = goodRecipe();
    bad.max_seq_length = 4096;
    const source = writeRecipe(bad, 'bad', cwd);
    const r = init(cwd, 'copy', source);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/recipes\/copy\.yaml:\d+:\d+: max_seq_length: found 4096/);
    expect(fs.existsSync(path.join(cwd, 'recipes', 'copy.yaml'))).toBe(false);
  });

  test('a name too long for SageMaker resources is refused by the same check', () => {
    const r = init(project(), 'x'.repeat(60), STOCK);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/resource-names|63/);
  });
});

describe('the real CLI', () => {
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const cli = path.join(REPO_ROOT, 'bin', 'cli.ts');

  test('--version prints the package.json version; recipes takes files', () => {
    const version = spawnSync(tsx, [cli, '--version'], { cwd: REPO_ROOT, encoding: 'utf8' });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
    const one = spawnSync(tsx, [cli, 'recipes', 'recipes/gpt-oss-20b-full.yaml'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/^gpt-oss-20b-full\s/m);
    expect(one.stdout).not.toMatch(/^gpt-oss-120b/m);
  });
});
