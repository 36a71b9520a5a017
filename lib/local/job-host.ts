import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Json } from '../pipeline/expressions';
import { downloadPrefix } from './s3-files';
import type { Sandbox } from './sandbox';

/**
 * One instance ("host") of a local training job: its /opt/ml laid out from the CreateTrainingJob request as
 * SageMaker documents it, and its entrypoint process. lib/local/training-job.ts runs one per InstanceCount.
 */

type Obj = { [key: string]: Json };

/** Lays out `root` as host `host`'s /opt/ml (emptied first): channels, hyperparameters, input and resource config. */
export async function layOutHost(
  request: Obj,
  options: {
    readonly s3: S3Client;
    readonly root: string;
    readonly host: string;
    readonly hosts: readonly string[];
    readonly hyperParameters: Readonly<Record<string, string>>;
    readonly log: (line: string) => void;
  },
): Promise<void> {
  const { root, host, hosts, log } = options;
  const algorithm = request.AlgorithmSpecification as Obj;
  const resources = request.ResourceConfig as Obj;
  fs.rmSync(root, { recursive: true, force: true });
  const config = path.join(root, 'input', 'config');
  fs.mkdirSync(config, { recursive: true });
  for (const dir of ['model', 'checkpoints', 'output']) fs.mkdirSync(path.join(root, dir), { recursive: true });

  // input/data/<channel>: S3Prefix channels in File mode are copied (to every host, FullyReplicated) before the
  // container starts.
  const channelConfig: Record<string, Json> = {};
  for (const c of (request.InputDataConfig ?? []) as Obj[]) {
    const source = ((c.DataSource as Obj).S3DataSource ?? {}) as Obj;
    const dir = path.join(root, 'input', 'data', String(c.ChannelName));
    fs.mkdirSync(dir, { recursive: true });
    const n = await downloadPrefix(options.s3, String(source.S3Uri), dir);
    log(`local-job: ${host} channel ${String(c.ChannelName)} <- ${String(source.S3Uri)} (${n} files)`);
    channelConfig[String(c.ChannelName)] = {
      TrainingInputMode: String(c.InputMode ?? algorithm.TrainingInputMode),
      S3DistributionType: String(source.S3DataDistributionType ?? 'FullyReplicated'),
      RecordWrapperType: 'None',
    };
  }
  fs.writeFileSync(path.join(config, 'hyperparameters.json'), JSON.stringify(options.hyperParameters));
  fs.writeFileSync(path.join(config, 'inputdataconfig.json'), JSON.stringify(channelConfig));
  const instanceType = String(resources.InstanceType);
  fs.writeFileSync(
    path.join(config, 'resourceconfig.json'),
    JSON.stringify({
      current_host: host,
      current_instance_type: instanceType,
      current_group_name: 'homogeneousCluster',
      hosts,
      instance_groups: [{ instance_group_name: 'homogeneousCluster', instance_type: instanceType, hosts }],
      network_interface_name: 'lo',
    }),
  );
}

/** A running host entrypoint. */
export interface HostRun {
  readonly host: string;
  /** Resolves with the exit code once the process tree has ended. */
  readonly exited: Promise<number>;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM to its process group, SIGKILL 120 s later if still running. */
  stop(): void;
  /** Resolves once something listens on `port` of 127.0.0.1, or the process has ended. */
  listening(port: number): Promise<void>;
}

/** Starts `sandbox.command` in `root` as host `host`, each output line to `log`. */
export function startHost(host: string, root: string, sandbox: Sandbox, log: (line: string) => void): HostRun {
  let output = '';
  let ended = false;
  const child = spawn(sandbox.command[0], sandbox.command.slice(1), {
    env: sandbox.env,
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let pending = '';
  const onData = (d: Buffer): void => {
    const lines = (pending + d.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      output += `${line}\n`;
      log(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      if (pending) {
        output += `${pending}\n`;
        log(pending);
      }
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), name);
    } catch {
      // already gone.
    }
  };
  return {
    host,
    exited,
    output: () => output,
    stop() {
      signal('SIGTERM');
      setTimeout(() => !ended && signal('SIGKILL'), 120_000).unref();
    },
    async listening(port) {
      while (!ended) {
        const open = await new Promise<boolean>((resolve) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        });
        if (open) return;
        await new Promise((r) => setTimeout(r, 500));
      }
    },
  };
}
