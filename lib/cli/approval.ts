import { UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
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

/** Marks a history whose oldest notes no longer fit in {@link MAX_DESCRIPTION}. */
const TRUNCATED = '[earlier notes truncated]';

/**
 * The package's approval history: every earlier note, then one line for this decision naming the caller's
 * ARN (STS GetCallerIdentity: the identity SageMaker's CloudTrail entry shows too). When the history no
 * longer fits SageMaker's limit the oldest lines go first; the newest note is always kept.
 */
export function appendApprovalNote(previous: string | undefined, entry: string): string {
  const newest = entry.slice(0, MAX_DESCRIPTION);
  const lines = (previous ?? '').split('\n').filter((line) => line.trim() !== '');
  const fits = (candidate: string[]) => [...candidate, newest].join('\n').length <= MAX_DESCRIPTION;
  if (fits(lines)) return [...lines, newest].join('\n');
  let kept = lines;
  while (kept.length > 0 && !fits([TRUNCATED, ...kept])) kept = kept.slice(1);
  return fits([TRUNCATED, ...kept]) ? [TRUNCATED, ...kept, newest].join('\n') : newest;
}

/** The caller's ARN (an assumed-role session names the role and the session, e.g. the person's SSO name). */
async function callerArn(ctx: CliContext): Promise<string> {
  const identity = await awsCall(
    { action: 'sts:GetCallerIdentity', resource: 'the current credentials', endpointUrl: ctx.endpointUrl },
    () => ctx.aws.sts.send(new GetCallerIdentityCommand({})),
  );
  return identity.Arn ?? 'an unknown identity';
}

/**
 * Sets a model package's approval status, appending a note naming the caller to the package's approval
 * history (earlier notes are kept), then reads the package
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
  const who = await callerArn(ctx);
  const note = message ?? `with the gpt-oss CLI (local user ${ctx.userName})`;
  const description = appendApprovalNote(before.ApprovalDescription, `${decision} by ${who}: ${note}`);
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
