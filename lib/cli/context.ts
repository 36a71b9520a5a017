import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppConfig } from '../config/app-config';
import { loadAppConfig, readCdkJsonContext } from '../config/load-app-config';
import { listRecipeFiles, recipeNameOf } from '../config/load-recipes';
import type { NamingContext } from '../config/naming';
import { AwsClients } from './aws-clients';
import { Output, type OutputStreams } from './output';

/** Options every operator command accepts (`gpt-oss <cmd> --region ... --endpoint-url ...`). */
export interface GlobalOptions {
  /** AWS region; default: AWS_REGION, then the config's `region`, then the profile's region. */
  readonly region?: string;
  /** Send every AWS call to this endpoint (an emulator, a VPC endpoint, a compatible service). */
  readonly endpointUrl?: string;
  /** Named AWS profile; default: the standard credential chain. */
  readonly profile?: string;
  /** A YAML/JSON file whose keys override the cdk.json `gptOss` config (like `cdk -c configFile=`). */
  readonly configFile?: string;
  /** The project checkout holding cdk.json and recipes/; default: the nearest cdk.json above the cwd. */
  readonly projectDir?: string;
  /** Attempts per AWS call, first one included (adaptive retry). */
  readonly maxAttempts?: number;
}

/** Everything a command needs from the process, injectable so tests run commands in-process. */
export interface CliEnvironment extends OutputStreams {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Records the process exit code (bin/cli.ts sets `process.exitCode`; tests capture it). */
  readonly setExitCode?: (code: number) => void;
  /** Standard input, for `chat` without a prompt argument. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

function findProjectDir(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'cdk.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Shared state of one CLI invocation: config, names, AWS clients and output. */
export class CliContext {
  readonly out: Output;
  readonly projectDir: string;
  readonly aws: AwsClients;
  private appConfig: AppConfig | undefined;

  constructor(
    public readonly options: GlobalOptions,
    public readonly environment: CliEnvironment,
  ) {
    this.out = new Output(environment);
    const explicit = options.projectDir ? path.resolve(environment.cwd, options.projectDir) : undefined;
    this.projectDir = explicit ?? findProjectDir(environment.cwd) ?? environment.cwd;
    const env = environment.env;
    // the deployment's region from config applies unless the user chose one for this shell or command.
    const region = options.region ?? (env.AWS_REGION ? undefined : this.config.region);
    const endpointOverride = options.endpointUrl ?? env.AWS_ENDPOINT_URL ?? env.AWS_ENDPOINT_URL_S3;
    this.aws = new AwsClients({
      region,
      endpointUrl: options.endpointUrl,
      profile: options.profile,
      forcePathStyle: endpointOverride !== undefined,
      maxAttempts: options.maxAttempts,
    });
  }

  /** The app config from `<projectDir>/cdk.json` context `gptOss` (+ `--config-file`), validated. */
  get config(): AppConfig {
    if (!this.appConfig) {
      const context = { ...readCdkJsonContext(this.projectDir) };
      // --config-file is relative to where the command runs, like any other path argument.
      if (this.options.configFile) context.configFile = path.resolve(this.environment.cwd, this.options.configFile);
      this.appConfig = loadAppConfig(context, this.projectDir);
    }
    return this.appConfig;
  }

  get naming(): NamingContext {
    return { namePrefix: this.config.namePrefix, stage: this.config.stage };
  }

  /** Endpoint shown in connection errors. */
  get endpointUrl(): string | undefined {
    return this.options.endpointUrl ?? this.environment.env.AWS_ENDPOINT_URL;
  }

  get recipesDir(): string {
    return path.join(this.projectDir, 'recipes');
  }

  /** Recipe names from `recipes/*.yaml` in the checkout. */
  localRecipeNames(): string[] {
    return listRecipeFiles(this.recipesDir).map(recipeNameOf);
  }

  /** The recipe file for a name, or undefined when the checkout has none. */
  recipeFile(name: string): string | undefined {
    return listRecipeFiles(this.recipesDir).find((f) => recipeNameOf(f) === name);
  }

  /** The user name recorded in approval descriptions. */
  get userName(): string {
    return this.environment.env.USER ?? this.environment.env.USERNAME ?? 'unknown user';
  }

  close(): void {
    this.aws.destroy();
  }
}
