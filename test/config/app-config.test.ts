import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../lib/config/errors';
import { loadAppConfig, readCdkJsonContext } from '../../lib/config/load-app-config';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('app config', () => {
  test('an empty context gives the documented defaults', () => {
    // WHEN
    const config = loadAppConfig({});
    // THEN
    expect(config).toMatchObject({
      namePrefix: 'gptoss',
      stage: 'dev',
      vpc: { mode: 'create', cidr: '10.40.0.0/16', maxAzs: 2 },
      mlflow: { kind: 'tracking-server', size: 'Small' },
      defaultApprovalMode: 'manual',
      prices: {},
    });
    expect(config.account).toBeUndefined();
  });

  test('the committed cdk.json context is valid', () => {
    const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };
    expect(() => loadAppConfig(cdkJson.context)).not.toThrow();
  });

  test('an imported VPC is accepted with subnets and AZs', () => {
    const config = loadAppConfig({
      gptOss: {
        vpc: {
          mode: 'import',
          vpcId: 'vpc-0123456789abcdef0',
          vpcCidr: '10.0.0.0/16',
          privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
          availabilityZones: ['us-east-1a', 'us-east-1b'],
        },
      },
    });
    expect(config.vpc.mode).toBe('import');
  });

  test('fails with the key and value of a bad VPC id', () => {
    const error = errorOf(() =>
      loadAppConfig({
        gptOss: {
          vpc: {
            mode: 'import',
            vpcId: 'vpc-123',
            vpcCidr: '10.0.0.0/16',
            privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
            availabilityZones: ['us-east-1a', 'us-east-1b'],
          },
        },
      }),
    );
    expect(error.message).toMatch(/vpc\.vpcId: found "vpc-123"; expected a VPC id like "vpc-0123456789abcdef0"/);
  });

  test('fails on an unknown Studio user setting, naming the key', () => {
    const error = errorOf(() => loadAppConfig({ gptOss: { studio: { users: [{ name: 'alice', role: 'admin' }] } } }));
    expect(error.message).toMatch(/studio\.users\[0\]\.role: unknown key/);
  });

  test('fails on a bad notification email and reports every problem at once', () => {
    const error = errorOf(() =>
      loadAppConfig({ gptOss: { notificationEmail: 'not-an-email', namePrefix: 'Bad_Prefix' } }),
    );
    expect(error.issues).toHaveLength(2);
    expect(error.message).toMatch(/notificationEmail: found "not-an-email"; expected an email address/);
    expect(error.message).toMatch(/namePrefix: found "Bad_Prefix"/);
  });

  test('fails on duplicate Studio users and an EBS default above the maximum', () => {
    const error = errorOf(() =>
      loadAppConfig({
        gptOss: { studio: { users: [{ name: 'a' }, { name: 'a' }], defaultEbsSizeGb: 200, maximumEbsSizeGb: 100 } },
      }),
    );
    expect(error.message).toMatch(/studio\.defaultEbsSizeGb: .*must not exceed maximumEbsSizeGb/);
  });

  test('a config file given by context overrides context keys', () => {
    // GIVEN a stage file
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    fs.writeFileSync(path.join(dir, 'prod.yaml'), 'stage: prod\nprices:\n  ml.p5.48xlarge: 50.5\n');
    // WHEN
    const config = loadAppConfig({ gptOss: { stage: 'dev' }, configFile: 'prod.yaml' }, dir);
    // THEN
    expect(config.stage).toBe('prod');
    expect(config.prices['ml.p5.48xlarge']).toBe(50.5);
  });

  test('fails when the config file does not exist, naming it', () => {
    const error = errorOf(() => loadAppConfig({ configFile: 'missing.yaml' }, os.tmpdir()));
    expect(error.message).toMatch(/missing\.yaml: 1 problem\n {2}- file not found/);
  });

  test('reads the cdk.json context, and an absent cdk.json as no context', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkjson-'));
    expect(readCdkJsonContext(dir)).toEqual({});
    fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'x', context: { gptOss: { stage: 'qa' } } }));
    expect(readCdkJsonContext(dir)).toEqual({ gptOss: { stage: 'qa' } });
  });

  test('fails on a cdk.json that is not JSON, naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkjson-'));
    fs.writeFileSync(path.join(dir, 'cdk.json'), '{ "context": ');
    const error = errorOf(() => readCdkJsonContext(dir));
    expect(error.message).toMatch(/^cdk\.json: 1 problem\n {2}- \(top level\): not valid JSON .*; fix the syntax/);
  });
});
