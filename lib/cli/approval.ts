import { UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { recipeNameFromResource } from '../config/naming';
import type { CliContext } from './context';
import { awsCall } from './errors';
import { describePackage, packageRef, resolvePackageArn } from './model-packages';

export type ApprovalDecision = 'Approved' | 'Rejected';

export interface ApprovalResult {
  readonly arn: string;
  readonly ref: string;
  readonly previous: string;
  readonly status: string;
  readonly description: string;
}

/** SageMaker's limit on ApprovalDescription. */
const MAX_DESCRIPTION = 1024;

/**
 * Sets a model package's approval status with a description for the audit trail, then reads the package
 * back so the printed status is what SageMaker holds. Approving starts the deploy stage (EventBridge →
 * Step Functions); rejecting keeps whatever endpoint is serving as it is.
 */
export async function setApproval(
  ctx: CliContext,
  ref: string,
  decision: ApprovalDecision,
  message: string | undefined,
): Promise<ApprovalResult> {
  const arn = await resolvePackageArn(ctx, ref);
  const before = await describePackage(ctx, arn);
  const previous = before.ModelApprovalStatus ?? 'Unknown';
  const description = (message ?? `${decision} by ${ctx.userName} with the gpt-oss CLI`).slice(0, MAX_DESCRIPTION);
  await awsCall(
    {
      action: 'sagemaker:UpdateModelPackage',
      resource: `model package ${packageRef(arn)}`,
      endpointUrl: ctx.endpointUrl,
    },
    () =>
      ctx.aws.sagemaker.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: arn,
          ModelApprovalStatus: decision,
          ApprovalDescription: description,
        }),
      ),
  );
  const after = await describePackage(ctx, arn);
  const status = after.ModelApprovalStatus ?? 'Unknown';
  const result = { arn, ref: packageRef(arn), previous, status, description };
  ctx.out.line(`${result.ref}: ${previous} -> ${status}`);
  ctx.out.line(`description ${description}`);
  if (previous === decision) ctx.out.warn(`${result.ref} was already ${decision}; nothing else changes`);
  else if (decision === 'Approved') {
    const group = result.ref.split('/')[0];
    const recipe = recipeNameFromResource(ctx.naming, group) ?? group;
    ctx.out.line(`next        the deploy stage starts now; follow it with: npm run cli -- watch ${recipe}`);
  } else {
    ctx.out.line('next        this version will not be deployed; an endpoint already serving keeps serving');
  }
  return result;
}
