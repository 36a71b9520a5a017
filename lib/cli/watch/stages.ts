import { DescribeModelPackageCommand, ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ListExecutionsCommand,
  ListStateMachinesCommand,
} from '@aws-sdk/client-sfn';
import { modelPackageGroupName, recipeNameFromResource, resourcePrefix } from '../../config/naming';
import type { CliContext } from '../context';
import { awsCall } from '../errors';

/**
 * What `watch` follows after a successful pipeline run: the executions of our register/deploy state machines that
 * belong to the run, and the model package it registered.
 */
export class RunStages {
  /** Inputs of the state machine executions seen so far (an input never changes). */
  private readonly inputs = new Map<string, string>();

  constructor(
    private readonly ctx: CliContext,
    private readonly executionArn: string,
    private readonly pipelineName: string,
  ) {}

  /** Our state machines (register, deploy): the ones named with this deployment's prefix. */
  private async stateMachines(): Promise<{ arn: string; name: string }[]> {
    const prefix = `${resourcePrefix(this.ctx.naming)}-`;
    const machines: { arn: string; name: string }[] = [];
    let token: string | undefined;
    do {
      const page = await awsCall({ action: 'states:ListStateMachines', endpointUrl: this.ctx.endpointUrl }, () =>
        this.ctx.aws.sfn.send(new ListStateMachinesCommand({ nextToken: token, maxResults: 100 })),
      );
      for (const m of page.stateMachines ?? []) {
        if (m.name?.startsWith(prefix) && m.stateMachineArn) machines.push({ arn: m.stateMachineArn, name: m.name });
      }
      token = page.nextToken;
    } while (token);
    return machines;
  }

  /**
   * Executions of our state machines that belong to this run: their input names the pipeline execution
   * (register) or a model package another matched execution produced or its group (deploy), and they
   * started after the run.
   */
  async relatedExecutions(since: Date, packageArns: Set<string>): Promise<DescribeExecutionCommandOutput[]> {
    const found: DescribeExecutionCommandOutput[] = [];
    const matches = (input: string) =>
      input.includes(this.executionArn) || [...packageArns].some((arn) => input.includes(arn));
    const describe = (executionArn: string) =>
      awsCall({ action: 'states:DescribeExecution', resource: executionArn, endpointUrl: this.ctx.endpointUrl }, () =>
        this.ctx.aws.sfn.send(new DescribeExecutionCommand({ executionArn })),
      );
    for (const machine of await this.stateMachines()) {
      const page = await awsCall(
        { action: 'states:ListExecutions', resource: machine.name, endpointUrl: this.ctx.endpointUrl },
        () => this.ctx.aws.sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.arn, maxResults: 50 })),
      );
      for (const e of page.executions ?? []) {
        if (!e.executionArn || (e.startDate && e.startDate.getTime() < since.getTime() - 60_000)) continue;
        // an execution's input never changes: it is read once, and described again only while it is ours.
        const cached = this.inputs.get(e.executionArn);
        if (cached !== undefined && !matches(cached)) continue;
        const detail = await describe(e.executionArn);
        this.inputs.set(e.executionArn, detail.input ?? '');
        if (!matches(detail.input ?? '')) continue;
        found.push(detail);
        for (const arn of `${detail.output ?? ''}`.match(/arn:aws[a-z-]*:sagemaker:[^"\s]+:model-package\/[^"\s]+/g) ??
          []) {
          packageArns.add(arn);
        }
      }
    }
    return found;
  }

  /** The model package this run registered, if the register stage has made one. */
  async registeredPackage(
    since: Date,
    packageArns: Set<string>,
  ): Promise<{ arn: string; approval: string } | undefined> {
    const recipe = recipeNameFromResource(this.ctx.naming, this.pipelineName);
    if (!recipe) return undefined;
    const group = modelPackageGroupName(this.ctx.naming, recipe);
    const page = await awsCall(
      { action: 'sagemaker:ListModelPackages', resource: group, endpointUrl: this.ctx.endpointUrl },
      () =>
        this.ctx.aws.sagemaker.send(
          new ListModelPackagesCommand({
            ModelPackageGroupName: group,
            SortBy: 'CreationTime',
            SortOrder: 'Descending',
            MaxResults: 10,
          }),
        ),
    );
    for (const summary of page.ModelPackageSummaryList ?? []) {
      if (!summary.ModelPackageArn) continue;
      if (summary.CreationTime && summary.CreationTime.getTime() < since.getTime() - 60_000) continue;
      const pkg = await awsCall(
        {
          action: 'sagemaker:DescribeModelPackage',
          resource: summary.ModelPackageArn,
          endpointUrl: this.ctx.endpointUrl,
        },
        () =>
          this.ctx.aws.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: summary.ModelPackageArn })),
      );
      const traced =
        pkg.MetadataProperties?.GeneratedBy === this.executionArn ||
        Object.values(pkg.CustomerMetadataProperties ?? {}).includes(this.executionArn) ||
        packageArns.has(summary.ModelPackageArn);
      if (traced) {
        packageArns.add(summary.ModelPackageArn);
        return { arn: summary.ModelPackageArn, approval: pkg.ModelApprovalStatus ?? 'Unknown' };
      }
    }
    return undefined;
  }
}
