import { Command } from 'commander';
import { recipeNameFromResource } from '../../config/naming';
import { addAwsOptions, parsePositiveInt, runCommand } from '../command';
import type { CliContext, CliEnvironment } from '../context';
import {
  assertGroup,
  describePackage,
  formatMetric,
  listGroups,
  listPackages,
  packageMetrics,
  packageRef,
} from '../model-packages';

export interface ModelsOptions {
  /** Newest versions shown per recipe. @default 10 */
  readonly limit?: number;
  readonly json?: boolean;
}

export interface ModelRow {
  readonly recipe: string;
  readonly group: string;
  readonly version?: number;
  readonly ref: string;
  readonly arn: string;
  readonly approval: string;
  readonly status: string;
  readonly created?: string;
  readonly metrics: Record<string, number>;
  readonly metricsSource?: string;
  readonly metadata: Record<string, string>;
  readonly approvalDescription?: string;
}

/** `models [RECIPE]`: the model packages of one recipe, or of every recipe, with their metrics. */
export async function listModels(
  ctx: CliContext,
  recipe: string | undefined,
  opts: ModelsOptions = {},
): Promise<ModelRow[]> {
  const groups = recipe ? [await assertGroup(ctx, recipe)] : await listGroups(ctx);
  const rows: ModelRow[] = [];
  for (const group of groups) {
    for (const summary of await listPackages(ctx, group, opts.limit ?? 10)) {
      if (!summary.ModelPackageArn) continue;
      const pkg = await describePackage(ctx, summary.ModelPackageArn);
      const { metrics, source } = await packageMetrics(ctx, pkg);
      rows.push({
        recipe: recipeNameFromResource(ctx.naming, group) ?? group,
        group,
        version: pkg.ModelPackageVersion ?? summary.ModelPackageVersion,
        ref: packageRef(summary.ModelPackageArn),
        arn: summary.ModelPackageArn,
        approval: pkg.ModelApprovalStatus ?? summary.ModelApprovalStatus ?? 'Unknown',
        status: pkg.ModelPackageStatus ?? summary.ModelPackageStatus ?? 'Unknown',
        created: (pkg.CreationTime ?? summary.CreationTime)?.toISOString(),
        metrics,
        metricsSource: source,
        metadata: pkg.CustomerMetadataProperties ?? {},
        approvalDescription: pkg.ApprovalDescription,
      });
    }
  }
  if (opts.json) {
    ctx.out.json(rows);
    return rows;
  }
  if (rows.length === 0) {
    ctx.out.line(
      recipe
        ? `recipe "${recipe}" has no model packages yet; they are registered when a pipeline run succeeds`
        : 'no model packages yet; they are registered when a pipeline run succeeds',
    );
    return rows;
  }
  ctx.out.table(
    ['PACKAGE', 'APPROVAL', 'CREATED', 'METRICS'],
    rows.map((r) => [
      r.ref,
      r.approval,
      r.created ? `${r.created.slice(0, 16).replace('T', ' ')}Z` : '-',
      Object.entries(r.metrics)
        .map(([k, v]) => `${k}=${formatMetric(v)}`)
        .join(' ') || '-',
    ]),
  );
  ctx.out.info('approve with: npm run cli -- approve <PACKAGE> -m "why"');
  return rows;
}

export function modelsCommand(environment: CliEnvironment): Command {
  const cmd = new Command('models')
    .summary('list model packages per recipe with their metrics and approval status')
    .argument('[recipe]', 'recipe name (default: every recipe)')
    .option('--limit <n>', 'newest versions per recipe', parsePositiveInt, 10)
    .option('--json', 'print full details as JSON');
  addAwsOptions(cmd);
  return cmd.action(async (recipe: string | undefined, opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      await listModels(ctx, recipe, { limit: opts.limit as number, json: opts.json === true });
    });
  });
}
