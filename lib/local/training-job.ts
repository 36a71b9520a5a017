import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { Json } from '../pipeline/expressions';
import { errorsOf, validateRequests } from './botocore-shapes';
import type { TrainingJobOutcome } from './interpreter';
import { downloadPrefix, uploadDir, withSlash } from './s3-files';

/**
 * Runs one CreateTrainingJob request on this machine the way SageMaker runs a training job (docs/local-fidelity.md
 * lists what is reproduced and its sources): the request is checked against botocore's CreateTrainingJob shape and
 * created in the emulator; /opt/ml is laid out under `root` (each S3 channel downloaded to input/data/<channel>,
 * input/config/hyperparameters.json, resourceconfig.json, inputdataconfig.json), the ContainerEntrypoint runs with
 * the request's Environment and no network but its own loopback, is stopped at StoppingCondition, and afterwards
 * /opt/ml/checkpoints is synced to CheckpointConfig.S3Uri, /opt/ml/model uploaded uncompressed to
 * <S3OutputPath>/<job>/output/model/, MetricDefinitions applied to the log, and /opt/ml/output/failure becomes the
 * FailureReason.
 *
 * Local swaps, each printed: `python3` is the project's venv python, the launcher gets `--cpu`, `hyperParameters`
 * overrides are laid over the request's (tiny model sizes; GPT_OSS_LOCAL_RUN=1 lets the launcher take them), and
 * MLFLOW_TRACKING_ARN is dropped (no tracking server here; the job falls back to TensorBoard).
 */

type Obj = { [key: string]: Json };

export interface LocalTrainingOptions {
  readonly s3: S3Client;
  readonly sagemaker: SageMakerClient;
  /** Directory standing in for the container's /opt/ml. Emptied first. */
  readonly root: string;
  /** Python that stands in for the image's `python3`. */
  readonly python: string;
  /** HyperParameters laid over the request's (strings, as SageMaker passes them). @default - none */
  readonly hyperParameters?: Readonly<Record<string, string>>;
  /** Each line of the job's output. @default - written to stdout */
  readonly log?: (line: string) => void;
}

/** Whether `unshare -rn` (a user and network namespace: loopback only) works on this machine. */
export function networkSandboxAvailable(): boolean {
  const probe = spawnSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** How a job is cut off from the network. */
export interface Sandbox {
  /** `namespace`: `unshare -rn`, only a loopback interface; `guard`: lib/local/sandbox/sitecustomize.py. */
  readonly kind: 'namespace' | 'guard';
  readonly command: string[];
  readonly env: Record<string, string>;
}

/**
 * `argv` set up to run with no network but loopback: in a new user and network namespace where the machine allows
 * it (loopback brought up for the job's own rendezvous), else with a guard every Python process loads that refuses
 * connections and name lookups leaving the machine. `GPT_OSS_LOCAL_SANDBOX=guard` picks the guard, and so does a
 * server other local processes must reach (a namespace has its own loopback).
 */
export function sandboxed(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  prefer: Sandbox['kind'] = 'namespace',
): Sandbox {
  if (prefer === 'namespace' && process.env.GPT_OSS_LOCAL_SANDBOX !== 'guard' && networkSandboxAvailable()) {
    const command = ['unshare', '-rn', 'sh', '-c', 'ip link set lo up 2>/dev/null; exec "$@"', 'job', ...argv];
    return { kind: 'namespace', command, env: { ...env } };
  }
  const guard = path.join(__dirname, 'sandbox');
  const pythonPath = [guard, env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  return { kind: 'guard', command: [...argv], env: { ...env, PYTHONPATH: pythonPath } };
}

/** The last value each MetricDefinitions regex captured in the log, as DescribeTrainingJob's FinalMetricDataList. */
export function finalMetrics(log: string, definitions: readonly { Name: string; Regex: string }[]): Obj[] {
  const out: Obj[] = [];
  for (const d of definitions) {
    let last: number | undefined;
    const re = new RegExp(d.Regex);
    for (const line of log.split('\n')) {
      const m = re.exec(line);
      if (m && m[1] !== undefined && Number.isFinite(Number(m[1]))) last = Number(m[1]);
    }
    if (last !== undefined) out.push({ MetricName: d.Name, Value: last, Timestamp: new Date().toISOString() });
  }
  return out;
}

/** Runs the job described by `request` to its end and returns what DescribeTrainingJob would. */
export async function runLocalTrainingJob(request: Obj, options: LocalTrainingOptions): Promise<TrainingJobOutcome> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const name = String(request.TrainingJobName);
  const [validation] = validateRequests([{ service: 'sagemaker', operation: 'CreateTrainingJob', params: request }]);
  const problems = errorsOf(validation);
  if (problems.length > 0) {
    // CreateTrainingJob would reject the request: the step fails without a job, as in SageMaker.
    return {
      TrainingJobName: name,
      TrainingJobStatus: 'Failed',
      FailureReason: `ValidationException: ${problems.join('; ')}`,
    };
  }
  await options.sagemaker.send(new CreateTrainingJobCommand(request as never));

  const algorithm = request.AlgorithmSpecification as Obj;
  const resources = request.ResourceConfig as Obj;
  if (Number(resources.InstanceCount) !== 1) {
    throw new Error(`${name}: the local runner runs one host; InstanceCount is ${String(resources.InstanceCount)}`);
  }
  const root = path.resolve(options.root);
  fs.rmSync(root, { recursive: true, force: true });
  const config = path.join(root, 'input', 'config');
  fs.mkdirSync(config, { recursive: true });
  for (const dir of ['model', 'checkpoints', 'output']) fs.mkdirSync(path.join(root, dir), { recursive: true });

  // input/data/<channel>: S3Prefix channels in File mode are copied before the container starts.
  const channels = (request.InputDataConfig ?? []) as Obj[];
  const channelConfig: Record<string, Json> = {};
  for (const c of channels) {
    const source = ((c.DataSource as Obj).S3DataSource ?? {}) as Obj;
    const dir = path.join(root, 'input', 'data', String(c.ChannelName));
    fs.mkdirSync(dir, { recursive: true });
    const n = await downloadPrefix(options.s3, String(source.S3Uri), dir);
    log(`local-job: channel ${String(c.ChannelName)} <- ${String(source.S3Uri)} (${n} files)`);
    channelConfig[String(c.ChannelName)] = {
      TrainingInputMode: String(c.InputMode ?? algorithm.TrainingInputMode),
      S3DistributionType: String(source.S3DataDistributionType ?? 'FullyReplicated'),
      RecordWrapperType: 'None',
    };
  }
  const hyperParameters = {
    ...((request.HyperParameters ?? {}) as Record<string, string>),
    ...options.hyperParameters,
  };
  fs.writeFileSync(path.join(config, 'hyperparameters.json'), JSON.stringify(hyperParameters));
  fs.writeFileSync(path.join(config, 'inputdataconfig.json'), JSON.stringify(channelConfig));
  fs.writeFileSync(
    path.join(config, 'resourceconfig.json'),
    JSON.stringify({
      current_host: 'algo-1',
      current_instance_type: String(resources.InstanceType),
      current_group_name: 'homogeneousCluster',
      hosts: ['algo-1'],
      instance_groups: [
        { instance_group_name: 'homogeneousCluster', instance_type: String(resources.InstanceType), hosts: ['algo-1'] },
      ],
      network_interface_name: 'lo',
    }),
  );

  const environment = { ...((request.Environment ?? {}) as Record<string, string>) };
  if (environment.MLFLOW_TRACKING_ARN) {
    delete environment.MLFLOW_TRACKING_ARN;
    log('local-job: MLFLOW_TRACKING_ARN dropped (no tracking server here; TensorBoard only)');
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? root,
    ...environment,
    TRAINING_JOB_NAME: name,
    TRAINING_JOB_ARN: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name.toLowerCase()}`,
    GPT_OSS_OPT_ML: root,
    PYTHONUNBUFFERED: '1',
    // the tiny-model HyperParameters scale recipe keys a pipeline never passes; the launcher takes them only here.
    GPT_OSS_LOCAL_RUN: '1',
  };
  const entrypoint = ((algorithm.ContainerEntrypoint ?? []) as string[]).map((a) =>
    a === 'python3' ? options.python : a.replace(/^\/opt\/ml(?=\/|$)/, root),
  );
  if (entrypoint.length === 0) throw new Error(`${name}: no ContainerEntrypoint; the local runner runs no images`);
  const argv = [...entrypoint, '--cpu'];
  const sandbox = sandboxed(argv, env);
  const command = sandbox.command;
  log(`local-job: ${name}: ${argv.join(' ')} (no network but loopback: ${sandbox.kind})`);

  const maxRuntime = Number((request.StoppingCondition as Obj).MaxRuntimeInSeconds);
  const started = Date.now();
  let output = '';
  let stoppedAtMaxRuntime = false;
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), {
      env: sandbox.env,
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let pending = '';
    const onData = (d: Buffer): void => {
      const text = pending + d.toString('utf8');
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        output += `${line}\n`;
        log(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // MaxRuntimeInSeconds: SIGTERM, then SIGKILL 120 s later, as SageMaker stops a job.
    const stop = setTimeout(() => {
      stoppedAtMaxRuntime = true;
      process.kill(-(child.pid as number), 'SIGTERM');
      setTimeout(() => child.exitCode === null && process.kill(-(child.pid as number), 'SIGKILL'), 120_000).unref();
    }, maxRuntime * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(stop);
      if (pending) {
        output += `${pending}\n`;
        log(pending);
      }
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  const seconds = Math.round((Date.now() - started) / 1000);

  // outputs are uploaded whatever the outcome (a stopped job keeps its model and checkpoints).
  const checkpoint = request.CheckpointConfig as Obj | undefined;
  if (checkpoint?.S3Uri) {
    const n = await uploadDir(options.s3, path.join(root, 'checkpoints'), String(checkpoint.S3Uri));
    log(`local-job: checkpoints -> ${String(checkpoint.S3Uri)} (${n} files)`);
  }
  const outputPath = withSlash(String((request.OutputDataConfig as Obj).S3OutputPath));
  const modelUri = `${outputPath}${name}/output/model/`;
  const n = await uploadDir(options.s3, path.join(root, 'model'), modelUri);
  log(`local-job: model -> ${modelUri} (${n} files, uncompressed)`);

  const failureFile = path.join(root, 'output', 'failure');
  const failure = fs.existsSync(failureFile) ? fs.readFileSync(failureFile, 'utf8').trim() : '';
  const metrics = finalMetrics(output, (algorithm.MetricDefinitions ?? []) as { Name: string; Regex: string }[]);
  const common = {
    TrainingJobName: name,
    ModelArtifacts: { S3ModelArtifacts: modelUri },
    FinalMetricDataList: metrics,
    TrainingTimeInSeconds: seconds,
    BillableTimeInSeconds: seconds,
  };
  if (stoppedAtMaxRuntime) {
    return {
      ...common,
      TrainingJobStatus: 'Stopped',
      SecondaryStatus: 'MaxRuntimeExceeded',
      FailureReason: failure || undefined,
    };
  }
  if (exitCode !== 0) {
    const reason = failure || `the container exited with code ${exitCode}; see the log`;
    return {
      ...common,
      TrainingJobStatus: 'Failed',
      SecondaryStatus: 'Failed',
      FailureReason: `AlgorithmError: ${reason}`,
    };
  }
  return { ...common, TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed' };
}
