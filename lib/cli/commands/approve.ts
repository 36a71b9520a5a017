import { Command } from 'commander';
import { setApproval } from '../approval';
import { addAwsOptions, runCommand } from '../command';
import type { CliEnvironment } from '../context';

export function approveCommand(environment: CliEnvironment): Command {
  const cmd = new Command('approve')
    .summary('approve a model package (starts the deploy stage)')
    .argument('<package>', 'model package ARN, or <recipe>/<version> as "models" lists it')
    .option('-m, --message <text>', 'approval description for the audit trail (default: who approved, with this CLI)');
  addAwsOptions(cmd);
  return cmd.action(async (ref: string, opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      await setApproval(ctx, ref, 'Approved', opts.message as string | undefined);
    });
  });
}
