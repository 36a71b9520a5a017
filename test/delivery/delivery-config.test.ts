import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../lib/config/errors';
import { CONFIG_FILE_CONTEXT_KEY, loadAppConfig } from '../../lib/config/load-app-config';
import { loadDeliveryStages } from '../../lib/config/load-delivery-stages';
import { REPO_ROOT } from '../support/python-tools';

const DELIVERY = {
  connectionArn: 'arn:aws:codeconnections:eu-west-1:333333333333:connection/11111111-2222-3333-4444-555555555555',
  repository: 'team/platform',
  stages: [{ configFile: 'dev.yaml', approval: 'none' }, { configFile: 'prod.yaml' }],
};

/** Writes the files into a temp directory and loads the delivery config and stages from it, as bin/app.ts does. */
function load(files: Record<string, string>, context: Record<string, unknown> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptoss-delivery-'));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const ctx = { [CONFIG_FILE_CONTEXT_KEY]: 'delivery.yaml', ...context };
    const config = loadAppConfig(ctx, dir);
    return { config, stages: loadDeliveryStages(ctx, config, dir) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const deliveryFile = (extra = '') =>
  `account: '333333333333'\nregion: eu-west-1\ndelivery: ${JSON.stringify(DELIVERY)}\n${extra}`;
const stageFile = (stage: string, account: string, extra = '') =>
  `stage: ${stage}\naccount: '${account}'\nregion: eu-west-1\n${extra}`;

/** The ConfigError `fn` throws (fails the test if it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('delivery config', () => {
  test('loads each stage from its own file, in order, with the approval asked for (manual by default)', () => {
    // GIVEN cdk.json context shared by every stage (tags), a delivery file and two stage files
    const { stages } = load(
      {
        'delivery.yaml': deliveryFile(),
        'dev.yaml': stageFile('dev', '111111111111'),
        'prod.yaml': stageFile('prod', '222222222222'),
      },
      { gptOss: { namePrefix: 'mlplat', tags: { team: 'ml' } } },
    );
    // THEN each stage has its file's keys plus the shared context, and no delivery block
    expect(
      stages.map((s) => [s.config.stage, s.config.account, s.approval, s.config.namePrefix, s.config.tags]),
    ).toEqual([
      ['dev', '111111111111', 'none', 'mlplat', { team: 'ml' }],
      ['prod', '222222222222', 'manual', 'mlplat', { team: 'ml' }],
    ]);
    expect(stages.map((s) => s.config.delivery)).toEqual([undefined, undefined]);
  });

  test.each([
    [
      'a stage without an account',
      { 'dev.yaml': 'stage: dev\nregion: eu-west-1\n' },
      /^dev\.yaml: 1 problem\n {2}- account: missing; delivery stage 1 needs its 12-digit account id$/,
    ],
    [
      'a stage file with its own delivery block',
      { 'dev.yaml': stageFile('dev', '111111111111', `delivery: ${JSON.stringify(DELIVERY)}\n`) },
      /^dev\.yaml: 1 problem\n {2}- delivery: a stage config must not hold a delivery block/,
    ],
    [
      'two stages with one name',
      { 'prod.yaml': stageFile('dev', '222222222222') },
      /^prod\.yaml: 1 problem\n {2}- stage: found "dev", also the stage of dev\.yaml; give every delivery stage its own name$/,
    ],
    [
      'a delivery config without its region',
      { 'delivery.yaml': deliveryFile().replace('region: eu-west-1\n', '') },
      /^delivery\.yaml: 1 problem\n {2}- region: missing; the delivery pipeline needs its region/,
    ],
    [
      'a connection ARN of another service',
      { 'delivery.yaml': deliveryFile().replace('codeconnections', 'codecommit') },
      /delivery\.connectionArn: found "arn:aws:codecommit:[^;]*; expected a CodeConnections connection ARN/,
    ],
  ])('rejects %s, naming the file, the key and the fix', (_name, override, message) => {
    // GIVEN valid files with one mistake
    const files = {
      'delivery.yaml': deliveryFile(),
      'dev.yaml': stageFile('dev', '111111111111'),
      'prod.yaml': stageFile('prod', '222222222222'),
      ...override,
    };
    // WHEN loaded THEN a ConfigError says what to change
    expect(configError(() => load(files)).message).toMatch(message);
  });
});

describe('bin/app.ts with the delivery config', () => {
  test('synthesizes the pipeline and both stages offline, with the compliance packs passing', () => {
    // GIVEN cdk.json's context, -c configFile=stages/delivery.yaml and no AWS credentials
    const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: object };
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptoss-delivery-synth-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, [CONFIG_FILE_CONTEXT_KEY]: 'stages/delivery.yaml' }),
      CDK_OUTDIR: outdir,
      GIT_SHA: '0123456789abcdef0123456789abcdef01234567',
    };
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      delete env[key];
    try {
      // WHEN the app runs as `cdk synth` runs it
      const res = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
        cwd: REPO_ROOT,
        env,
        encoding: 'utf8',
        timeout: 300_000,
      });
      // THEN it succeeds, writing only the pipeline stack at the top and each stage's stacks in its assembly
      expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
      expect(fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))).toEqual([
        'gptoss-delivery.template.json',
      ]);
      for (const stage of ['dev', 'prod']) {
        const templates = fs
          .readdirSync(path.join(outdir, `assembly-gptoss-delivery-${stage}`))
          .filter((f) => f.endsWith('.template.json') && !f.endsWith('.nested.template.json'))
          .map((f) => f.replace(/[0-9A-F]{8}\.template\.json$/, ''));
        expect(templates.sort()).toEqual(
          ['data', 'deployment', 'network', 'studio', 'training'].map(
            (p) => `gptossdelivery${stage}gptoss${stage}${p}`,
          ),
        );
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
