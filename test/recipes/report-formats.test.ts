import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { Finding } from '../../lib/recipes/findings';
import { runRecipesCommand } from '../../lib/recipes/recipes-command';
import { buildRecipeReport } from '../../lib/recipes/report';
import { githubAnnotation, MARKDOWN_MARKER, renderJson, renderMarkdown } from '../../lib/recipes/report-formats';
import { CONFIG, goodRecipe, REPO_ROOT, writeRecipe } from './support';

/** `--format github`, `--json` and `--format markdown` (the pull-request comment). */

function recipesDir(recipes: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'formats-'));
  for (const [name, doc] of Object.entries(recipes)) writeRecipe(doc, name, dir);
  return dir;
}

function runCommand(args: { dir: string; format?: 'text' | 'github' | 'markdown' | 'json'; base?: string }) {
  let stdout = '';
  let stderr = '';
  const code = runRecipesCommand({
    ...args,
    cwd: REPO_ROOT,
    stdout: { write: (c: string) => (stdout += c) },
    stderr: { write: (c: string) => (stderr += c) },
  });
  return { code, stdout, stderr };
}

const bad = () => {
  const doc = goodRecipe();
  doc.learning_rate = -1e-4;
  doc.lora_alhpa = 16;
  return doc;
};

describe('--format github', () => {
  test('emits one workflow annotation per finding, at its line and column, then the table', () => {
    // GIVEN a directory with a bad recipe WHEN checked with --format github
    const dir = recipesDir({ bad: bad(), good: goodRecipe() });
    const { code, stdout } = runCommand({ dir, format: 'github' });
    // THEN exit 1, and each finding is an ::error annotation GitHub places on the line
    expect(code).toBe(1);
    const lines = stringify(bad()).split('\n');
    const lrLine = lines.findIndex((l) => l.startsWith('learning_rate:')) + 1;
    const file = path.relative(REPO_ROOT, path.join(dir, 'bad.yaml'));
    expect(stdout).toContain(
      `::error file=${file},line=${lrLine},col=16,title=recipe check (schema)::learning_rate: found -0.0001; expected a value > 0`,
    );
    expect(stdout).toMatch(
      /^::error file=[^\n]*,title=recipe check \(schema\)::lora_alhpa: unknown key; did you mean lora_alpha\?/m,
    );
    expect(stdout).toMatch(/^recipe\s+model\s+method/m);
  });

  test('escapes what the workflow-command syntax reserves', () => {
    const f: Finding = {
      rule: 'r',
      level: 'warning',
      file: 'recipes/a,b:c.yaml',
      keyPath: 'k',
      message: '100% sure\nsecond line',
      fix: '',
      line: 3,
      column: 7,
    };
    expect(githubAnnotation(f)).toBe(
      '::warning file=recipes/a%2Cb%3Ac.yaml,line=3,col=7,title=recipe check (r)::k: 100%25 sure%0Asecond line',
    );
    // without a position (a file-name problem) the annotation names the file only
    expect(githubAnnotation({ ...f, line: undefined, column: undefined })).toMatch(/^::warning file=[^,]+,title=/);
  });
});

describe('--json', () => {
  test('lists every recipe with its figures and positioned findings', () => {
    const dir = recipesDir({ bad: bad(), good: goodRecipe() });
    const json = JSON.parse(renderJson(buildRecipeReport(dir, CONFIG, { cwd: REPO_ROOT })));
    expect(json.ok).toBe(false);
    const [badRecipe, good] = json.recipes;
    expect(good).toMatchObject({ name: 'good', valid: true, errors: 0, model: 'gpt-oss-20b', spot: true });
    expect(good.memoryGiBPerGpu).toBeGreaterThan(10);
    expect(good.costUsd).toBeGreaterThan(0);
    expect(badRecipe.valid).toBe(false);
    const lr = badRecipe.findings.find((f: Finding) => f.keyPath === 'learning_rate');
    expect(lr).toMatchObject({ rule: 'schema', level: 'error', column: 16 });
    expect(lr.line).toBeGreaterThan(1);
  });

  test('the real CLI takes --json', () => {
    const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const result = spawnSync(tsx, [path.join(REPO_ROOT, 'bin', 'cli.ts'), 'recipes', '--json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.ok).toBe(true);
    expect(json.recipes.length).toBe(fs.readdirSync(path.join(REPO_ROOT, 'recipes')).length);
  });
});

describe('--format markdown (the pull-request comment)', () => {
  const more = () => {
    const doc = goodRecipe();
    doc.num_train_epochs = 2;
    return doc;
  };

  test('without a base: every recipe, with the marker the workflow finds the comment by', () => {
    const dir = recipesDir({ one: goodRecipe(), two: bad() });
    const md = renderMarkdown(buildRecipeReport(dir, CONFIG, { cwd: REPO_ROOT }));
    expect(md.split('\n')[0]).toBe(MARKDOWN_MARKER);
    expect(md).toMatch(
      /^\| `one` \| gpt-oss-20b \| LoRA attn\+experts \| ml\.p5\.4xlarge × 1 \| \d+\.\d \/ 79\.6 \| \d\.\d \| \$\d+\.\d\d spot \| ✅ ok \|$/m,
    );
    expect(md).toMatch(/^\| `two` .*\| ❌ 2 errors \|$/m);
    expect(md).toMatch(/- \*\*error\*\* `[^`]*two\.yaml:\d+:1` lora_alhpa: unknown key; did you mean lora_alpha\?/);
  });

  test('with a base: only added and changed recipes, each figure with its change; removed ones listed', () => {
    // GIVEN a base with same, changed and removed recipes, and a head that changes one and adds one
    const base = recipesDir({ same: goodRecipe(), changed: goodRecipe(), gone: goodRecipe() });
    const head = recipesDir({ same: goodRecipe(), changed: more(), added: goodRecipe() });
    const report = (dir: string) => buildRecipeReport(dir, CONFIG, { cwd: REPO_ROOT });
    // WHEN rendered against the base
    const md = renderMarkdown(report(head), report(base));
    // THEN the unchanged recipe is left out, the changed one shows twice the hours and the added one plain figures
    expect(md).not.toMatch(/`same`/);
    const changed =
      /^\| `changed` \| changed \| .* \| (\d+\.\d) \(\+(\d+\.\d)\) \| (\$\S+) \(\+(\$\S+)\) spot \|/m.exec(md);
    expect(changed).not.toBeNull();
    const now = report(head).recipes.find((r) => r.name === 'changed');
    const was = report(base).recipes.find((r) => r.name === 'changed');
    expect(Number(changed?.[1])).toBeCloseTo(now?.analysis?.run?.totalHours ?? NaN, 1);
    expect(Number(changed?.[2])).toBeCloseTo(
      (now?.analysis?.run?.totalHours ?? 0) - (was?.analysis?.run?.totalHours ?? 0),
      1,
    );
    expect(md).toMatch(
      /^\| `added` \| added \| gpt-oss-20b .* \| \d+\.\d \/ 79\.6 \| \d\.\d \| \$\d+\.\d\d spot \| ✅ ok \|$/m,
    );
    expect(md).toContain('Removed: `gone`');
  });

  test('with a base and no change: says so', () => {
    const dir = recipesDir({ same: goodRecipe() });
    const report = buildRecipeReport(dir, CONFIG, { cwd: REPO_ROOT });
    expect(renderMarkdown(report, report)).toContain('No recipe added or changed against the base branch.');
  });

  test('the command compares with --base', () => {
    const base = recipesDir({ a: goodRecipe() });
    const head = recipesDir({ a: more() });
    const { code, stdout } = runCommand({ dir: head, format: 'markdown', base });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\| `a` \| changed \|/m);
  });
});

test('the CI workflow annotates the PR and finds its comment by the marker the Markdown starts with', () => {
  const workflow = fs.readFileSync(path.join(REPO_ROOT, '.github', 'workflows', 'ci.yml'), 'utf8');
  expect(workflow).toContain('npm run --silent recipes -- --format github');
  expect(workflow).toContain('recipes -- --format markdown --base "$RUNNER_TEMP/base/recipes"');
  expect(workflow).toContain(`marker='${MARKDOWN_MARKER}'`);
});
