import { synthApp, type SynthesizedApp } from '../support/template';

/** Configs the platform tests synthesize: the defaults, and an imported VPC with users and the MLflow App. */
export const IMPORTED_VPC_CONFIG = {
  namePrefix: 'mlplat',
  stage: 'prod',
  account: '111122223333',
  region: 'eu-west-1',
  vpc: {
    mode: 'import',
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidr: '10.20.0.0/16',
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
  },
  studio: { users: [{ name: 'alice' }, { name: 'bob-smith' }], idleTimeoutMinutes: 120, maximumEbsSizeGb: 200 },
  mlflow: { kind: 'serverless-app', automaticModelRegistration: true, weeklyMaintenanceWindowStart: 'Tue:03:30' },
  tags: { 'cost-center': 'ml-research' },
};

const cache = new Map<string, SynthesizedApp>();

/** Synthesizes the full app once per config within a test file (no recipes: the platform stacks do not use them). */
export function platformApp(config: Record<string, unknown> = {}): SynthesizedApp {
  const key = JSON.stringify(config);
  let app = cache.get(key);
  if (!app) {
    app = synthApp({ config, recipes: [] });
    cache.set(key, app);
  }
  return app;
}
