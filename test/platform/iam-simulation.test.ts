import { SIM_ACCOUNT, SIM_REGION, simulate, SynthesizedIam } from '../support/iam-simulation';
import { synthApp } from '../support/template';

/**
 * The attacks of the guardrails issue, evaluated offline against the synthesized identity, bucket and
 * endpoint policies of the real app (@cloud-copilot/iam-simulate): each request is what the role would send
 * to AWS, and the verdict is IAM's (explicit Deny beats Allow; no Allow is an implicit deny).
 */

const DATA = 'gptoss-dev-data';
const TRAINING = 'gptoss-dev-training';
const DEPLOYMENT = 'gptoss-dev-deployment';
const STUDIO = 'gptoss-dev-studio';
const NETWORK = 'gptoss-dev-network';
const PACKAGE = `arn:aws:sagemaker:${SIM_REGION}:${SIM_ACCOUNT}:model-package/gptoss-dev-sft/3`;

let iam: SynthesizedIam;
beforeAll(() => {
  iam = new SynthesizedIam(synthApp().templates);
});

/** A request by a role of the app, with its identity policies (and the given resource policy). */
function as(stack: string, rolePrefix: string) {
  const principal = iam.roleArn(stack, rolePrefix);
  const identityPolicies = iam.identityPolicies(stack, rolePrefix);
  return (
    action: string,
    resource: string,
    extra: { resourcePolicy?: unknown; context?: Record<string, string> } = {},
  ) => simulate({ principal, action, resource, identityPolicies, ...extra });
}

describe('the model registry prefix is write-once', () => {
  const artifacts = () => iam.bucketPolicy(DATA, 'Artifacts');
  const object = (key: string) => `${artifacts().bucketArn}/${key}`;

  test('a training job cannot write or delete a registered model (its own models/ output it can)', async () => {
    const training = as(TRAINING, 'TrainingJobRole');
    const resourcePolicy = artifacts().policy;
    expect(await training('s3:PutObject', object('registry/sft/job/model/model.safetensors'), { resourcePolicy })).toBe(
      'ExplicitlyDenied',
    );
    expect(await training('s3:DeleteObject', object('registry/sft/job/model/config.json'), { resourcePolicy })).toBe(
      'ExplicitlyDenied',
    );
    expect(
      await training('s3:PutObject', object('models/sft/job/output/model/model.safetensors'), { resourcePolicy }),
    ).toBe('Allowed');
  });

  test('a Studio user cannot overwrite a registered model either', async () => {
    const studio = as(STUDIO, 'StudioExecutionRole');
    expect(
      await studio('s3:PutObject', object('registry/sft/job/model/model.safetensors'), {
        resourcePolicy: artifacts().policy,
      }),
    ).not.toBe('Allowed');
  });

  test('the register workflow may write the registry copy', async () => {
    const register = as(DEPLOYMENT, 'RegisterRole');
    expect(iam.roleArn(DEPLOYMENT, 'RegisterRole')).toBe(
      `arn:aws:iam::${SIM_ACCOUNT}:role/gptoss-dev-register-workflow`,
    );
    expect(
      await register('s3:PutObject', object('registry/sft/job/model/model.safetensors'), {
        resourcePolicy: artifacts().policy,
      }),
    ).toBe('Allowed');
    // and reads the job's output it copies from, but writes nothing there
    expect(await register('s3:GetObject', object('models/sft/job/output/model/model.safetensors'))).toBe('Allowed');
    expect(await register('s3:PutObject', object('models/sft/job/output/model/model.safetensors'))).not.toBe('Allowed');
  });

  test('the account root is not locked out of the registry (break-glass)', async () => {
    expect(
      await simulate({
        principal: `arn:aws:iam::${SIM_ACCOUNT}:root`,
        action: 's3:DeleteObject',
        resource: object('registry/sft/job/model/config.json'),
        resourcePolicy: artifacts().policy,
        identityPolicies: [
          {
            name: 'admin',
            policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
          },
        ],
      }),
    ).toBe('Allowed');
  });
});

describe('separation of duties: only the approver role approves', () => {
  const approve = { 'sagemaker:ModelApprovalStatus': 'Approved' };

  test('a Studio user cannot approve a model package', async () => {
    expect(await as(STUDIO, 'StudioExecutionRole')('sagemaker:UpdateModelPackage', PACKAGE, { context: approve })).toBe(
      'ExplicitlyDenied',
    );
  });

  test.each([
    [TRAINING, 'TrainingJobRole'],
    [TRAINING, 'PipelineRole'],
    [STUDIO, 'MlflowServiceRole'],
  ])('%s %s cannot approve', async (stack, role) => {
    expect(await as(stack, role)('sagemaker:UpdateModelPackage', PACKAGE, { context: approve })).toBe(
      'ExplicitlyDenied',
    );
  });

  test('the approver role may approve and reject packages of this deployment, and nothing else', async () => {
    const approver = as(DEPLOYMENT, 'Approver');
    expect(await approver('sagemaker:UpdateModelPackage', PACKAGE, { context: approve })).toBe('Allowed');
    expect(
      await approver('sagemaker:UpdateModelPackage', PACKAGE, {
        context: { 'sagemaker:ModelApprovalStatus': 'Rejected' },
      }),
    ).toBe('Allowed');
    const foreign = `arn:aws:sagemaker:${SIM_REGION}:${SIM_ACCOUNT}:model-package/other-team-model/1`;
    expect(await approver('sagemaker:UpdateModelPackage', foreign, { context: approve })).not.toBe('Allowed');
    expect(await approver('sagemaker:DeleteModelPackage', PACKAGE)).not.toBe('Allowed');
  });
});

describe('the deploy role and its rollback alarms', () => {
  test('may describe the rollback alarms SageMaker deployment guardrails read', async () => {
    const alarm = `arn:aws:cloudwatch:${SIM_REGION}:${SIM_ACCOUNT}:alarm:gptoss-dev-sft-abcd1234-v3-invocation-5xx`;
    expect(await as(DEPLOYMENT, 'DeployStateMachineRole')('cloudwatch:DescribeAlarms', alarm)).toBe('Allowed');
  });
});

describe('Studio users change only their own spaces and apps', () => {
  const space = (name: string) => `arn:aws:sagemaker:${SIM_REGION}:${SIM_ACCOUNT}:space/d-xyz/${name}`;
  const owner = (profile: string) => `arn:aws:sagemaker:${SIM_REGION}:${SIM_ACCOUNT}:user-profile/d-xyz/${profile}`;

  test("alice cannot delete or update bob's space, but her own", async () => {
    // the domain id is a token (Fn::GetAtt ... DomainId); the simulation resolves it to a stand-in
    const domainId = iam.logicalId(STUDIO, 'AWS::SageMaker::Domain', 'Studio');
    const domain = iam.resolve(STUDIO, { 'Fn::GetAtt': [domainId, 'DomainId'] }) as string;
    // Studio fills the policy variables ${sagemaker:DomainId} and ${sagemaker:UserProfileName} with the
    // signed-in profile; iam-simulate does not know these variables, so the test substitutes them as Studio
    // does for alice before evaluating.
    const policies = JSON.parse(
      JSON.stringify(iam.identityPolicies(STUDIO, 'StudioExecutionRole'))
        .replaceAll('${sagemaker:DomainId}', domain)
        .replaceAll('${sagemaker:UserProfileName}', 'alice'),
    ) as { name: string; policy: unknown }[];
    const principal = iam.roleArn(STUDIO, 'StudioExecutionRole');
    const request = (action: string, spaceName: string, spaceOwner: string) =>
      simulate({
        principal,
        action,
        resource: space(spaceName).replace('d-xyz', domain),
        identityPolicies: policies,
        context: {
          'sagemaker:OwnerUserProfileArn': owner(spaceOwner).replace('d-xyz', domain),
          'sagemaker:SpaceSharingType': 'Private',
        },
      });
    expect(await request('sagemaker:DeleteSpace', 'bobs-space', 'bob')).not.toBe('Allowed');
    expect(await request('sagemaker:UpdateSpace', 'bobs-space', 'bob')).not.toBe('Allowed');
    expect(await request('sagemaker:DeleteSpace', 'alices-space', 'alice')).toBe('Allowed');
    expect(await request('sagemaker:UpdateSpace', 'alices-space', 'alice')).toBe('Allowed');
  });

  test("alice cannot start or stop apps in bob's private space", async () => {
    const domainId = iam.logicalId(STUDIO, 'AWS::SageMaker::Domain', 'Studio');
    const domain = iam.resolve(STUDIO, { 'Fn::GetAtt': [domainId, 'DomainId'] }) as string;
    const policies = JSON.parse(
      JSON.stringify(iam.identityPolicies(STUDIO, 'StudioExecutionRole'))
        .replaceAll('${sagemaker:DomainId}', domain)
        .replaceAll('${sagemaker:UserProfileName}', 'alice'),
    ) as { name: string; policy: unknown }[];
    const app = `arn:aws:sagemaker:${SIM_REGION}:${SIM_ACCOUNT}:app/${domain}/bobs-space/jupyterlab/default`;
    const verdict = (spaceOwner: string) =>
      simulate({
        principal: iam.roleArn(STUDIO, 'StudioExecutionRole'),
        action: 'sagemaker:DeleteApp',
        resource: app,
        identityPolicies: policies,
        context: {
          'sagemaker:OwnerUserProfileArn': owner(spaceOwner).replace('d-xyz', domain),
          'sagemaker:SpaceSharingType': 'Private',
        },
      });
    expect(await verdict('bob')).not.toBe('Allowed');
    expect(await verdict('alice')).toBe('Allowed');
  });
});

describe('VPC endpoint policies', () => {
  test('the S3 gateway endpoint refuses a bucket of another account, and admits the ECR layer bucket', async () => {
    const policy = iam.endpointPolicy(NETWORK, 'NetworkS3Endpoint');
    const anyone = 'arn:aws:iam::123456789012:role/anything';
    const put = (resource: string, resourceAccount: string, action = 's3:PutObject') =>
      simulate({
        principal: anyone,
        action,
        resource,
        vpcEndpointPolicies: [{ name: 's3-gateway', policy }],
        identityPolicies: [
          {
            name: 'all',
            policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
          },
        ],
        context: { 'aws:ResourceAccount': resourceAccount },
      });
    expect(await put('arn:aws:s3:::attacker-bucket/exfil.bin', '999999999999')).not.toBe('Allowed');
    expect(await put('arn:aws:s3:::gptoss-dev-artifacts/models/x', SIM_ACCOUNT)).toBe('Allowed');
    // ECR serves image layers from an AWS-owned bucket: readable, not writable
    const layer = `arn:aws:s3:::prod-${SIM_REGION}-starport-layer-bucket/sha256/abc`;
    expect(await put(layer, '000000000000', 's3:GetObject')).toBe('Allowed');
    expect(await put(layer, '000000000000')).not.toBe('Allowed');
  });

  test('an interface endpoint refuses callers of another account', async () => {
    const policy = iam.endpointPolicy(NETWORK, 'NetworkSageMakerApi');
    const call = (principal: string, account: string) =>
      simulate({
        principal,
        action: 'sagemaker:ListModels',
        resource: '*',
        vpcEndpointPolicies: [{ name: 'sagemaker-api', policy }],
        identityPolicies: [
          {
            name: 'all',
            policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
          },
        ],
        context: { 'aws:PrincipalAccount': account },
      });
    expect(await call('arn:aws:iam::999999999999:role/outsider', '999999999999')).not.toBe('Allowed');
    expect(await call(`arn:aws:iam::${SIM_ACCOUNT}:role/insider`, SIM_ACCOUNT)).toBe('Allowed');
  });
});
