import { type Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../config/errors';
import { type CliEnvironment, CliContext, type GlobalOptions } from './context';
import { CliError } from './errors';

/** Adds the options every AWS-facing command shares. */
export function addAwsOptions(cmd: Command): Command {
  return cmd
    .option('--region <region>', 'AWS region (default: AWS_REGION, then the config "region", then the profile)')
    .option('--endpoint-url <url>', 'send every AWS call to this endpoint (default: AWS_ENDPOINT_URL if set)')
    .option('--profile <name>', 'AWS profile (default: the standard credential chain)')
    .option('--config-file <file>', 'YAML/JSON file overriding the cdk.json "gptOss" config (e.g. stages/prod.yaml)')
    .option('--project-dir <dir>', 'checkout holding cdk.json and recipes/ (default: nearest cdk.json above the cwd)')
    .option('--max-attempts <n>', 'attempts per AWS call, with adaptive back-off on throttling', parsePositiveInt, 8);
}

/** commander parser for whole positive numbers. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a whole number above 0, found "${value}"`);
  return n;
}

/** commander parser for numbers above 0, fractions included (epochs: `NumTrainEpochs` is a Float parameter). */
export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a number above 0, found "${value}"`);
  return n;
}

/** commander parser for positive numbers (seconds, temperatures). */
export function parseNonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number of 0 or more, found "${value}"`);
  return n;
}

/** Picks the global options out of a command's parsed options. */
export function globalOptions(opts: Record<string, unknown>): GlobalOptions {
  return {
    region: opts.region as string | undefined,
    endpointUrl: opts.endpointUrl as string | undefined,
    profile: opts.profile as string | undefined,
    configFile: opts.configFile as string | undefined,
    projectDir: opts.projectDir as string | undefined,
    maxAttempts: opts.maxAttempts as number | undefined,
  };
}

/**
 * Runs a command body with a fresh context, prints any error as one `error:` line and sets the exit
 * code; the body returns the exit code it wants (0 on success).
 */
export async function runCommand(
  environment: CliEnvironment,
  opts: Record<string, unknown>,
  body: (ctx: CliContext) => Promise<number | void>,
): Promise<number> {
  let ctx: CliContext | undefined;
  let code: number;
  try {
    ctx = new CliContext(globalOptions(opts), environment);
    code = (await body(ctx)) ?? 0;
  } catch (e) {
    code = reportError(environment, e);
  } finally {
    ctx?.close();
  }
  environment.setExitCode?.(code);
  return code;
}

/** Prints an error the way every command does and returns the exit code. */
export function reportError(environment: CliEnvironment, e: unknown): number {
  if (e instanceof CliError) {
    environment.stderr.write(`error: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof ConfigError) {
    environment.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  const err = e as Error;
  environment.stderr.write(`error: unexpected ${err?.name ?? 'failure'}: ${err?.message ?? String(e)}\n`);
  if (environment.env.GPT_OSS_DEBUG) environment.stderr.write(`${err?.stack ?? ''}\n`);
  return 1;
}
