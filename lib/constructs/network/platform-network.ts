import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { VpcConfig } from '../../config/app-config';
import { acknowledgeGrantPolicy, acknowledgeRegulatedRule } from '../compliance';
import { interfaceEndpointStatement, s3EndpointStatements } from './endpoint-policies';

/** The interface endpoints a VPC-only Studio domain, training jobs and MLflow need without NAT. */
export const PLATFORM_INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  SageMakerApi: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
  SageMakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  SageMakerStudio: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_STUDIO,
  SageMakerNotebook: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_NOTEBOOK,
  // SageMaker managed MLflow (tracking server and MLflow App) is reached through `experiments`.
  SageMakerExperiments: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_EXPERIMENTS,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  Monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
};

/** Properties of a {@link PlatformNetwork}. */
export interface PlatformNetworkProps {
  /** Create a VPC, or import one by id (no look-up at synth: every attribute comes from config). */
  readonly vpc: VpcConfig;
  /**
   * Key encrypting the flow-log log group.
   * @default - the log group uses CloudWatch Logs' default encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long VPC flow logs are kept (new VPCs only; an imported VPC's owner manages its flow logs).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * The platform's network: private isolated subnets in at least two AZs (no NAT, no internet gateway, unless
 * `vpc.natGateways` asks for internet egress: then private subnets routed through NAT gateways in /28 public
 * subnets), the
 * S3 gateway endpoint and the interface endpoints Studio, training and MLflow need, and three security
 * groups with only the rules they require:
 * - Studio: NFS 2049 and TCP 8192-65535 within the group (EFS home and JupyterServer/KernelGateway), 443 out.
 * - training: all traffic within the group (multi-node NCCL/EFA), 443 out.
 * - endpoints: 443 in from the VPC's CIDR.
 *
 * Egress on 443 is to 0.0.0.0/0 because without NAT the subnets have no route to the internet: the only
 * destinations are the interface endpoints and S3 through the gateway endpoint, whose prefix list cannot be
 * named without a synth-time look-up. With NAT, 443 also reaches the internet (the Hugging Face Hub), which is
 * what the switch is for.
 */
export class PlatformNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** The private subnets every platform resource is placed in. */
  public readonly subnets: ec2.SubnetSelection;
  public readonly studioSecurityGroup: ec2.SecurityGroup;
  public readonly trainingSecurityGroup: ec2.SecurityGroup;
  public readonly endpointsSecurityGroup: ec2.SecurityGroup;
  /** Interface endpoints by name (empty when an imported VPC keeps its own). */
  public readonly interfaceEndpoints: Readonly<Record<string, ec2.InterfaceVpcEndpoint>>;

  constructor(scope: Construct, id: string, props: PlatformNetworkProps) {
    super(scope, id);
    const config = props.vpc;

    // the CIDR as a literal (from config), so security-group rules stay reviewable by rule checkers.
    const vpcCidr = config.mode === 'create' ? config.cidr : config.vpcCidr;
    let createEndpoints = true;
    let s3GatewayRouteTables = true;
    const egress = config.mode === 'create' && config.natGateways > 0;
    if (config.mode === 'create') {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(config.cidr),
        maxAzs: config.maxAzs,
        natGateways: config.natGateways,
        subnetConfiguration: egress
          ? [
              { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
              // the NAT gateways' subnets: an Elastic IP each, nothing else is placed there.
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 28, mapPublicIpOnLaunch: false },
            ]
          : [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
        restrictDefaultSecurityGroup: true,
      });
      const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
        encryptionKey: props.encryptionKey,
        retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
      const flowLog = vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      if (flowLog.iamRole) acknowledgeGrantPolicy(flowLog.iamRole, 'VPC flow-log delivery to its one log group');
      for (const subnet of vpc.publicSubnets) {
        acknowledgeRegulatedRule(
          subnet,
          'VPCNoUnrestrictedRouteToIGW',
          'Only with vpc.natGateways set (off by default): the public subnets hold nothing but the NAT gateways, ' +
            'whose default route to the internet gateway is what gives the private subnets egress; no instance ' +
            'gets a public IP and nothing inbound is routed.',
        );
      }
      this.vpc = vpc;
    } else {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: config.vpcId,
        vpcCidrBlock: config.vpcCidr,
        availabilityZones: config.availabilityZones,
        isolatedSubnetIds: config.privateSubnetIds,
        isolatedSubnetRouteTableIds: config.privateRouteTableIds,
      });
      createEndpoints = config.createEndpoints;
      s3GatewayRouteTables = config.privateRouteTableIds !== undefined;
    }
    this.subnets = { subnets: egress ? this.vpc.privateSubnets : this.vpc.isolatedSubnets };

    this.endpointsSecurityGroup = new ec2.SecurityGroup(this, 'EndpointsSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    this.endpointsSecurityGroup.addIngressRule(ec2.Peer.ipv4(vpcCidr), ec2.Port.tcp(443), 'HTTPS from the VPC');

    this.studioSecurityGroup = new ec2.SecurityGroup(this, 'StudioSecurityGroup', {
      vpc: this.vpc,
      description: 'SageMaker Studio apps: NFS to the domain EFS, JupyterServer-KernelGateway traffic, HTTPS out',
      allowAllOutbound: false,
    });
    const studio = this.studioSecurityGroup;
    studio.addIngressRule(studio, ec2.Port.tcp(2049), 'NFS to the domain home EFS');
    studio.addEgressRule(studio, ec2.Port.tcp(2049), 'NFS to the domain home EFS');
    studio.addIngressRule(studio, ec2.Port.tcpRange(8192, 65535), 'Studio apps within the domain');
    studio.addEgressRule(studio, ec2.Port.tcpRange(8192, 65535), 'Studio apps within the domain');
    // without NAT, 443 reaches only the interface endpoints and S3 via the gateway endpoint.
    studio.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to VPC endpoints and the S3 gateway');

    this.trainingSecurityGroup = new ec2.SecurityGroup(this, 'TrainingSecurityGroup', {
      vpc: this.vpc,
      description: 'SageMaker training jobs: all traffic between instances of a job (NCCL/EFA), HTTPS out',
      allowAllOutbound: false,
    });
    const training = this.trainingSecurityGroup;
    training.addIngressRule(
      training,
      ec2.Port.allTraffic(),
      'multi-node training (EFA needs all traffic within the group)',
    );
    training.addEgressRule(
      training,
      ec2.Port.allTraffic(),
      'multi-node training (EFA needs all traffic within the group)',
    );
    acknowledgeRegulatedRule(
      training,
      'EC2RestrictedCommonPorts',
      'The only all-traffic ingress is self-referencing: instances of the same training job talk NCCL over EFA, which needs all protocols within the group. No CIDR can reach the group.',
    );
    // without NAT, 443 reaches only the interface endpoints and S3 via the gateway endpoint.
    training.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to VPC endpoints and the S3 gateway');

    const endpoints: Record<string, ec2.InterfaceVpcEndpoint> = {};
    if (createEndpoints) {
      if (s3GatewayRouteTables) {
        const s3Endpoint = new ec2.GatewayVpcEndpoint(this, 'S3Endpoint', {
          vpc: this.vpc,
          service: ec2.GatewayVpcEndpointAwsService.S3,
          subnets: [this.subnets],
        });
        for (const statement of s3EndpointStatements(cdk.Stack.of(this))) s3Endpoint.addToPolicy(statement);
      } else {
        cdk.Annotations.of(this).addWarningV2(
          'gpt-oss:no-s3-gateway-endpoint',
          'vpc.privateRouteTableIds is not set, so no S3 gateway endpoint is created: the imported VPC must already route S3 (gateway endpoint or NAT) from its private subnets',
        );
      }
      for (const [name, service] of Object.entries(PLATFORM_INTERFACE_ENDPOINTS)) {
        endpoints[name] = new ec2.InterfaceVpcEndpoint(this, name, {
          vpc: this.vpc,
          service,
          subnets: this.subnets,
          securityGroups: [this.endpointsSecurityGroup],
          privateDnsEnabled: true,
          open: false,
        });
        endpoints[name].addToPolicy(interfaceEndpointStatement(cdk.Stack.of(this), name));
      }
    }
    this.interfaceEndpoints = endpoints;
  }
}
