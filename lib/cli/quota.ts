import { paginateListServiceQuotas, type ServiceQuota } from '@aws-sdk/client-service-quotas';
import { PIPELINE_PARAMETERS } from '../pipeline/parameters';
import type { CliContext } from './context';
import { CliError } from './errors';
import type { RecipePipeline } from './pipelines';

/**
 * `run`'s capacity check: the account's SageMaker quota for the training instance type (Service Quotas,
 * applied per region), compared with the instance count the execution asks for. A quota below the count can
 * never start the job (CreateTrainingJob fails with ResourceLimitExceeded after the pipeline started), so
 * `run` refuses with the command that requests more. Quota names are documented in docs/facts/aws.md.
 */

/** What the execution will ask SageMaker for. */
export interface TrainingCapacity {
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly spot: boolean;
}

/** The Service Quotas name of a training instance type's quota, e.g. "ml.p5.48xlarge for training job usage". */
export function trainingQuotaName(instanceType: string, spot: boolean): string {
  return `${instanceType} for ${spot ? 'spot ' : ''}training job usage`;
}

/** The execution's effective capacity: its overrides over the pipeline's defaults. */
export function effectiveCapacity(
  pipeline: RecipePipeline,
  overrides: readonly { Name: string; Value: string }[],
): TrainingCapacity | undefined {
  const value = (name: string): string | undefined =>
    overrides.find((o) => o.Name === name)?.Value ??
    pipeline.parameters.find((p) => p.Name === name)?.DefaultValue?.toString();
  const instanceType = value(PIPELINE_PARAMETERS.instanceType);
  if (instanceType === undefined) return undefined;
  return {
    instanceType,
    instanceCount: Number(value(PIPELINE_PARAMETERS.instanceCount) ?? '1'),
    spot: value(PIPELINE_PARAMETERS.useSpot) === 'true',
  };
}

/** The verdict on one quota: undefined when it allows the count. */
export function quotaShortfall(
  capacity: TrainingCapacity,
  quota: ServiceQuota | undefined,
  region: string,
): string | undefined {
  const name = trainingQuotaName(capacity.instanceType, capacity.spot);
  if (quota === undefined) {
    return `Service Quotas lists no quota "${name}" in ${region}: SageMaker does not offer ${capacity.instanceType} for ${capacity.spot ? 'spot ' : ''}training there; pick another instance type or region`;
  }
  const limit = quota.Value ?? 0;
  if (limit >= capacity.instanceCount) return undefined;
  const request =
    `aws service-quotas request-service-quota-increase --region ${region} --service-code sagemaker ` +
    `--quota-code ${quota.QuotaCode ?? '<code>'} --desired-value ${capacity.instanceCount}`;
  return (
    `the account's quota "${name}" in ${region} is ${limit}, but this run needs ${capacity.instanceCount} ` +
    `instance(s); nothing was started. Request more with: ${request} (or in the Service Quotas console: ` +
    `AWS services, Amazon SageMaker, "${name}"), or run with a smaller --instance-count or another --instance-type`
  );
}

/**
 * Refuses a run whose instance count exceeds the account's quota for its instance type; warns (and lets the
 * run go ahead) when the quota cannot be read, e.g. without `servicequotas:ListServiceQuotas` permission.
 */
export async function checkTrainingQuota(
  ctx: CliContext,
  pipeline: RecipePipeline,
  overrides: readonly { Name: string; Value: string }[],
): Promise<void> {
  const capacity = effectiveCapacity(pipeline, overrides);
  if (capacity === undefined) return;
  const name = trainingQuotaName(capacity.instanceType, capacity.spot);
  let quota: ServiceQuota | undefined;
  try {
    for await (const page of paginateListServiceQuotas({ client: ctx.aws.quotas }, { ServiceCode: 'sagemaker' })) {
      quota = page.Quotas?.find((q) => q.QuotaName === name);
      if (quota) break;
    }
  } catch (e) {
    const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    ctx.out.warn(`could not read the quota "${name}" (${reason}); the run goes ahead unchecked`);
    return;
  }
  const shortfall = quotaShortfall(capacity, quota, await ctx.aws.region());
  if (shortfall !== undefined) throw new CliError(shortfall);
}
