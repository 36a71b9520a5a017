import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  DescribeModelPackageGroupCommand,
  ListModelPackageGroupsCommand,
  type ListModelPackageGroupsCommandOutput,
  ListModelPackagesCommand,
  type ListModelPackagesCommandOutput,
  type ModelPackageSummary,
} from '@aws-sdk/client-sagemaker';
import { modelPackageGroupName, recipeNameFromResource, resourcePrefix } from '../config/naming';
import type { CliContext } from './context';
import { awsCall, CliError } from './errors';
import { parseS3Uri } from './s3';

const PACKAGE_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/([^/]+)\/(\d+)$/;
/** Customer-metadata keys that hold metrics (the register stage writes eval/train metrics there). */
const METRIC_KEY = /loss|acc|perplex|score|metric|bleu|rouge|f1|^eval_|^train_|tokens_per/i;

/** The model package groups of this deployment (one per recipe). */
export async function listGroups(ctx: CliContext): Promise<string[]> {
  const prefix = `${resourcePrefix(ctx.naming)}-`;
  const groups: string[] = [];
  let token: string | undefined;
  do {
    const page: ListModelPackageGroupsCommandOutput = await awsCall(
      { action: 'sagemaker:ListModelPackageGroups', endpointUrl: ctx.endpointUrl },
      () =>
        ctx.aws.sagemaker.send(
          new ListModelPackageGroupsCommand({ NameContains: prefix, NextToken: token, MaxResults: 100 }),
        ),
    );
    for (const g of page.ModelPackageGroupSummaryList ?? []) {
      if (g.ModelPackageGroupName?.startsWith(prefix)) groups.push(g.ModelPackageGroupName);
    }
    token = page.NextToken;
  } while (token);
  return groups.sort();
}

/** The group for a recipe name, a group name, or a model package ARN. */
export function groupNameFor(ctx: CliContext, recipeOrGroup: string): string {
  const prefix = `${resourcePrefix(ctx.naming)}-`;
  return recipeOrGroup.toLowerCase().startsWith(prefix)
    ? recipeOrGroup.toLowerCase()
    : modelPackageGroupName(ctx.naming, recipeOrGroup);
}

async function unknownGroupMessage(ctx: CliContext, recipeOrGroup: string, group: string): Promise<string> {
  let known: string;
  try {
    const groups = await listGroups(ctx);
    known = groups.length > 0 ? groups.map((g) => recipeNameFromResource(ctx.naming, g) ?? g).join(', ') : 'none';
  } catch (e) {
    known = `unknown (${(e as Error).message})`;
  }
  return (
    `unknown recipe "${recipeOrGroup}": there is no model package group "${group}"; ` +
    `recipes with a model registry: ${known}`
  );
}

/** Fails with the list of known recipes when the group does not exist. */
export async function assertGroup(ctx: CliContext, recipeOrGroup: string): Promise<string> {
  const group = groupNameFor(ctx, recipeOrGroup);
  await awsCall(
    {
      action: 'sagemaker:DescribeModelPackageGroup',
      resource: `model package group ${group}`,
      endpointUrl: ctx.endpointUrl,
      onNotFound: () => unknownGroupMessage(ctx, recipeOrGroup, group),
    },
    () => ctx.aws.sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: group })),
  );
  return group;
}

/** Versioned packages of a group, newest first. */
export async function listPackages(ctx: CliContext, group: string, limit = 1000): Promise<ModelPackageSummary[]> {
  const out: ModelPackageSummary[] = [];
  let token: string | undefined;
  do {
    const page: ListModelPackagesCommandOutput = await awsCall(
      { action: 'sagemaker:ListModelPackages', resource: `model package group ${group}`, endpointUrl: ctx.endpointUrl },
      () =>
        ctx.aws.sagemaker.send(
          new ListModelPackagesCommand({
            ModelPackageGroupName: group,
            SortBy: 'CreationTime',
            SortOrder: 'Descending',
            MaxResults: Math.min(100, limit),
            NextToken: token,
          }),
        ),
    );
    out.push(...(page.ModelPackageSummaryList ?? []));
    token = page.NextToken;
  } while (token && out.length < limit);
  return out.slice(0, limit);
}

export async function describePackage(ctx: CliContext, arn: string): Promise<DescribeModelPackageCommandOutput> {
  return awsCall(
    { action: 'sagemaker:DescribeModelPackage', resource: `model package ${arn}`, endpointUrl: ctx.endpointUrl },
    () => ctx.aws.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn })),
  );
}

/**
 * Resolves `arn:...:model-package/<group>/<version>`, `<recipe>/<version>` or `<group>/<version>` to the
 * package ARN, failing with the versions that exist.
 */
export async function resolvePackageArn(ctx: CliContext, ref: string): Promise<string> {
  if (PACKAGE_ARN.test(ref)) return ref;
  const match = /^([^/]+)\/(\d+)$/.exec(ref);
  if (!match) {
    throw new CliError(
      `"${ref}" does not name a model package; write <recipe>/<version> (e.g. my-recipe/3) or the model package ARN ` +
        '(see "npm run cli -- models")',
    );
  }
  const group = await assertGroup(ctx, match[1]);
  const version = Number(match[2]);
  const packages = await listPackages(ctx, group);
  const found = packages.find((p) => p.ModelPackageVersion === version);
  if (!found?.ModelPackageArn) {
    const versions = packages.map((p) => p.ModelPackageVersion).filter((v) => v !== undefined);
    throw new CliError(
      `model package group ${group} has no version ${version}; versions: ${versions.length > 0 ? versions.join(', ') : 'none yet'}`,
    );
  }
  return found.ModelPackageArn;
}

/** `group/version` for display and for `approve`. */
export function packageRef(arn: string): string {
  const m = PACKAGE_ARN.exec(arn);
  return m ? `${m[1]}/${m[2]}` : arn;
}

/** Numeric metrics from the flat `{"eval_loss": 1.2}` or SageMaker's `{"x": {"value": 1.2}}` JSON shapes. */
export function metricsFromJson(doc: unknown, out: Record<string, number> = {}, prefix = ''): Record<string, number> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return out;
  for (const [k, v] of Object.entries(doc)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[`${prefix}${k}`] = v;
    else if (typeof v === 'object' && v !== null && typeof (v as { value?: unknown }).value === 'number') {
      out[`${prefix}${k}`] = (v as { value: number }).value;
    } else if (typeof v === 'object' && v !== null && prefix === '') metricsFromJson(v, out, `${k}.`);
  }
  return out;
}

/** Metrics of a package: numeric customer metadata, else the model-quality statistics JSON in S3. */
export async function packageMetrics(
  ctx: CliContext,
  pkg: DescribeModelPackageCommandOutput,
): Promise<{ metrics: Record<string, number>; source?: string }> {
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(pkg.CustomerMetadataProperties ?? {})) {
    if (METRIC_KEY.test(k) && v.trim() !== '' && Number.isFinite(Number(v))) metrics[k] = Number(v);
  }
  if (Object.keys(metrics).length > 0) return { metrics, source: 'customer metadata' };
  const uri = pkg.ModelMetrics?.ModelQuality?.Statistics?.S3Uri;
  if (!uri) return { metrics };
  try {
    const loc = parseS3Uri(uri);
    const obj = await ctx.aws.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    const text = (await obj.Body?.transformToString()) ?? '';
    return { metrics: metricsFromJson(JSON.parse(text)), source: uri };
  } catch (e) {
    // the metrics file is optional reading: show where it is instead of failing the listing.
    return { metrics, source: `${uri} (not readable: ${(e as Error).name})` };
  }
}

/** `1.234`, `0.0002`, `12345`. */
export function formatMetric(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) < 0.01 ? value.toExponential(2) : String(Number(value.toPrecision(4)));
}
