import * as cdk from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { denyApproval } from '../../iam/approval';
import {
  STUDIO_DESCRIBE_ACTIONS,
  STUDIO_LIST_ACTIONS,
  STUDIO_LOG_ACTIONS,
  STUDIO_APP_ACTIONS,
  STUDIO_SPACE_ACTIONS,
  STUDIO_SPACE_OWNER_ACTIONS,
} from '../../iam/perms';
import { acknowledgeGrantPolicy, acknowledgeWildcardResources } from '../compliance';
import { StudioTeardown } from './studio-teardown';

/** Properties of a {@link StudioDomain}. */
export interface StudioDomainProps {
  /** Domain name (create-only). */
  readonly domainName: string;
  readonly vpc: ec2.IVpc;
  /** Private subnets of the domain (VpcOnly: no public subnets). */
  readonly subnets: ec2.SubnetSelection;
  /** Security group of the Studio apps (NFS 2049 and 8192-65535 within the group, HTTPS out). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Customer-managed key for the domain's EFS home volume and the spaces' EBS volumes (create-only). */
  readonly encryptionKey: kms.IKey;
  /**
   * User profile names to create. Profiles get no tags: UserProfile `Tags` is create-only.
   * @default - none
   */
  readonly userNames?: readonly string[];
  /**
   * Idle time after which JupyterLab and Code Editor apps are shut down; users may lower it down to 60.
   * @default 60
   */
  readonly idleTimeoutMinutes?: number;
  /**
   * Default EBS volume size of a new space, in GB.
   * @default 5
   */
  readonly defaultEbsSizeGb?: number;
  /**
   * Largest EBS volume a user may give a space, in GB.
   * @default 100
   */
  readonly maximumEbsSizeGb?: number;
}

/**
 * A SageMaker Studio domain (IAM auth, VpcOnly, KMS) with its user profiles, a least-privilege execution
 * role shared by users and spaces (only this domain's spaces and apps; grant data and pipelines on top),
 * JupyterLab/Code Editor idle shutdown, EBS defaults and a teardown that deletes apps and spaces before the
 * domain on stack deletion.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html
 */
export class StudioDomain extends Construct {
  public readonly domain: sagemaker.CfnDomain;
  public readonly domainId: string;
  public readonly domainArn: string;
  /** The execution role of every user profile and space. */
  public readonly executionRole: iam.Role;
  public readonly userProfiles: readonly sagemaker.CfnUserProfile[];

  constructor(scope: Construct, id: string, props: StudioDomainProps) {
    super(scope, id);
    const idle = props.idleTimeoutMinutes ?? 60;
    const idleSettings = {
      appLifecycleManagement: {
        idleSettings: {
          lifecycleManagement: 'ENABLED',
          idleTimeoutInMinutes: idle,
          minIdleTimeoutInMinutes: 60,
          maxIdleTimeoutInMinutes: idle,
        },
      },
    };
    const ebs = {
      defaultEbsStorageSettings: {
        defaultEbsVolumeSizeInGb: props.defaultEbsSizeGb ?? 5,
        maximumEbsVolumeSizeInGb: props.maximumEbsSizeGb ?? 100,
      },
    };

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Studio users and spaces of domain ${props.domainName}`,
    });

    this.domain = new sagemaker.CfnDomain(this, 'Resource', {
      domainName: props.domainName,
      authMode: 'IAM',
      appNetworkAccessType: 'VpcOnly',
      vpcId: props.vpc.vpcId,
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
      kmsKeyId: props.encryptionKey.keyArn,
      tagPropagation: 'ENABLED',
      defaultUserSettings: {
        executionRole: this.executionRole.roleArn,
        securityGroups: [props.securityGroup.securityGroupId],
        studioWebPortal: 'ENABLED',
        defaultLandingUri: 'studio::',
        jupyterLabAppSettings: idleSettings,
        codeEditorAppSettings: idleSettings,
        spaceStorageSettings: ebs,
      },
      defaultSpaceSettings: {
        executionRole: this.executionRole.roleArn,
        securityGroups: [props.securityGroup.securityGroupId],
        jupyterLabAppSettings: idleSettings,
        spaceStorageSettings: ebs,
      },
    });
    this.domainId = this.domain.attrDomainId;
    this.domainArn = this.domain.attrDomainArn;

    const users = new Construct(this, 'Users');
    this.userProfiles = (props.userNames ?? []).map(
      (name) => new sagemaker.CfnUserProfile(users, name, { domainId: this.domainId, userProfileName: name }),
    );

    this.grantDomainUse(props.encryptionKey);
    new StudioTeardown(this, 'Teardown', {
      domain: this.domain,
      dependsOn: [...this.userProfiles],
      encryptionKey: props.encryptionKey,
    });
  }

  /** What every user needs inside this domain: its own spaces and apps, logs, and the volumes' key. */
  private grantDomainUse(key: kms.IKey): void {
    const stack = cdk.Stack.of(this);
    const arn = (resource: string, resourceName: string): string =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName });
    const role = this.executionRole;
    const profiles = arn('user-profile', `${this.domainId}/*`);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: STUDIO_DESCRIBE_ACTIONS,
        resources: [arn('domain', this.domainId), profiles],
      }),
    );
    acknowledgeWildcardResources(
      role,
      [profiles],
      'Users see the profiles of their own domain only; profile names come from config and may grow.',
    );
    // spaces and apps of this domain only; their names are chosen by users in Studio.
    const spacesAndApps = [arn('space', `${this.domainId}/*`), arn('app', `${this.domainId}/*`)];
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: STUDIO_SPACE_ACTIONS, resources: spacesAndApps }));
    // Every user shares this execution role, so ownership is decided per request: Studio sets the policy
    // variables ${sagemaker:DomainId} and ${sagemaker:UserProfileName} to the signed-in profile, and the
    // space's owner is the condition key sagemaker:OwnerUserProfileArn (docs/facts/aws.md §6).
    const ownProfile = arn('user-profile', '${sagemaker:DomainId}/${sagemaker:UserProfileName}');
    const spaces = arn('space', `${this.domainId}/*`);
    const apps = arn('app', `${this.domainId}/*`);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnSpacesOnly',
        actions: STUDIO_SPACE_OWNER_ACTIONS,
        resources: [spaces],
        conditions: { ArnLike: { 'sagemaker:OwnerUserProfileArn': ownProfile } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AppsOfOwnPrivateSpaces',
        actions: STUDIO_APP_ACTIONS,
        resources: [apps],
        conditions: {
          ArnLike: { 'sagemaker:OwnerUserProfileArn': ownProfile },
          StringEquals: { 'sagemaker:SpaceSharingType': 'Private' },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AppsOfSharedSpaces',
        actions: STUDIO_APP_ACTIONS,
        resources: [apps],
        conditions: { StringEquals: { 'sagemaker:SpaceSharingType': 'Shared' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AppsWithoutSpace',
        actions: STUDIO_APP_ACTIONS,
        resources: [apps],
        // apps of the profile itself (no space, hence no owner key), as in the SageMaker guide's policy.
        conditions: { Null: { 'sagemaker:OwnerUserProfileArn': 'true', 'sagemaker:SpaceSharingType': 'true' } },
      }),
    );
    acknowledgeWildcardResources(
      role,
      spacesAndApps,
      'Users create, run and delete their own spaces and apps in this one domain; space and app names are chosen in Studio at run time.',
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: STUDIO_LIST_ACTIONS,
        // these list actions support no resource-level permissions; Studio filters by domain.
        resources: ['*'],
      }),
    );
    acknowledgeWildcardResources(
      role,
      ['*'],
      'Only list actions (sagemaker:List*, sagemaker-mlflow:AccessUI) that support no resource-level permissions are granted on "*"; every other action names its resource.',
    );
    const studioLogs = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws/sagemaker/studio:*',
      arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: STUDIO_LOG_ACTIONS, resources: [studioLogs] }));
    acknowledgeWildcardResources(
      role,
      [studioLogs],
      'Log streams of Studio apps in the Studio log group; stream names are created per app at run time.',
    );
    // the EFS home and EBS volumes are encrypted with the key; SageMaker creates grants on the user's behalf.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:CreateGrant'],
        resources: [key.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:DescribeKey'], resources: [key.keyArn] }));
    denyApproval(role);
    acknowledgeGrantPolicy(role, 'Studio users: their spaces and apps, datasets, pipelines and MLflow');
  }
}
