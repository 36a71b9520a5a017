import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildDeploymentStack, deploymentTemplate, IMPORTED, PREFIX } from './support';

/** The DeploymentStack's roles and the endpoints' security group: least privilege. */

let template: Template;

beforeAll(() => {
  ({ template } = deploymentTemplate());
});

function rolePolicyStatements(logicalIdPrefix: string): Record<string, unknown>[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const [, policy] = Object.entries(policies).find(([id]) => id.startsWith(logicalIdPrefix)) ?? [];
  if (!policy) throw new Error(`no policy ${logicalIdPrefix}*`);
  return (policy.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

describe('least privilege', () => {
  test("the REGISTER role reaches only this deployment's pipelines, training jobs and package groups", () => {
    // GIVEN the register role's policy WHEN read THEN every SageMaker write is scoped by name prefix
    const statements = rolePolicyStatements('RegisterRoleDefaultPolicy');
    const byAction = (action: string) =>
      statements.filter((s) => asList(s.Action).some((a) => (a as string).toLowerCase() === action.toLowerCase()));
    expect(JSON.stringify(byAction('sagemaker:CreateModelPackage'))).toContain(`model-package/${PREFIX}-*/*`);
    expect(JSON.stringify(byAction('sagemaker:ListPipelineExecutionSteps'))).toContain(
      `pipeline/${PREFIX}-*/execution/*`,
    );
    expect(JSON.stringify(byAction('sagemaker:DescribeTrainingJob'))).toContain('training-job/pipelines-*');
    // AND nothing grants a sagemaker:* or iam:* action
    expect(
      statements.flatMap((s) => asList(s.Action)).filter((a) => /^(sagemaker|iam):\*|^\*$/.test(a as string)),
    ).toEqual([]);
    // AND "*" resources are used only by the actions that support no resource-level permissions
    const starActions = statements.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action));
    expect(starActions.filter((a) => !/^(xray:|logs:|sagemaker:listmodelpackages$)/i.test(a as string))).toEqual([]);
  });

  test('REGISTER reads the job outputs under models/, writes only registry/, and deletes nothing', () => {
    const statements = rolePolicyStatements('RegisterRoleDefaultPolicy');
    const withAction = (action: string) => statements.filter((s) => asList(s.Action).includes(action));
    expect(withAction('s3:PutObject').flatMap((s) => asList(s.Resource))).toEqual([
      `arn:aws:s3:::${IMPORTED.bucketName}/registry/*`,
    ]);
    expect(
      withAction('s3:GetObject')
        .flatMap((s) => asList(s.Resource))
        .sort(),
    ).toEqual(
      [
        `arn:aws:s3:::${IMPORTED.bucketName}/models/*`,
        `arn:aws:s3:::${IMPORTED.bucketName}/registry/*`,
        `arn:aws:s3:::${IMPORTED.bucketName}/serving/*`,
      ].sort(),
    );
    expect(statements.flatMap((s) => asList(s.Action)).filter((a) => /^s3:Delete/.test(a as string))).toEqual([]);
  });

  test('DEPLOY reads the settings objects under serving/ only, lists only that prefix, and decrypts through S3 only', () => {
    // GIVEN the role's policy WHEN read THEN the S3 and KMS statements are scoped to the settings
    for (const role of ['DeployStateMachineRoleDefaultPolicy']) {
      const statements = rolePolicyStatements(role);
      const withAction = (action: string) => statements.filter((s) => asList(s.Action).includes(action));
      expect(withAction('s3:GetObject').flatMap((s) => asList(s.Resource))).toEqual(
        expect.arrayContaining([`arn:aws:s3:::${IMPORTED.bucketName}/serving/*`]),
      );
      for (const s of withAction('s3:GetObject')) {
        expect(asList(s.Resource)).toEqual([`arn:aws:s3:::${IMPORTED.bucketName}/serving/*`]);
      }
      expect(withAction('s3:ListBucket')).toEqual([
        expect.objectContaining({
          Resource: `arn:aws:s3:::${IMPORTED.bucketName}`,
          Condition: { StringLike: { 's3:prefix': ['serving/*'] } },
        }),
      ]);
      // (the other kms:Decrypt is the notifications topic's own key, for SNS publishing)
      expect(withAction('kms:Decrypt').filter((st) => st.Resource === IMPORTED.keyArn)).toEqual([
        expect.objectContaining({
          Resource: IMPORTED.keyArn,
          Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
        }),
      ]);
      expect(
        statements.flatMap((s) => asList(s.Action)).filter((a) => /^s3:(\*|List\*|GetObject\*)/.test(a as string)),
      ).toEqual([]);
    }
  });

  test('the DEPLOY role passes only the model role, to SageMaker, and writes only prefixed hosting resources', () => {
    // GIVEN the deploy role's policy WHEN read THEN PassRole is conditioned and writes are prefix-scoped
    const statements = rolePolicyStatements('DeployStateMachineRoleDefaultPolicy');
    const pass = statements.filter((s) => asList(s.Action).includes('iam:PassRole'));
    expect(pass).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ModelRole/), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    ]);
    const writes = statements.filter((s) =>
      asList(s.Action).some((a) => /^sagemaker:(Create|Update|Delete|create|update|delete)/.test(a as string)),
    );
    for (const s of writes) {
      for (const resource of asList(s.Resource)) expect(JSON.stringify(resource)).toMatch(new RegExp(`/${PREFIX}-\\*`));
    }
    const starActions = statements.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action));
    expect(
      starActions.filter(
        (a) =>
          !/^(xray:|logs:|sagemaker:(listEndpoints|listModels|listEndpointConfigs|ListEndpoints|ListModels|ListEndpointConfigs)$)/.test(
            a as string,
          ),
      ),
    ).toEqual([]);
    expect(JSON.stringify(statements)).toContain(`"sagemaker:InvokeEndpoint"`);
  });

  test('the model role is assumed by SageMaker, reads registry/ (not models/) and writes data-capture/ only, with no managed policies', () => {
    // GIVEN the model execution role WHEN synthesized THEN trust and scope are as designed
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })],
      },
      ManagedPolicyArns: Match.absent(),
    });
    const text = JSON.stringify(rolePolicyStatements('ModelRole'));
    // endpoints serve the registered copy only; a job's mutable output is out of their reach
    expect(text).toContain(`arn:aws:s3:::${IMPORTED.bucketName}/registry/*`);
    expect(text).not.toContain(`arn:aws:s3:::${IMPORTED.bucketName}/models/*`);
    expect(text).toContain(`arn:aws:s3:::${IMPORTED.bucketName}/data-capture/*`);
    expect(text).toContain('repository/vllm');
    expect(text).not.toMatch(/"s3:\*"|"s3:GetObject\*"|"s3:List\*"/);
  });

  test("the endpoints' security group accepts nothing and sends HTTPS only", () => {
    // GIVEN no security group passed WHEN synthesized THEN the stack's own group is egress-443-only
    const own = buildDeploymentStack({ props: { securityGroup: undefined } });
    Template.fromJSON(own.template).hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: IMPORTED.vpcId,
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })],
      SecurityGroupIngress: Match.absent(),
    });
  });
});
