import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import * as autoscaling from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import * as s3 from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import * as sagemaker from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import * as sagemakerRuntime from '@aws-sdk/client-sagemaker-runtime';
import { SNSClient } from '@aws-sdk/client-sns';
import * as snsSdk from '@aws-sdk/client-sns';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './local-values';

/**
 * Runs a synthesized Step Functions definition with aws-local-stepfunctions, where every Task state makes
 * the real AWS SDK v3 call its Resource names (`arn:aws:states:::aws-sdk:<service>:<action>`, or the
 * optimized `arn:aws:states:::sns:publish`) against an emulator endpoint such as moto server. The request
 * is the state's resolved Parameters, as Step Functions sends them; the result is the SDK response with
 * dates as ISO strings and blobs and streamed bodies (S3 GetObject) as UTF-8 strings (what Step Functions
 * returns), without `$metadata`.
 *
 * An operation the emulator lacks can be answered by an `override` keyed `service:action`; overrides get
 * the real call as `next`, so they can also wrap it (fault injection). Every call is recorded. Used by
 * `npm run local` (the REGISTER and DEPLOY stages) and by the deploy tests.
 */

/** A CloudFormation template as synthesized. */
export type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/**
 * Values for the intrinsics in a definition, keyed `LogicalId` (Ref), `LogicalId.Attribute` (Fn::GetAtt),
 * `import:<name>` (Fn::ImportValue) or `output:<stack>.<output>` (Fn::GetStackOutput); a table or a lookup.
 */
export type RefValues = Record<string, string> | ((key: string) => string | undefined);

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

function lookup(refs: RefValues, key: string, what: string): string {
  const value = typeof refs === 'function' ? refs(key) : refs[key];
  if (value === undefined) throw new Error(`no value for ${what}; pass it in refs`);
  return value;
}

/**
 * Resolves the intrinsics CDK puts in a DefinitionString or an EventPattern (Fn::Join, Ref, Fn::GetAtt,
 * Fn::ImportValue, Fn::GetStackOutput).
 */
export function resolveIntrinsics(value: unknown, refs: RefValues): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, refs));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [k] = keys;
    const arg = obj[k];
    if (k === 'Ref') {
      const name = arg as string;
      return PSEUDO[name] ?? lookup(refs, name, `Ref ${name}`);
    }
    if (k === 'Fn::GetAtt') {
      const [id, attr] = arg as [string, string];
      return lookup(refs, `${id}.${attr}`, `Fn::GetAtt ${id}.${attr}`);
    }
    if (k === 'Fn::ImportValue') {
      const name = resolveIntrinsics(arg, refs) as string;
      return lookup(refs, `import:${name}`, `Fn::ImportValue ${name}`);
    }
    if (k === 'Fn::GetStackOutput') {
      const { StackName, OutputName } = arg as { StackName: string; OutputName: string };
      return lookup(refs, `output:${StackName}.${OutputName}`, `Fn::GetStackOutput ${StackName}.${OutputName}`);
    }
    if (k === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return (parts.map((p) => resolveIntrinsics(p, refs)) as string[]).join(sep);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(obj[k], refs)]));
}

/** The ASL of the one state machine whose logical id starts with `logicalIdPrefix`, intrinsics resolved. */
export function definitionOf(template: CfnTemplate, logicalIdPrefix: string, refs: RefValues): StateMachineDefinition {
  const matches = Object.entries(template.Resources).filter(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(logicalIdPrefix),
  );
  if (matches.length !== 1) {
    throw new Error(`expected one state machine with logical id ${logicalIdPrefix}*, found ${matches.length}`);
  }
  const raw = resolveIntrinsics(matches[0][1].Properties?.DefinitionString, refs);
  return JSON.parse(raw as string) as StateMachineDefinition;
}

/** Every Task state of a definition (Map and Parallel branches included), with its Resource. */
export function taskStates(
  definition: StateMachineDefinition,
): { name: string; resource: string; state: Record<string, unknown> }[] {
  const out: { name: string; resource: string; state: Record<string, unknown> }[] = [];
  const visit = (states: Record<string, unknown>) => {
    for (const [name, state] of Object.entries(states) as [string, Record<string, unknown>][]) {
      if (state.Type === 'Task') out.push({ name, resource: state.Resource as string, state });
      for (const branch of (state.Branches as { States: Record<string, unknown> }[] | undefined) ?? []) {
        visit(branch.States);
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, unknown> } | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit(definition.States as Record<string, unknown>);
  return out;
}

/** `service` and `action` of a Task Resource, e.g. `sagemaker` / `createModel`. */
export function integrationOf(resource: string): { service: string; action: string } {
  const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)$/.exec(resource);
  if (sdk) return { service: sdk[1], action: sdk[2] };
  const optimized = /^arn:aws:states:::([a-z0-9]+):([a-zA-Z0-9]+)$/.exec(resource);
  if (optimized) return { service: optimized[1], action: optimized[2] };
  throw new Error(`unsupported Task resource ${resource}`);
}

type SdkModule = Record<string, unknown>;
type SdkClient = { send(command: unknown): Promise<Record<string, unknown>> };

interface ServiceBinding {
  readonly module: SdkModule;
  readonly client: new (config: object) => SdkClient;
  readonly errorPrefix: string;
  /** Extra client configuration for an emulator endpoint. */
  readonly config?: object;
}

const SERVICES: Record<string, ServiceBinding> = {
  sagemaker: { module: sagemaker, client: SageMakerClient as never, errorPrefix: 'SageMaker' },
  // an emulator on 127.0.0.1 has no bucket subdomains.
  s3: { module: s3, client: S3Client as never, errorPrefix: 'S3', config: { forcePathStyle: true } },
  sagemakerruntime: {
    module: sagemakerRuntime,
    client: SageMakerRuntimeClient as never,
    errorPrefix: 'SageMakerRuntime',
  },
  applicationautoscaling: {
    module: autoscaling,
    client: ApplicationAutoScalingClient as never,
    errorPrefix: 'ApplicationAutoScaling',
  },
  cloudwatch: { module: cloudwatch, client: CloudWatchClient as never, errorPrefix: 'CloudWatch' },
  sns: { module: snsSdk, client: SNSClient as never, errorPrefix: 'Sns' },
};

/** A streamed body (S3 GetObject) as the SDK returns it. */
interface StreamedBody {
  transformToString(encoding?: string): Promise<string>;
}

const isStreamedBody = (v: unknown): v is StreamedBody =>
  typeof v === 'object' && v !== null && typeof (v as StreamedBody).transformToString === 'function';

/** Converts an SDK response to what Step Functions hands the state: JSON, blobs as text, no $metadata. */
async function asStepFunctionsResult(response: Record<string, unknown>): Promise<unknown> {
  const rest = { ...response };
  delete rest.$metadata;
  // Step Functions returns an S3 object's body as text (GetObject results are limited to 256 KiB).
  if (isStreamedBody(rest.Body)) rest.Body = await rest.Body.transformToString('utf-8');
  return JSON.parse(
    JSON.stringify(rest, (_key, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v)),
  );
}

/** Makes the real SDK call a Task state names, against `endpoint`. */
export async function sdkCall(endpoint: string, service: string, action: string, params: unknown): Promise<unknown> {
  const svc = SERVICES[service];
  if (!svc) throw new Error(`no SDK client mapped for service ${service}`);
  const commandName = `${action[0].toUpperCase()}${action.slice(1)}Command`;
  const Command = svc.module[commandName] as (new (input: unknown) => unknown) | undefined;
  if (!Command) throw new Error(`${service} has no ${commandName}`);
  const client = new svc.client({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    ...svc.config,
  });
  try {
    return asStepFunctionsResult(await client.send(new Command(params)));
  } catch (e) {
    const err = e as Error & { $fault?: string };
    if (!err.$fault) throw e;
    // Step Functions names SDK-integration errors "<Service>.<Exception>", adding the "Exception" suffix where
    // the service's error name lacks it (S3 NoSuchBucket is S3.NoSuchBucketException).
    const named = new Error(err.message);
    named.name = `${svc.errorPrefix}.${err.name.endsWith('Exception') ? err.name : `${err.name}Exception`}`;
    throw named;
  }
}

/** Answers (or wraps) one `service:action`; `next` makes the real call against the emulator. */
export type CallOverride = (
  params: Record<string, unknown>,
  next: () => Promise<unknown>,
) => Promise<unknown> | unknown;

/** One Task call as it happened. */
export interface RecordedCall {
  readonly state: string;
  readonly service: string;
  readonly action: string;
  readonly params: Record<string, unknown>;
  readonly result?: unknown;
  readonly error?: string;
  /** True when an override answered without the emulator. */
  readonly overridden: boolean;
}

export interface LocalRunOptions {
  /** Emulator endpoint, e.g. a moto server's `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Per `service:action` answers or wrappers. */
  readonly overrides?: Record<string, CallOverride>;
  /** Execution name and id for `$$.Execution`. */
  readonly executionName?: string;
  /**
   * How long a Wait state with `Seconds` pauses, in milliseconds, given its seconds.
   * @default - no pause: an emulator answers at once
   */
  readonly waitMilliseconds?: (seconds: number) => number;
}

export interface LocalRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  /** Error and cause of a failed execution (the Fail state's, or the uncaught error's). */
  readonly error?: string;
  readonly cause?: string;
  readonly calls: readonly RecordedCall[];
  /** Names of the states entered, in order. */
  readonly path: readonly string[];
}

let runCount = 0;

/** Executes `definition` with `input`; every Task makes its SDK call against `options.endpoint`. */
export async function runLocally(
  definition: StateMachineDefinition,
  input: unknown,
  options: LocalRunOptions,
): Promise<LocalRunResult> {
  const calls: RecordedCall[] = [];
  const handlers: Record<string, (input: unknown) => Promise<never>> = {};
  for (const task of taskStates(definition)) {
    const { service, action } = integrationOf(task.resource);
    handlers[task.name] = (async (params: Record<string, unknown>) => {
      const override = options.overrides?.[`${service}:${action}`];
      let usedEmulator = !override;
      const next = () => {
        usedEmulator = true;
        return sdkCall(options.endpoint, service, action, params);
      };
      try {
        const result = override ? await override(params, next) : await next();
        calls.push({ state: task.name, service, action, params, result, overridden: !usedEmulator });
        return result as never;
      } catch (e) {
        const err = e as Error;
        calls.push({
          state: task.name,
          service,
          action,
          params,
          error: `${err.name}: ${err.message}`,
          overridden: !usedEmulator,
        });
        throw e;
      }
    }) as (input: unknown) => Promise<never>;
  }
  // retry back-offs take no time here; waits only what `waitMilliseconds` says.
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States as unknown as Record<string, Record<string, unknown>>)) {
    if (state.Type === 'Wait') {
      const seconds = typeof state.Seconds === 'number' ? state.Seconds : 0;
      waits[name] = options.waitMilliseconds ? Math.round(options.waitMilliseconds(seconds)) : 0;
    }
    if (Array.isArray(state.Retry)) retries[name] = 0;
  }

  const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  runCount += 1;
  const name = options.executionName ?? `local-${process.pid}-${runCount}`;
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: waits,
      retryIntervalOverrides: retries,
    },
    context: {
      Execution: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:local:${name}`,
        Name: name,
        Input: input as never,
        StartTime: new Date().toISOString(),
      },
    },
  });
  const path: string[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') path.push(event.state.name);
    }
  })();
  try {
    const output = await execution.result;
    await collect;
    return { status: 'SUCCEEDED', output, calls, path };
  } catch (e) {
    await collect.catch(() => undefined);
    if (!(e instanceof ExecutionError)) throw e;
    const cause = (e as Error & { cause?: Error }).cause;
    return { status: 'FAILED', error: cause?.name, cause: cause?.message, calls, path };
  }
}

/** A one-screen account of a run (status, error, the states entered, the calls), for assertion messages. */
export function describeRun(result: LocalRunResult): string {
  const calls = result.calls.map((c) => `  ${c.state}: ${c.service}:${c.action}${c.error ? ` -> ${c.error}` : ''}`);
  return [
    `status ${result.status}${result.error ? ` ${result.error}: ${result.cause}` : ''}`,
    `path: ${result.path.join(' > ')}`,
    'calls:',
    ...calls,
  ].join('\n');
}
