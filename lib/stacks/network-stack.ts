import * as cdk from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import { PlatformNetwork } from '../constructs/network/platform-network';

export interface NetworkStackProps extends cdk.StackProps {
  readonly config: AppConfig;
  /** The platform key (data stack), encrypting the VPC flow-log group. */
  readonly key: kms.IKey;
}

/**
 * The VPC (new, or imported by id from config with no look-up), its endpoints and security groups. Training
 * jobs and the Studio domain are placed in {@link subnets} with the matching security group.
 */
export class NetworkStack extends cdk.Stack {
  public readonly vpc: ec2.IVpc;
  /** Private isolated subnets in two or more AZs. */
  public readonly subnets: ec2.SubnetSelection;
  /** For SageMaker training jobs: all traffic within the group (multi-node), HTTPS out. */
  public readonly trainingSecurityGroup: ec2.ISecurityGroup;
  /** For Studio apps: NFS and 8192-65535 within the group, HTTPS out. */
  public readonly studioSecurityGroup: ec2.ISecurityGroup;
  /** On the interface endpoints: HTTPS in from the VPC. */
  public readonly endpointsSecurityGroup: ec2.ISecurityGroup;

  /** AZs a new VPC spans; undefined for an imported VPC (its AZs come from config). */
  private readonly azCount?: number;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    this.azCount = props.config.vpc.mode === 'create' ? props.config.vpc.maxAzs : undefined;
    const network = new PlatformNetwork(this, 'Network', { vpc: props.config.vpc, encryptionKey: props.key });
    this.vpc = network.vpc;
    this.subnets = network.subnets;
    this.trainingSecurityGroup = network.trainingSecurityGroup;
    this.studioSecurityGroup = network.studioSecurityGroup;
    this.endpointsSecurityGroup = network.endpointsSecurityGroup;
  }

  /**
   * With account and region set, CDK would look the region's AZs up in AWS at synth (a context look-up that
   * needs credentials); a new VPC takes the first `maxAzs` AZs from CloudFormation at deploy time instead
   * (`Fn::GetAZs`), as it does for an environment-agnostic stack. Imported VPCs name their AZs in config.
   */
  public override get availabilityZones(): string[] {
    if (this.azCount === undefined || cdk.Token.isUnresolved(this.region) || cdk.Token.isUnresolved(this.account)) {
      return super.availabilityZones;
    }
    return Array.from({ length: this.azCount }, (_, i) => cdk.Fn.select(i, cdk.Fn.getAzs()));
  }
}
