import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importedVpc } from '../support/configs';
import { REPO_ROOT } from '../support/python-tools';

/** Runs bin/app.ts the way `cdk synth` does (context in CDK_CONTEXT_JSON, output in CDK_OUTDIR), offline. */
function runApp(context: Record<string, unknown>, outdir: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir };
  // no credentials and no profile: synthesis must not need them.
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[key];
  return spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gptoss-synth-'));
}

describe('bin/app.ts', () => {
  test('synthesizes the platform stacks offline, with the four compliance packs passing and the teardown bundled', () => {
    // GIVEN the feature flags of cdk.json and the default config
    const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: object };
    const outdir = tempDir();
    try {
      // WHEN the app runs
      const res = runApp({ ...cdkJson.context }, outdir);
      // THEN it succeeds and writes every platform template and the bundled handler
      expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
      const files = fs.readdirSync(outdir);
      expect(files).toEqual(
        expect.arrayContaining([
          'gptoss-dev-data.template.json',
          'gptoss-dev-network.template.json',
          'gptoss-dev-studio.template.json',
        ]),
      );
      const handlers = files
        .filter((f) => f.startsWith('asset.'))
        .map((f) => path.join(outdir, f, 'index.js'))
        .filter((f) => fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('studio-teardown-'));
      expect(handlers).toHaveLength(1);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test.each([
    [
      'a bad VPC id',
      {
        vpc: importedVpc({ vpcId: 'vpc-123' }),
      },
      /vpc\.vpcId: found "vpc-123"; expected a VPC id like "vpc-0123456789abcdef0"/,
    ],
    [
      'an unknown user setting',
      { studio: { users: [{ name: 'alice', role: 'admin' }] } },
      /studio\.users\[0\]\.role: unknown key/,
    ],
    [
      'a bad email',
      { notificationEmail: 'ml-team(at)example.com' },
      /notificationEmail: found "ml-team\(at\)example\.com"; expected an email address/,
    ],
  ])('fails on %s with the key, the value and the fix, and no stack trace', (_name, gptOss, message) => {
    // GIVEN a config with the mistake
    const outdir = tempDir();
    try {
      // WHEN the app runs
      const res = runApp({ gptOss }, outdir);
      // THEN it exits 1 with the message naming the source, key and value
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/^cdk\.json context "gptOss": 1 problem/);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('fails on a recipe the lint rejects, naming file, key and fix, and writes no template', () => {
    // GIVEN a recipes directory with the classic sample mistake (max_seq_length is not an SFT field)
    const outdir = tempDir();
    const recipesDir = tempDir();
    fs.writeFileSync(
      path.join(recipesDir, 'bad-lora.yaml'),
      'model_name_or_path: openai/gpt-oss-20b\nmax_seq_length: 2048\nplatform:\n  training:\n    instance_type: ml.p5.48xlarge\n',
    );
    const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: object };
    try {
      // WHEN the app runs on it
      const res = runApp({ ...cdkJson.context, recipesDir }, outdir);
      // THEN synth stops before any stack is written, with the lint message
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/bad-lora\.yaml/);
      expect(res.stderr).toMatch(/max_seq_length/);
      expect(res.stderr).toMatch(/max_length/);
      expect(fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
      fs.rmSync(recipesDir, { recursive: true, force: true });
    }
  });
});
