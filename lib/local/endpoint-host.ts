import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointConfigCommand, DescribeModelCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { freePort } from './moto';
import { downloadPrefix, withSlash } from './s3-files';
import { sandboxed } from './sandbox';

/**
 * The hosting side of the local SageMaker: when an endpoint is created, what SageMaker does before it reports
 * InService — read the endpoint config's model, copy its S3 model data into the container's /opt/ml/model, start
 * the container with the model's Environment and wait for `GET /ping` — done on this machine with the stand-in
 * for the vLLM serving container (training-code/gpt_oss_train/serving.py, docs/local-serving.md). The container
 * runs with no network but loopback (the model is created with network isolation).
 */

export type EndpointStatus = 'Creating' | 'InService' | 'Failed';

export interface EndpointHostOptions {
  /** Clients of the emulator itself (not the front), to read the config, the model and its S3 data. */
  readonly s3: S3Client;
  readonly sagemaker: SageMakerClient;
  readonly python: string;
  readonly repoRoot: string;
  /** Each endpoint's /opt/ml goes under `<workDir>/endpoints/<endpoint>/`. */
  readonly workDir: string;
  readonly log: (line: string) => void;
}

interface HostedEndpoint {
  readonly name: string;
  readonly configName: string;
  status: EndpointStatus;
  failureReason?: string;
  port?: number;
  child?: ChildProcess;
}

/** Only the vLLM container has a local stand-in; any other image cannot be run here. */
const VLLM_IMAGE = /\/[^/]*vllm[^/]*:[^/]+$/;

export class LocalEndpoints {
  private readonly endpoints = new Map<string, HostedEndpoint>();

  constructor(private readonly options: EndpointHostOptions) {}

  /** Starts hosting `name` on `configName`; DescribeEndpoint says Creating until the container answers /ping. */
  public create(name: string, configName: string): void {
    const endpoint: HostedEndpoint = { name, configName, status: 'Creating' };
    this.endpoints.set(name, endpoint);
    this.start(endpoint).catch((e: unknown) => this.fail(endpoint, e instanceof Error ? e.message : String(e)));
  }

  public status(name: string): { status: EndpointStatus; failureReason?: string } | undefined {
    const endpoint = this.endpoints.get(name);
    return endpoint && { status: endpoint.status, failureReason: endpoint.failureReason };
  }

  /** Sends an invocation to the container's `/invocations`, as the runtime does. */
  public async invoke(
    name: string,
    body: Buffer,
    contentType: string | undefined,
  ): Promise<{ status: number; body: Buffer; contentType: string }> {
    const endpoint = this.endpoints.get(name);
    if (!endpoint?.port || endpoint.status !== 'InService') {
      throw new Error(`endpoint ${name} is ${endpoint?.status ?? 'not hosted here'}`);
    }
    const res = await fetch(`http://127.0.0.1:${endpoint.port}/invocations`, {
      method: 'POST',
      headers: { 'content-type': contentType ?? 'application/json' },
      body: new Uint8Array(body),
    });
    return {
      status: res.status,
      body: Buffer.from(await res.arrayBuffer()),
      contentType: res.headers.get('content-type') ?? 'application/json',
    };
  }

  public async delete(name: string): Promise<void> {
    const endpoint = this.endpoints.get(name);
    this.endpoints.delete(name);
    if (endpoint) await stopChild(endpoint.child);
  }

  public async stopAll(): Promise<void> {
    await Promise.all([...this.endpoints.keys()].map((name) => this.delete(name)));
  }

  private fail(endpoint: HostedEndpoint, reason: string): void {
    endpoint.status = 'Failed';
    endpoint.failureReason = reason;
    this.options.log(`endpoint ${endpoint.name}: Failed: ${reason}`);
  }

  private async start(endpoint: HostedEndpoint): Promise<void> {
    const { sagemaker, s3, log } = this.options;
    const config = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.configName }));
    const variants = config.ProductionVariants ?? [];
    if (variants.length !== 1) {
      return this.fail(endpoint, `the local run hosts one production variant; the config has ${variants.length}`);
    }
    const model = await sagemaker.send(new DescribeModelCommand({ ModelName: variants[0].ModelName }));
    const container = model.PrimaryContainer ?? model.Containers?.[0];
    const image = container?.Image ?? '';
    if (!VLLM_IMAGE.test(image)) {
      return this.fail(endpoint, `the local run has a stand-in only for the vLLM container, not ${image}`);
    }
    const dataUri = container?.ModelDataSource?.S3DataSource?.S3Uri ?? container?.ModelDataUrl;
    if (!dataUri) return this.fail(endpoint, `model ${model.ModelName} has no model data in S3`);
    if (container?.ModelDataSource?.S3DataSource?.CompressionType === 'Gzip' || dataUri.endsWith('.tar.gz')) {
      return this.fail(endpoint, `the local run reads uncompressed model data only, not ${dataUri}`);
    }
    const root = path.join(this.options.workDir, 'endpoints', endpoint.name, endpoint.configName, 'opt_ml');
    const modelDir = path.join(root, 'model');
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(modelDir, { recursive: true });
    const files = await downloadPrefix(s3, withSlash(dataUri), modelDir);
    log(`endpoint ${endpoint.name}: model data ${dataUri} -> /opt/ml/model (${files} files)`);
    if (files === 0) return this.fail(endpoint, `no model files under ${dataUri}`);

    // the container's /opt/ml is this directory; the environment is the model's, as SageMaker passes it.
    const environment = Object.fromEntries(
      Object.entries(container?.Environment ?? {}).map(([k, v]) => [k, v.replace(/^\/opt\/ml(?=\/|$)/, root)]),
    );
    const port = await freePort();
    const sandbox = sandboxed(
      [this.options.python, '-m', 'gpt_oss_train.serving', '--host', '127.0.0.1'],
      {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? root,
        ...environment,
        PYTHONPATH: path.join(this.options.repoRoot, 'training-code'),
        PYTHONUNBUFFERED: '1',
      },
      'guard',
    );
    const child = spawn(sandbox.command[0], [...sandbox.command.slice(1), '--port', String(port)], {
      env: sandbox.env,
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    endpoint.child = child;
    let lastLine = '';
    const onData = (d: Buffer): void => {
      for (const line of d
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')) {
        lastLine = line;
        log(`endpoint ${endpoint.name} | ${line}`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      if (endpoint.status !== 'Failed' && this.endpoints.get(endpoint.name) === endpoint) {
        this.fail(endpoint, `the container exited with code ${code}: ${lastLine}`);
      }
    });
    // SageMaker reports InService once the container answers its health check.
    while (endpoint.status === 'Creating') {
      if (child.exitCode !== null) return;
      try {
        if ((await fetch(`http://127.0.0.1:${port}/ping`)).ok) {
          endpoint.port = port;
          endpoint.status = 'InService';
          log(`endpoint ${endpoint.name}: InService (the container answers /ping)`);
          return;
        }
      } catch {
        // not listening yet: the model is loading.
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
