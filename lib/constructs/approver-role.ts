import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MODEL_APPROVAL_ACTIONS, MODEL_APPROVAL_LIST_ACTIONS, MODEL_APPROVAL_READ_ACTIONS } from '../iam/approval';
import { acknowledgeGrantPolicy, acknowledgeWildcardResources } from './compliance';

export interface ApproverRoleProps {
  /** Role name (people and the CLI profile name it in `role_arn`). */
  readonly roleName: string;
  /** Prefix of this deployment's model package groups (`<prefix>-<recipe>`). */
  readonly groupPrefix: string;
  /**
   * IAM principals (role or user ARNs, or an account root) that may assume the role.
   * @default - this account: any of its principals that an identity policy lets assume the role
   */
  readonly approvers?: readonly string[];
}

/**
 * The one role that may approve or reject this deployment's model packages (the deploy stage starts on an
 * approval). Everyone else is denied approval status changes explicitly (lib/iam/approval.ts), so the
 * person who trains a model is not the one who ships it unless they also hold this role.
 */
export class ApproverRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ApproverRoleProps) {
    super(scope, id);
    const stack = cdk.Stack.of(this);
    const approvers = props.approvers ?? [];
    this.role = new iam.Role(this, 'Resource', {
      roleName: props.roleName,
      assumedBy:
        approvers.length === 0
          ? new iam.AccountRootPrincipal()
          : new iam.CompositePrincipal(...approvers.map((arn) => new iam.ArnPrincipal(arn))),
      description: `Approves or rejects the model packages of ${props.groupPrefix}-* (starts their deployment)`,
      maxSessionDuration: cdk.Duration.hours(1),
    });
    const groups = stack.formatArn({
      service: 'sagemaker',
      resource: 'model-package-group',
      resourceName: `${props.groupPrefix}-*`,
    });
    const packages = stack.formatArn({
      service: 'sagemaker',
      resource: 'model-package',
      resourceName: `${props.groupPrefix}-*/*`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ApproveOrReject',
        actions: MODEL_APPROVAL_ACTIONS,
        resources: [packages],
        conditions: { StringEquals: { 'sagemaker:ModelApprovalStatus': ['Approved', 'Rejected'] } },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: MODEL_APPROVAL_READ_ACTIONS, resources: [packages, groups] }),
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: MODEL_APPROVAL_LIST_ACTIONS, resources: ['*'] }));
    acknowledgeWildcardResources(
      this.role,
      [packages, groups, '*'],
      "Model package versions are created at run time, one group per recipe, all named with this deployment's prefix; listing supports no resource-level permissions.",
    );
    acknowledgeGrantPolicy(this.role, 'model approval');
  }
}
