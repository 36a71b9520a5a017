import { Command } from 'commander';
import { setApproval } from '../approval';
import { addAwsOptions, runCommand } from '../command';
import type { CliEnvironment } from '../context';

export function rejectCommand(environment: CliEnvironment): Command {
  const cmd = new Command('reject')
    .summary('reject a model package (it will not be deployed)')
    .argument('<package>', 'model package ARN, or <recipe>/<version> as "models" lists it')
    .option('-m, --message <text>', 'rejection reason for the audit trail (default: who rejected, with this CLI)');
  addAwsOptions(cmd);
  return cmd.action(async (ref: string, opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      await setApproval(ctx, ref, 'Rejected', opts.message as string | undefined);
    });
  });
}
