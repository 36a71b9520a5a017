import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreatePipelineCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { Json } from '../pipeline/expressions';
import type { Scalar } from '../pipeline/resolve';
import { executePipeline, type ExecutionResult } from './interpreter';
import { LOCAL_AWS_ENV, type LocalMoto, startLocalMoto } from './moto';
import { type SynthesizedRecipe, synthesizeRecipe } from './synth';
import { runLocalTrainingJob } from './training-job';

/**
 * `npm run local`: one recipe through the artifacts synth wrote, on this machine. Stages: synth (this recipe
 * only), deploy (the BucketDeployment files and the pipeline into moto), stage the tiny base model with the real
 * `stage-model --from-dir`, upload the bundled sample with the real `prepare-data`, run the pipeline (the Training
 * step as a local job), and ask the trained model for a reply.
 */

type Obj = { [key: string]: Json };

/** Where the project's tools are; every path absolute. */
export interface LocalTools {
  readonly repoRoot: string;
  readonly python: string;
  readonly motoServer: string;
  /** `tsx`, to run bin/cli.ts exactly as `npm run cli` does. */
  readonly tsx: string;
}

export function defaultTools(repoRoot: string): LocalTools {
  return {
    repoRoot,
    python: path.join(repoRoot, '.venv', 'bin', 'python'),
    motoServer: path.join(repoRoot, '.venv', 'bin', 'moto_server'),
    tsx: path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
  };
}

/** Prints `==> name` and the stage's duration. */
export async function stage<T>(name: string, log: (line: string) => void, body: () => Promise<T> | T): Promise<T> {
  log(`==> ${name}`);
  const started = Date.now();
  const value = await body();
  log(`    ${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return value;
}

/** A platform "deployed" into moto for one recipe. */
export interface LocalPlatform {
  readonly synth: SynthesizedRecipe;
  readonly moto: LocalMoto;
  readonly s3: S3Client;
  readonly sagemaker: SageMakerClient;
  readonly tools: LocalTools;
  readonly workDir: string;
  stop(): Promise<void>;
}

function run(tools: LocalTools, command: string, args: string[], env: Record<string, string> = {}): string {
  const proc = spawnSync(command, args, {
    cwd: tools.repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ...LOCAL_AWS_ENV, NODE_NO_WARNINGS: '1', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (proc.status !== 0) {
    throw new Error(
      `${path.basename(command)} ${args.join(' ')} failed (exit ${proc.status}):\n${proc.stdout}\n${proc.stderr}`,
    );
  }
  return proc.stdout;
}

/** Runs the operator CLI (bin/cli.ts) against moto. */
function cli(platform: Pick<LocalPlatform, 'tools' | 'moto'>, args: string[]): string {
  const { tools, moto } = platform;
  return run(tools, tools.tsx, ['bin/cli.ts', ...args, '--endpoint-url', moto.endpoint, '--region', 'us-east-1']);
}

/** Synthesizes `recipeFile` and deploys what the platform would put in S3 and SageMaker into a fresh moto. */
export async function deployLocally(
  recipeFile: string,
  options: { readonly workDir: string; readonly tools: LocalTools; readonly log: (line: string) => void },
): Promise<LocalPlatform> {
  const { tools, workDir, log } = options;
  fs.mkdirSync(workDir, { recursive: true });
  const synth = await stage(`synth ${recipeFile} (this recipe only)`, log, () =>
    synthesizeRecipe(recipeFile, { outdir: path.join(workDir, 'cdk.out'), cwd: tools.repoRoot }),
  );
  const moto = await startLocalMoto(tools.motoServer);
  const clientConfig = {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const s3 = new S3Client(clientConfig);
  const sagemaker = new SageMakerClient(clientConfig);
  const platform: LocalPlatform = {
    synth,
    moto,
    s3,
    sagemaker,
    tools,
    workDir,
    async stop() {
      s3.destroy();
      sagemaker.destroy();
      await moto.stop();
    },
  };
  try {
    await stage('deploy into moto (pipeline files, training code, pipeline)', log, async () => {
      const { artifactsBucket, datasetsBucket } = synth.values;
      for (const bucket of [artifactsBucket, datasetsBucket])
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      for (const f of synth.files) {
        await s3.send(new PutObjectCommand({ Bucket: artifactsBucket, Key: f.key, Body: f.body }));
      }
      // CloudFormation reads the definition file and hands it to CreatePipeline; moto keeps an S3-location definition
      // as Python repr text (DescribePipeline would not return JSON), so the same file goes inline.
      await sagemaker.send(
        new CreatePipelineCommand({
          PipelineName: synth.pipelineName,
          PipelineDefinition: JSON.stringify(synth.definition),
          RoleArn: synth.values.stackParameters.referencetogptossdevtrainingPipelineRoleD4678067Arn,
        }),
      );
      log(`    ${synth.files.length} files in s3://${artifactsBucket}/, pipeline ${synth.pipelineName}`);
    });
    await stage('stage-model --from-dir (a tiny GPT-OSS in the MXFP4 layout)', log, () => {
      const written = path.join(workDir, 'tiny-model-new');
      fs.rmSync(written, { recursive: true, force: true });
      run(tools, tools.python, ['-m', 'gpt_oss_train.local_job', 'tiny-model', '--output', written], {
        PYTHONPATH: path.join(tools.repoRoot, 'training-code'),
      });
      // a Hub cache snapshot folder is named by its commit; the tiny model has none, so its content hash stands in.
      const dir = path.join(workDir, 'tiny-model', 'snapshots', contentHash(written));
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      fs.renameSync(written, dir);
      const hubId = hubIdOf(synth.definition);
      const out = cli(platform, ['stage-model', hubId, '--recipe', synth.recipeName, '--from-dir', dir]);
      log(out.trimEnd().replace(/^/gm, '    '));
    });
    await stage('prepare-data (the bundled Multilingual-Thinking sample)', log, () => {
      const sample = path.join(
        tools.repoRoot,
        'training-code',
        'gpt_oss_train',
        'sample_data',
        'multilingual_thinking_sample.jsonl',
      );
      const out = cli(platform, ['prepare-data', sample, '--recipe', synth.recipeName]);
      log(out.trimEnd().replace(/^/gm, '    '));
    });
  } catch (e) {
    await platform.stop();
    throw e;
  }
  return platform;
}

/** SHA-1 (40 hex digits, a commit id's shape) over every file's path and bytes. */
function contentHash(dir: string): string {
  const hash = crypto.createHash('sha1');
  const files = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const file of files) hash.update(path.relative(dir, file)).update('\0').update(fs.readFileSync(file));
  return hash.digest('hex');
}

/** The recipe's model_name_or_path, as the BaseModelS3Uri default names it (`base-models/<hub-id>/<revision>/`). */
function hubIdOf(definition: Json): string {
  const params = ((definition as Obj).Parameters ?? []) as Obj[];
  const uri = params.find((p) => p.Name === 'BaseModelS3Uri')?.DefaultValue;
  const m = typeof uri === 'string' ? /\/base-models\/(.+)\/[^/]+\/$/.exec(uri) : null;
  if (!m)
    throw new Error(`the pipeline has no BaseModelS3Uri default of the form s3://.../base-models/<hub-id>/<revision>/`);
  return m[1];
}

/** The HyperParameters that scale the recipe down to the tiny model on a CPU (gpt_oss_train/local_job.py). */
export function localHyperParameters(platform: LocalPlatform, maxSteps: number): Record<string, string> {
  const recipe = path.join(platform.tools.repoRoot, platform.synth.recipeFile);
  const out = run(
    platform.tools,
    platform.tools.python,
    ['-m', 'gpt_oss_train.local_job', 'overrides', '--recipe', recipe, '--max-steps', String(maxSteps)],
    {
      PYTHONPATH: path.join(platform.tools.repoRoot, 'training-code'),
    },
  );
  const overrides = JSON.parse(out) as Record<string, string>;
  // the step count travels the real way, as the pipeline's MaxSteps parameter.
  delete overrides.max_steps;
  return overrides;
}

export interface LocalExecutionOptions {
  readonly parameters?: Readonly<Record<string, Scalar>>;
  /** Laid over the job's HyperParameters. */
  readonly hyperParameters?: Readonly<Record<string, string>>;
  /** The definition to run. @default - the one synth wrote */
  readonly definition?: Json;
  readonly log: (line: string) => void;
}

/** Executes the pipeline; each Training step runs as a local job under `<workDir>/jobs/<step>/opt_ml`. */
export async function executeLocally(
  platform: LocalPlatform,
  options: LocalExecutionOptions,
): Promise<ExecutionResult> {
  const { log } = options;
  return executePipeline(options.definition ?? platform.synth.definition, {
    pipelineName: platform.synth.pipelineName,
    parameters: options.parameters,
    // retry waits are shortened 1000-fold: a local run has no capacity to wait for.
    sleep: (seconds) => new Promise((r) => setTimeout(r, seconds)),
    onStep: ({ step, phase, record }) => {
      if (phase === 'start') log(`    step ${step} started`);
      else
        log(
          `    step ${step}: ${record?.status}${record?.skippedBecause ? ` (${record.skippedBecause})` : ''}${record?.failureReason ? `: ${record.failureReason}` : ''}`,
        );
    },
    runTrainingJob: (step, request) =>
      runLocalTrainingJob(request, {
        s3: platform.s3,
        sagemaker: platform.sagemaker,
        root: path.join(platform.workDir, 'jobs', step, 'opt_ml'),
        python: platform.tools.python,
        hyperParameters: options.hyperParameters,
        log: (line) => log(`      | ${line}`),
      }),
  });
}
