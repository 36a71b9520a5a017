import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreatePipelineCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SNSClient } from '@aws-sdk/client-sns';
import * as YAML from 'yaml';
import type { Json } from '../pipeline/expressions';
import type { Scalar } from '../pipeline/resolve';
import {
  createInEmulator,
  type DeploymentMachines,
  type LocalStateMachine,
  readDeploymentMachines,
} from './deployment-machines';
import { LocalEndpoints } from './endpoint-host';
import { LocalEventBus } from './event-bus';
import { executePipeline, type ExecutionResult } from './interpreter';
import { LOCAL_REGION } from './local-values';
import { LOCAL_AWS_ENV, type LocalMoto, startLocalMoto } from './moto';
import { type SageMakerFront, startSageMakerFront } from './sagemaker-front';
import { runLocally } from './state-machine';
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

/** A platform "deployed" into moto for one recipe, behind the local SageMaker front. */
export interface LocalPlatform {
  readonly synth: SynthesizedRecipe;
  readonly moto: LocalMoto;
  /** The endpoint every client uses (the CLI, the state machines): moto behind lib/local/sagemaker-front.ts. */
  readonly front: SageMakerFront;
  readonly s3: S3Client;
  readonly sagemaker: SageMakerClient;
  readonly tools: LocalTools;
  readonly workDir: string;
  /** The REGISTER and DEPLOY state machines and the rules that start them. */
  readonly deployment: DeploymentMachines;
  /** Where SageMaker's events go; `drain` waits for the executions they started. */
  readonly bus: LocalEventBus;
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

/**
 * Runs the operator CLI (bin/cli.ts) against the local endpoint, as `npm run cli -- <args>` would. Asynchronous: the
 * front it talks to runs in this process.
 */
export async function cli(platform: Pick<LocalPlatform, 'tools' | 'front'>, args: string[]): Promise<string> {
  const { tools, front } = platform;
  const argv = ['bin/cli.ts', ...args, '--endpoint-url', front.endpoint, '--region', LOCAL_REGION];
  const child = spawn(tools.tsx, argv, {
    cwd: tools.repoRoot,
    env: { ...process.env, ...LOCAL_AWS_ENV, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`npm run cli -- ${args.join(' ')} failed (exit ${code}):\n${stdout}\n${stderr}`);
  return stdout;
}

/** How the recipe's quality gate is treated locally. */
export type LocalQualityGate =
  /** The recipe's own threshold (a tiny random model does not reach a real recipe's). */
  | 'recipe'
  /** eval_loss <= ln(vocabulary size): better than a uniform guess over the tiny model's vocabulary. */
  | 'better-than-chance';

/** Writes the tiny GPT-OSS (MXFP4 layout) into a Hub-cache-like snapshot folder; returns the folder. */
function writeTinyModel(tools: LocalTools, workDir: string): string {
  const written = path.join(workDir, 'tiny-model-new');
  fs.rmSync(written, { recursive: true, force: true });
  run(tools, tools.python, ['-m', 'gpt_oss_train.local_job', 'tiny-model', '--output', written], {
    PYTHONPATH: path.join(tools.repoRoot, 'training-code'),
  });
  // a Hub cache snapshot folder is named by its commit; the tiny model has none, so its content hash stands in.
  const dir = path.join(workDir, 'tiny-model', 'snapshots', contentHash(written));
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(written, dir);
  return dir;
}

/**
 * The recipe file to synthesize: the recipe itself, or (better-than-chance gate) a copy under `<workDir>/recipes/`
 * whose `platform.quality_gate.max_eval_loss` is ln(vocabulary size) of the tiny model, everything else unchanged.
 */
function recipeForGate(
  recipeFile: string,
  gate: LocalQualityGate,
  dirs: { readonly model: string; readonly work: string; readonly repoRoot: string },
  log: (line: string) => void,
): string {
  const doc = YAML.parseDocument(fs.readFileSync(path.resolve(dirs.repoRoot, recipeFile), 'utf8'));
  const key = ['platform', 'quality_gate', 'max_eval_loss'];
  const recipeGate = doc.getIn(key);
  if (gate === 'recipe' || recipeGate === undefined) return recipeFile;
  const { vocab_size: vocab } = JSON.parse(fs.readFileSync(path.join(dirs.model, 'config.json'), 'utf8')) as {
    vocab_size: number;
  };
  const local = Number(Math.log(vocab).toFixed(2));
  doc.setIn(key, local);
  const copy = path.join(dirs.work, 'recipes', path.basename(recipeFile));
  fs.mkdirSync(path.dirname(copy), { recursive: true });
  fs.writeFileSync(copy, doc.toString());
  log(
    `    quality gate: eval_loss <= ${local} (ln ${vocab}: better than a uniform guess over the tiny model's ` +
      `vocabulary) instead of the recipe's ${String(recipeGate)}; --keep-quality-gate keeps the recipe's`,
  );
  const relative = path.relative(dirs.repoRoot, copy);
  return relative.startsWith('..') ? copy : relative;
}

/** Synthesizes `recipeFile` and deploys what the platform would put in S3 and SageMaker into a fresh moto. */
export async function deployLocally(
  recipeFile: string,
  options: {
    readonly workDir: string;
    readonly tools: LocalTools;
    readonly log: (line: string) => void;
    /** @default 'recipe' */
    readonly qualityGate?: LocalQualityGate;
  },
): Promise<LocalPlatform> {
  const { tools, workDir, log } = options;
  fs.mkdirSync(workDir, { recursive: true });
  const modelDir = await stage('tiny GPT-OSS base model (the MXFP4 layout of the real checkpoints)', log, () =>
    writeTinyModel(tools, workDir),
  );
  const synthFile = recipeForGate(
    recipeFile,
    options.qualityGate ?? 'recipe',
    { model: modelDir, work: workDir, repoRoot: tools.repoRoot },
    log,
  );
  const synth = await stage(`synth ${recipeFile} (this recipe only)`, log, () =>
    synthesizeRecipe(synthFile, { outdir: path.join(workDir, 'cdk.out'), cwd: tools.repoRoot }),
  );
  const deployment = readDeploymentMachines(synth);
  const moto = await startLocalMoto(tools.python, [path.join(__dirname, 'moto_server_current_types.py')]);
  const clientConfig = (endpoint: string) => ({
    endpoint,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  // the emulator's own clients: what the front and the endpoint host read behind the scenes.
  const motoSageMaker = new SageMakerClient(clientConfig(moto.endpoint));
  const motoS3 = new S3Client(clientConfig(moto.endpoint));
  const endpoints = new LocalEndpoints({
    s3: motoS3,
    sagemaker: motoSageMaker,
    python: tools.python,
    repoRoot: tools.repoRoot,
    workDir,
    log: (line) => log(`      ${line}`),
  });
  // the bus's state machines call the front, which puts SageMaker's events on the bus: the address comes last.
  const frontAddress = { endpoint: '' };
  const bus = new LocalEventBus(deployment.rules, (machine, event) =>
    runLocally((deployment.machines.get(machine) as LocalStateMachine).definition, event, {
      endpoint: frontAddress.endpoint,
      // Wait states pause 1/60 of their time: a one-minute poll takes a second here.
      waitMilliseconds: (seconds) => (seconds * 1000) / 60,
      executionName: `${machine.replace(/[0-9A-F]{8}$/, '')}-${Date.now()}`,
    }),
  );
  const front = await startSageMakerFront({
    motoEndpoint: moto.endpoint,
    endpoints,
    sagemaker: motoSageMaker,
    onEvent: (event) => void bus.put(event),
  });
  frontAddress.endpoint = front.endpoint;
  const s3 = new S3Client(clientConfig(front.endpoint));
  const sagemaker = new SageMakerClient(clientConfig(front.endpoint));
  const sns = new SNSClient(clientConfig(front.endpoint));
  const platform: LocalPlatform = {
    synth,
    moto,
    front,
    s3,
    sagemaker,
    tools,
    workDir,
    deployment,
    bus,
    async stop() {
      await front.stop();
      for (const client of [s3, sagemaker, sns, motoS3, motoSageMaker]) client.destroy();
      await moto.stop();
    },
  };
  try {
    await stage(
      'deploy into moto (pipeline files, training code, pipeline, topic, model package group)',
      log,
      async () => {
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
        await createInEmulator(deployment, { sns, sagemaker });
        log(
          `    ${synth.files.length} files in s3://${artifactsBucket}/, pipeline ${synth.pipelineName}, ` +
            `${deployment.machines.size} state machines, ${deployment.rules.length} event rules`,
        );
      },
    );
    await stage("stage-model --from-dir (the tiny model as the recipe's base model)", log, async () => {
      const hubId = hubIdOf(synth.definition);
      const out = await cli(platform, ['stage-model', hubId, '--recipe', synth.recipeName, '--from-dir', modelDir]);
      log(out.trimEnd().replace(/^/gm, '    '));
    });
    await stage('prepare-data (the bundled Multilingual-Thinking sample)', log, async () => {
      const sample = path.join(
        tools.repoRoot,
        'training-code',
        'gpt_oss_train',
        'sample_data',
        'multilingual_thinking_sample.jsonl',
      );
      const out = await cli(platform, ['prepare-data', sample, '--recipe', synth.recipeName]);
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
  const result = await executePipeline(options.definition ?? platform.synth.definition, {
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
  platform.front.recordExecution(result);
  return result;
}
