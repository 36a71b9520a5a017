import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasInternetEgress } from '../../lib/config/app-config';
import { loadAppConfig, readCdkJsonContext } from '../../lib/config/load-app-config';
import { configErrorOf } from '../support/config-error';
import { importedVpc } from '../support/configs';

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
        vpc: importedVpc(),
      },
    });
    expect(config.vpc.mode).toBe('import');
  });

  test('internet egress is off by default and on only through the NAT switch or an imported VPC that has it', () => {
    // GIVEN the default config, NAT gateways in a new VPC, and imported VPCs with and without egress
    expect(loadAppConfig({}).vpc).toMatchObject({ natGateways: 0 });
    expect(hasInternetEgress(loadAppConfig({}).vpc)).toBe(false);
    expect(hasInternetEgress(loadAppConfig({ gptOss: { vpc: { mode: 'create', natGateways: 1 } } }).vpc)).toBe(true);
    expect(hasInternetEgress(loadAppConfig({ gptOss: { vpc: importedVpc() } }).vpc)).toBe(false);
    expect(hasInternetEgress(loadAppConfig({ gptOss: { vpc: importedVpc({ internetEgress: true }) } }).vpc)).toBe(true);
  });

  test('fails more NAT gateways than AZs, naming the key', () => {
    const error = configErrorOf(() =>
      loadAppConfig({ gptOss: { vpc: { mode: 'create', maxAzs: 2, natGateways: 3 } } }),
    );
    expect(error.message).toMatch(/vpc\.natGateways: .*at most one per AZ/);
  });

  test('defaultApprovalMode auto is refused in a stage that does not allow auto-approval (any but dev by default)', () => {
    const error = configErrorOf(() => loadAppConfig({ gptOss: { stage: 'prod', defaultApprovalMode: 'auto' } }));
    expect(error.message).toMatch(/defaultApprovalMode: found "auto"; this stage does not allow auto-approval/);
    expect(loadAppConfig({ gptOss: { stage: 'dev', defaultApprovalMode: 'auto' } }).defaultApprovalMode).toBe('auto');
    expect(
      loadAppConfig({ gptOss: { stage: 'prod', defaultApprovalMode: 'auto', allowAutoApproval: true } })
        .defaultApprovalMode,
    ).toBe('auto');
  });

  test('fails with the key and value of a bad VPC id', () => {
    const error = configErrorOf(() =>
      loadAppConfig({
        gptOss: {
          vpc: importedVpc({ vpcId: 'vpc-123' }),
        },
      }),
    );
    expect(error.message).toMatch(/vpc\.vpcId: found "vpc-123"; expected a VPC id like "vpc-0123456789abcdef0"/);
  });

  test('fails on an unknown Studio user setting, naming the key', () => {
    const error = configErrorOf(() =>
      loadAppConfig({ gptOss: { studio: { users: [{ name: 'alice', role: 'admin' }] } } }),
    );
    expect(error.message).toMatch(/studio\.users\[0\]\.role: unknown key/);
  });

  test('fails on a bad notification email and reports every problem at once', () => {
    const error = configErrorOf(() =>
      loadAppConfig({ gptOss: { notificationEmail: 'not-an-email', namePrefix: 'Bad_Prefix' } }),
    );
    expect(error.issues).toHaveLength(2);
    expect(error.message).toMatch(/notificationEmail: found "not-an-email"; expected an email address/);
    expect(error.message).toMatch(/namePrefix: found "Bad_Prefix"/);
  });

  test('fails on duplicate Studio users and an EBS default above the maximum', () => {
    const error = configErrorOf(() =>
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
    const error = configErrorOf(() => loadAppConfig({ configFile: 'missing.yaml' }, os.tmpdir()));
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
    const error = configErrorOf(() => readCdkJsonContext(dir));
    expect(error.message).toMatch(/^cdk\.json: 1 problem\n {2}- \(top level\): not valid JSON .*; fix the syntax/);
  });

  test('fails when privateRouteTableIds does not match the subnets', () => {
    // GIVEN one route table for two subnets / WHEN / THEN
    expect(() =>
      loadAppConfig({
        gptOss: {
          vpc: importedVpc({ privateRouteTableIds: ['rtb-0123456789abcdef0'] }),
        },
      }),
    ).toThrow(
      /vpc\.privateRouteTableIds: found \["rtb-0123456789abcdef0"\]; privateRouteTableIds must list one route table per private subnet/,
    );
  });

  test('fails on a route table id that is not one', () => {
    // GIVEN a subnet id where a route table id belongs / WHEN / THEN
    expect(() =>
      loadAppConfig({
        gptOss: {
          vpc: importedVpc({ privateRouteTableIds: ['subnet-0123456789abcdef0', 'rtb-0123456789abcdef1'] }),
        },
      }),
    ).toThrow(
      /vpc\.privateRouteTableIds\[0\]: found "subnet-0123456789abcdef0"; expected a route table id like "rtb-0123456789abcdef0"/,
    );
  });
});
