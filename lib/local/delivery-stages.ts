import * as fs from 'node:fs';
import * as path from 'node:path';
import { DescribeEndpointCommand, DescribeModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { pipelineExecutionStatusEvent } from './events';
import type { ExecutionResult } from './interpreter';
import { cli, type LocalPlatform, stage } from './local-run';
import { describeRun, type LocalRunResult } from './state-machine';

/**
 * The rest of the loop after a pipeline execution, as on AWS: its "Succeeded" event starts the REGISTER state
 * machine, `npm run cli -- approve` approves the package (SageMaker's state-change event starts DEPLOY), DEPLOY
 * creates the endpoint (served here by the local vLLM stand-in) and smoke-tests it, and `npm run cli -- chat` asks
 * the endpoint. Each state machine execution is also written to `<workDir>/state-machines/` (states entered, calls).
 */

type Log = (line: string) => void;

export interface MachineRun {
  /** Logical id of the state machine in the deployment stack. */
  readonly machine: string;
  readonly result: LocalRunResult;
}

/** Waits for every execution the bus started, prints and records each. */
async function settle(platform: LocalPlatform, log: Log): Promise<MachineRun[]> {
  const ended = await platform.bus.drain();
  const dir = path.join(platform.workDir, 'state-machines');
  fs.mkdirSync(dir, { recursive: true });
  return ended.map(({ execution, result }) => {
    const file = path.join(dir, `${String(fs.readdirSync(dir).length + 1).padStart(2, '0')}-${execution.machine}.json`);
    fs.writeFileSync(file, JSON.stringify({ machine: execution.machine, event: execution.event, ...result }, null, 2));
    const outcome = result.status === 'SUCCEEDED' ? 'SUCCEEDED' : `FAILED ${result.error}: ${result.cause}`;
    log(`    ${execution.machine}: ${outcome} (${result.path.length} states, ${result.calls.length} AWS calls)`);
    if (result.status !== 'SUCCEEDED') log(describeRun(result).replace(/^/gm, '      '));
    log(`    record: ${file}`);
    return { machine: execution.machine, result };
  });
}

function single(runs: readonly MachineRun[], what: string): MachineRun {
  if (runs.length !== 1) {
    throw new Error(`${what}: expected one state machine execution, the events started ${runs.length}`);
  }
  return runs[0];
}

export interface Registered {
  readonly packageArn: string;
  readonly approvalStatus: string;
  /** Executions the registration's own events started (DEPLOY, for a package approved on registration). */
  readonly deployRuns: readonly MachineRun[];
}

/** The execution's "Succeeded" event on the bus; the REGISTER execution it starts must create a package. */
export async function registerStage(
  platform: LocalPlatform,
  execution: ExecutionResult,
  log: Log,
): Promise<Registered> {
  return stage('register (the pipeline-succeeded event starts the REGISTER state machine)', log, async () => {
    const event = pipelineExecutionStatusEvent({
      pipelineName: platform.synth.pipelineName,
      executionId: execution.execution.PipelineExecutionId,
      status: execution.status,
      startTime: execution.execution.StartDateTime,
      endTime: new Date().toISOString(),
    });
    if (platform.bus.put(event).length === 0)
      throw new Error('no synthesized rule matches the pipeline-succeeded event');
    const [register, ...others] = await settle(platform, log);
    if (register.result.status !== 'SUCCEEDED') throw new Error(`${register.machine} failed`);
    const created = register.result.calls.find((c) => c.action === 'createModelPackage');
    const packageArn = (created?.result as { ModelPackageArn?: string } | undefined)?.ModelPackageArn;
    if (!packageArn) throw new Error(`${register.machine} succeeded without creating a model package`);
    const pkg = await platform.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn }));
    const source = pkg.InferenceSpecification?.Containers?.[0]?.ModelDataSource?.S3DataSource?.S3Uri;
    log(`    package ${packageArn}: ${pkg.ModelApprovalStatus}, model data ${source}`);
    return { packageArn, approvalStatus: pkg.ModelApprovalStatus ?? '', deployRuns: others };
  });
}

/** `approve` through the CLI (unless the recipe's approval is automatic), then the DEPLOY execution it starts. */
export async function deployStage(platform: LocalPlatform, registered: Registered, log: Log): Promise<MachineRun> {
  let runs = registered.deployRuns;
  if (registered.approvalStatus === 'Approved') {
    log('==> approve: the package was approved on registration (approval: auto); its event started DEPLOY');
  } else {
    await stage('approve (npm run cli -- approve)', log, async () => {
      const out = await cli(platform, ['approve', registered.packageArn, '-m', 'approved by npm run local']);
      log(out.trimEnd().replace(/^/gm, '    '));
    });
  }
  return stage(
    'deploy (the approval event starts the DEPLOY state machine; the endpoint is served here)',
    log,
    async () => {
      runs = [...runs, ...(await settle(platform, log))];
      const deploy = single(runs, 'deploy');
      if (deploy.result.status !== 'SUCCEEDED') {
        if (deploy.result.error === 'SmokeTestFailed') {
          log('    the tiny model wrote no text on any harmony channel; train it longer (--max-steps) and run again');
        }
        throw new Error(`${deploy.machine} failed`);
      }
      const smoke = deploy.result.calls.find((c) => c.action === 'invokeEndpoint' && c.result !== undefined);
      const endpointName = smoke?.params.EndpointName as string | undefined;
      if (endpointName) {
        const ep = await platform.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
        log(`    endpoint ${endpointName}: ${ep.EndpointStatus} on ${ep.EndpointConfigName}`);
        log(`    smoke test reply: ${String((smoke?.result as { Body?: string }).Body).slice(0, 400)}`);
      }
      return deploy;
    },
  );
}

/** `chat` through the CLI against the deployed recipe's endpoint. */
export async function chatStage(platform: LocalPlatform, question: string, log: Log): Promise<string> {
  return stage('chat (npm run cli -- chat)', log, async () => {
    const out = await cli(platform, [
      'chat',
      platform.synth.recipeName,
      question,
      '--reasoning-language',
      'German',
      '--max-tokens',
      '64',
      '--temperature',
      '0',
    ]);
    log(out.trimEnd().replace(/^/gm, '    '));
    return out;
  });
}
