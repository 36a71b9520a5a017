import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { cfnLintTemplates, expectCfnLintClean } from '../support/cfn-lint';
import { expectNoNagFindings } from '../support/nag';
import { appContext, snapshotOf, testConfig } from '../support/template';
import { IMPORTED_VPC_CONFIG, platformApp } from './fixtures';

const INTERFACE_SERVICES = [
  'com.amazonaws.<region>.sagemaker.api',
  'com.amazonaws.<region>.sagemaker.runtime',
  'aws.sagemaker.<region>.studio',
  'aws.sagemaker.<region>.notebook',
  'aws.sagemaker.<region>.experiments',
  'com.amazonaws.<region>.sts',
  'com.amazonaws.<region>.logs',
  'com.amazonaws.<region>.monitoring',
  'com.amazonaws.<region>.ecr.api',
  'com.amazonaws.<region>.ecr.dkr',
  'com.amazonaws.<region>.kms',
  'com.amazonaws.<region>.secretsmanager',
];

/** Endpoint service names with the region written as `<region>`, whether it is a token or a literal. */
function endpointServices(template: Template, type: 'Interface' | 'Gateway'): string[] {
  return Object.values(template.findResources('AWS::EC2::VPCEndpoint'))
    .filter((e) => e.Properties.VpcEndpointType === type)
    .map((e) => {
      const name = e.Properties.ServiceName;
      if (typeof name === 'string') return name.replace('eu-west-1', '<region>');
      return (name['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : '<region>')).join('');
    })
    .sort();
}

/** A network stack alone, with the data key replaced by a stand-in stack. */
function networkOnly(vpc: Record<string, unknown>): { stack: NetworkStack; template: Template } {
  const app = new cdk.App({ context: appContext() });
  const keyStack = new cdk.Stack(app, 'Keys');
  const key = new cdk.aws_kms.Key(keyStack, 'Key', { enableKeyRotation: true });
  const stack = new NetworkStack(app, 'Network', { config: testConfig({ vpc }), key });
  return { stack, template: Template.fromStack(stack) };
}

describe('NetworkStack, new VPC (default config)', () => {
  const { stacks } = platformApp();
  const template = Template.fromStack(stacks.network);

  test('creates a VPC with only private isolated subnets in two AZs and no route to the internet', () => {
    // GIVEN the default config (mode create, 10.40.0.0/16, 2 AZs) / THEN
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.40.0.0/16' });
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    for (const subnet of Object.values(template.findResources('AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    expect(stacks.network.vpc.isolatedSubnets).toHaveLength(2);
    expect(stacks.network.subnets.subnets).toEqual(stacks.network.vpc.isolatedSubnets);
  });

  test('has the S3 gateway endpoint and every interface endpoint Studio, training and MLflow need', () => {
    expect(endpointServices(template, 'Gateway')).toEqual(['com.amazonaws.<region>.s3']);
    expect(endpointServices(template, 'Interface')).toEqual([...INTERFACE_SERVICES].sort());
    for (const endpoint of Object.values(template.findResources('AWS::EC2::VPCEndpoint'))) {
      if (endpoint.Properties.VpcEndpointType !== 'Interface') continue;
      expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
      expect(endpoint.Properties.SecurityGroupIds).toEqual([
        { 'Fn::GetAtt': ['NetworkEndpointsSecurityGroup2BB02345', 'GroupId'] },
      ]);
    }
  });

  test('opens the endpoints to HTTPS from the VPC only, with no egress', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^VPC interface endpoints'),
      SecurityGroupIngress: [
        { CidrIp: '10.40.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: 'HTTPS from the VPC' },
      ],
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })],
    });
  });

  test('gives the Studio group NFS and 8192-65535 within itself, and HTTPS out only', () => {
    const studio = 'NetworkStudioSecurityGroup973FB21A';
    const self = { 'Fn::GetAtt': [studio, 'GroupId'] };
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^SageMaker Studio apps'),
      SecurityGroupEgress: [
        { CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: Match.anyValue() },
      ],
    });
    for (const [from, to] of [
      [2049, 2049],
      [8192, 65535],
    ]) {
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: self,
        SourceSecurityGroupId: self,
        FromPort: from,
        ToPort: to,
        IpProtocol: 'tcp',
      });
      template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
        GroupId: self,
        DestinationSecurityGroupId: self,
        FromPort: from,
        ToPort: to,
        IpProtocol: 'tcp',
      });
    }
    const studioIngress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => JSON.stringify(r.Properties.GroupId) === JSON.stringify(self),
    );
    expect(studioIngress).toHaveLength(2);
  });

  test('lets training instances talk to each other on all protocols (EFA), and HTTPS out', () => {
    const self = { 'Fn::GetAtt': ['NetworkTrainingSecurityGroup874C6F97', 'GroupId'] };
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: self,
      SourceSecurityGroupId: self,
      IpProtocol: '-1',
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: self,
      DestinationSecurityGroupId: self,
      IpProtocol: '-1',
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^SageMaker training jobs'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
    });
  });

  test('logs all VPC traffic to a KMS-encrypted log group kept a year', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
  });

  test('has zero unacknowledged cdk-nag findings across the four packs', () => {
    expectNoNagFindings(stacks.network);
  });

  test('matches the snapshot', () => {
    expect(snapshotOf(stacks.network)).toMatchSnapshot();
  });
});

describe('NetworkStack, imported VPC', () => {
  const { stacks } = platformApp(IMPORTED_VPC_CONFIG);
  const template = Template.fromStack(stacks.network);

  test('creates no VPC or subnets and uses the configured ids without a look-up', () => {
    // GIVEN an imported VPC with two subnets and their route tables / THEN
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    expect(stacks.network.vpc.vpcId).toBe('vpc-0123456789abcdef0');
    expect(stacks.network.vpc.isolatedSubnets.map((s) => s.subnetId)).toEqual([
      'subnet-0123456789abcdef0',
      'subnet-0123456789abcdef1',
    ]);
  });

  test('adds the S3 gateway endpoint to the given route tables and the interface endpoints to the subnets', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      VpcId: 'vpc-0123456789abcdef0',
      RouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: 'aws.sagemaker.eu-west-1.experiments',
      SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    });
    expect(endpointServices(template, 'Interface')).toEqual([...INTERFACE_SERVICES].sort());
  });

  test('opens the endpoints to the configured VPC CIDR', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.20.0.0/16', FromPort: 443 })],
    });
  });

  test('has zero unacknowledged cdk-nag findings across the four packs', () => {
    expectNoNagFindings(stacks.network);
  });

  test('matches the snapshot', () => {
    expect(snapshotOf(stacks.network)).toMatchSnapshot();
  });
});

describe('NetworkStack, imported VPC options', () => {
  const base = IMPORTED_VPC_CONFIG.vpc;

  test('creates no endpoints at all with createEndpoints: false', () => {
    // GIVEN a VPC that already has its endpoints
    const { template } = networkOnly({ ...base, createEndpoints: false });
    // THEN
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('skips only the S3 gateway endpoint, with a warning, when route tables are not given', () => {
    // GIVEN no privateRouteTableIds
    const withoutRouteTables: Record<string, unknown> = { ...base };
    delete withoutRouteTables.privateRouteTableIds;
    const { stack, template } = networkOnly(withoutRouteTables);
    // THEN interface endpoints exist, the gateway endpoint does not, and synth warns
    expect(endpointServices(template, 'Gateway')).toEqual([]);
    expect(endpointServices(template, 'Interface')).toHaveLength(INTERFACE_SERVICES.length);
    Annotations.fromStack(stack).hasWarning(
      '/Network/Network',
      Match.stringLikeRegexp('vpc.privateRouteTableIds is not set, so no S3 gateway endpoint is created'),
    );
  });
});

describe('NetworkStack, internet egress switch (vpc.natGateways)', () => {
  test('natGateways: 1 routes the private subnets through one NAT gateway in a /28 public subnet', () => {
    // GIVEN a new VPC with one NAT gateway
    const { stack, template } = networkOnly({ mode: 'create', natGateways: 1 });
    // THEN there is an internet gateway, one NAT gateway, and every private subnet has a default route to it
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    expect(stack.vpc.privateSubnets).toHaveLength(2);
    expect(stack.vpc.isolatedSubnets).toHaveLength(0);
    expect(stack.subnets.subnets).toEqual(stack.vpc.privateSubnets);
    const natRoutes = Object.values(template.findResources('AWS::EC2::Route')).filter(
      (r) => r.Properties.DestinationCidrBlock === '0.0.0.0/0' && r.Properties.NatGatewayId,
    );
    expect(natRoutes).toHaveLength(2);
    // AND the public subnets are /28s that assign no public IPs (only the NAT's Elastic IP is public)
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet'));
    const publicSubnets = subnets.filter((s) => JSON.stringify(s.Properties.Tags).includes('"Public"'));
    expect(publicSubnets.map((s) => String(s.Properties.CidrBlock).split('/')[1])).toEqual(['28', '28']);
    for (const subnet of subnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    // AND the compliance packs (each finding acknowledged with its reason) and cfn-lint are clean
    expectNoNagFindings(stack);
    expectCfnLintClean(cfnLintTemplates({ Network: template.toJSON() }));
  });

  test('natGateways: 0 (the default) has no internet gateway or NAT, so jobs must read staged models', () => {
    const { stack, template } = networkOnly({ mode: 'create' });
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    expect(stack.subnets.subnets).toEqual(stack.vpc.isolatedSubnets);
  });
});
