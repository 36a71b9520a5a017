import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Separation of duties for model approval: only the platform's approver role may set a model package's
 * approval status. Everyone else who works with models (Studio users, training and pipeline roles, MLflow's
 * registration role) carries an explicit Deny, so a broader policy attached later cannot give it back.
 */

/** Set a model package's approval status (the only action that approves or rejects). */
export const MODEL_APPROVAL_ACTIONS = ['sagemaker:UpdateModelPackage'];

/** What the approver reads to decide: the package, its group, and the group's versions. */
export const MODEL_APPROVAL_READ_ACTIONS = ['sagemaker:DescribeModelPackage', 'sagemaker:DescribeModelPackageGroup'];

/** Listing the versions supports no resource-level permissions. */
export const MODEL_APPROVAL_LIST_ACTIONS = ['sagemaker:ListModelPackages', 'sagemaker:ListModelPackageGroups'];

/**
 * The Deny statement: no approval status change on any model package (UpdateModelPackage with a
 * `sagemaker:ModelApprovalStatus` in the request), and no package created as Approved.
 */
export function denyApprovalStatements(): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'OnlyTheApproverRoleApproves',
      effect: iam.Effect.DENY,
      actions: MODEL_APPROVAL_ACTIONS,
      resources: ['*'],
      conditions: { Null: { 'sagemaker:ModelApprovalStatus': 'false' } },
    }),
    new iam.PolicyStatement({
      sid: 'NoPackageCreatedApproved',
      effect: iam.Effect.DENY,
      actions: ['sagemaker:CreateModelPackage'],
      resources: ['*'],
      conditions: { StringEquals: { 'sagemaker:ModelApprovalStatus': 'Approved' } },
    }),
  ];
}

/** Adds the Deny statements to `role`. */
export function denyApproval(role: iam.IRole): void {
  for (const statement of denyApprovalStatements()) role.addToPrincipalPolicy(statement);
}
