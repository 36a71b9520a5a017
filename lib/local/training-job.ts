import * as fs from 'node:fs';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { Json } from '../pipeline/expressions';
import { errorsOf, validateRequests } from './botocore-shapes';
import type { TrainingJobOutcome } from './interpreter';
import { type HostRun, layOutHost, startHost } from './job-host';
import { freePort } from './moto';
import { uploadDir, withSlash } from './s3-files';
import { sandboxed } from './sandbox';

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
  const count = Number(resources.InstanceCount);
  const hosts = Array.from({ length: count }, (_, i) => `algo-${i + 1}`);
  // algo-1's /opt/ml is `root`; another host's is a sibling directory named after it.
  const rootOf = (host: string): string =>
    host === 'algo-1' ? path.resolve(options.root) : `${path.resolve(options.root)}-${host}`;

  const environment = { ...((request.Environment ?? {}) as Record<string, string>) };
  if (environment.MLFLOW_TRACKING_ARN) {
    delete environment.MLFLOW_TRACKING_ARN;
    log('local-job: MLFLOW_TRACKING_ARN dropped (no tracking server here; TensorBoard only)');
  }
  const hyperParameters = {
    ...((request.HyperParameters ?? {}) as Record<string, string>),
    ...options.hyperParameters,
  };
  // several hosts share this machine's loopback: the first host's address, a free rendezvous port, the guard
  // sandbox (a network namespace per host would give each its own loopback).
  const cluster: Record<string, string> =
    count > 1
      ? { SM_MASTER_ADDR: '127.0.0.1', GPT_OSS_RENDEZVOUS_PORT: String(await freePort()), GLOO_SOCKET_IFNAME: 'lo' }
      : {};
  // MaxRuntimeInSeconds: SIGTERM, then SIGKILL 120 s later, as SageMaker stops a job.
  const runs: HostRun[] = [];
  const maxRuntime = Number((request.StoppingCondition as Obj).MaxRuntimeInSeconds);
  const started = Date.now();
  let stoppedAtMaxRuntime = false;
  const stop = setTimeout(() => {
    stoppedAtMaxRuntime = true;
    for (const run of runs) run.stop();
  }, maxRuntime * 1000);
  for (const host of hosts) {
    const root = rootOf(host);
    await layOutHost(request, { s3: options.s3, root, host, hosts, hyperParameters, log });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? root,
      ...environment,
      ...cluster,
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
    const sandbox = sandboxed(argv, env, count > 1 ? 'guard' : 'namespace');
    log(`local-job: ${name} ${host}: ${argv.join(' ')} (no network but loopback: ${sandbox.kind})`);
    const hostLog = count > 1 ? (line: string) => log(`[${host}] ${line}`) : log;
    runs.push(startHost(host, root, sandbox, hostLog));
    // the first host serves the rendezvous store; the others start once it listens (or it has ended).
    if (count > 1 && host === 'algo-1') await runs[0].listening(Number(cluster.GPT_OSS_RENDEZVOUS_PORT));
  }
  // a host that fails ends the job: the others are stopped, as SageMaker stops every instance.
  for (const run of runs) {
    void run.exited.then((code) => {
      if (code !== 0) for (const other of runs) if (other !== run) other.stop();
    });
  }
  const exitCodes = await Promise.all(runs.map((r) => r.exited));
  clearTimeout(stop);
  const seconds = Math.round((Date.now() - started) / 1000);

  // outputs are uploaded whatever the outcome (a stopped job keeps its model and checkpoints), from every host;
  // algo-1's last, so its files win a name clash.
  const checkpoint = request.CheckpointConfig as Obj | undefined;
  const outputPath = withSlash(String((request.OutputDataConfig as Obj).S3OutputPath));
  const modelUri = `${outputPath}${name}/output/model/`;
  for (const host of [...hosts].reverse()) {
    const root = rootOf(host);
    if (checkpoint?.S3Uri) {
      const n = await uploadDir(options.s3, path.join(root, 'checkpoints'), String(checkpoint.S3Uri));
      log(`local-job: ${host} checkpoints -> ${String(checkpoint.S3Uri)} (${n} files)`);
    }
    const n = await uploadDir(options.s3, path.join(root, 'model'), modelUri);
    log(`local-job: ${host} model -> ${modelUri} (${n} files, uncompressed)`);
  }

  // the first host that wrote /opt/ml/output/failure or exited non-zero gives the reason.
  const failures = hosts.map((host, i) => {
    const file = path.join(rootOf(host), 'output', 'failure');
    return { exitCode: exitCodes[i], text: fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '' };
  });
  const failure = failures.find((f) => f.text !== '')?.text ?? '';
  const exitCode = failures.find((f) => f.exitCode !== 0)?.exitCode ?? 0;
  const output = runs[0].output();
  const metrics = finalMetrics(output, (algorithm.MetricDefinitions ?? []) as { Name: string; Regex: string }[]);
  const common = {
    TrainingJobName: name,
    ModelArtifacts: { S3ModelArtifacts: modelUri },
    FinalMetricDataList: metrics,
    TrainingTimeInSeconds: seconds,
    BillableTimeInSeconds: seconds * count,
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
