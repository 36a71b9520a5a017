import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * How a local job or serving container is cut off from the network, as one in a VPC without egress (or with
 * network isolation) is: no route out, loopback only.
 */

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
