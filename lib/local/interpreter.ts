import * as crypto from 'node:crypto';
import { handler as executionCheckHandler } from '../constructs/execution-check/handler';
import type { ExecutionCheckEvent } from '../pipeline/execution-check-step';
import type { Json } from '../pipeline/expressions';
import { parameterDefaults, resolveExpressions, type Scalar } from '../pipeline/resolve';
import { evaluateCondition } from './conditions';
import { readStepProperty } from './step-properties';

/**
 * Runs a SageMaker pipeline definition (the JSON synth wrote) on this machine, step by step, the way SageMaker
 * Pipelines does: parameters are their defaults plus the overrides; a step starts once every step it depends on
 * (`DependsOn` and every `Get Steps.<name>...` in its arguments) has finished; the steps of a condition branch
 * not taken are skipped, and so is every step that depends on a skipped one; a Fail step ends the execution as
 * Failed with its message; a step's RetryPolicies re-run it when its error has a listed exception type. Training
 * jobs are run by the caller's {@link TrainingJobRunner} (lib/local/training-job.ts runs a real one).
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-steps.html
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines-retry-policy.html
 */

type Obj = { [key: string]: Json };

/** A step's outcome, as ListPipelineExecutionSteps reports it. */
export type StepStatus = 'Succeeded' | 'Failed' | 'Skipped';

/** What happened to one step. */
export interface StepRecord {
  readonly name: string;
  readonly type: string;
  readonly status: StepStatus;
  /** Attempts made (retries included); 0 for a skipped step. */
  readonly attempts: number;
  /** The step's resolved arguments (a Training step's CreateTrainingJob request, with its job name). */
  readonly request?: Json;
  /** The step's properties (DescribeTrainingJob for a Training step, `Outcome` for a Condition step). */
  readonly properties?: Json;
  readonly failureReason?: string;
  /** Why a step was skipped. */
  readonly skippedBecause?: string;
}

export interface ExecutionResult {
  readonly status: 'Succeeded' | 'Failed';
  /** The Fail step's ErrorMessage, or the failed step's reason. */
  readonly failureReason?: string;
  readonly parameters: Readonly<Record<string, Scalar>>;
  readonly execution: Readonly<Record<string, string>>;
  readonly steps: readonly StepRecord[];
}

/** A training job's outcome: its DescribeTrainingJob fields (the step's properties). */
export interface TrainingJobOutcome {
  readonly TrainingJobName: string;
  readonly TrainingJobStatus: 'Completed' | 'Failed' | 'Stopped';
  readonly FailureReason?: string;
  /** Anything else DescribeTrainingJob returns: ModelArtifacts, FinalMetricDataList, ... */
  readonly [key: string]: Json | undefined;
}

/**
 * Runs one CreateTrainingJob request (already resolved, `TrainingJobName` included) to its end. Throw a
 * {@link StepError} for errors a retry policy can match (e.g. `SageMaker.CAPACITY_ERROR`).
 */
export type TrainingJobRunner = (stepName: string, request: Obj) => Promise<TrainingJobOutcome>;

/** An error with a pipeline exception type, e.g. `SageMaker.CAPACITY_ERROR` (matched by RetryPolicies). */
export class StepError extends Error {
  constructor(
    public readonly exceptionType: string,
    message: string,
  ) {
    super(message);
  }
}

/** Invokes a Lambda step's function with its resolved Arguments as the event; returns the flat result object. */
export type LambdaInvoker = (functionArn: string, event: Obj) => Promise<Obj>;

/**
 * The one function this platform's pipelines invoke, the execution check, run in-process from its handler source
 * (lib/constructs/execution-check/handler.ts is what the deployed function bundles).
 */
const invokeExecutionCheck: LambdaInvoker = async (_functionArn, event) =>
  (await executionCheckHandler(event as unknown as ExecutionCheckEvent)) as unknown as Obj;

export interface ExecuteOptions {
  /** Parameter overrides; the others take their DefaultValue. */
  readonly parameters?: Readonly<Record<string, Scalar>>;
  readonly runTrainingJob: TrainingJobRunner;
  /** Runs Lambda steps. @default - the execution check's handler, in-process */
  readonly invokeLambda?: LambdaInvoker;
  /** Pipeline name (Execution.PipelineName). @default 'local' */
  readonly pipelineName?: string;
  /** Waits between retries; the local run passes a shortened wait. @default - real `setTimeout` */
  readonly sleep?: (seconds: number) => Promise<void>;
  /** Told about each step as it starts and ends (progress output). */
  readonly onStep?: (event: {
    readonly step: string;
    readonly phase: 'start' | 'end';
    readonly record?: StepRecord;
  }) => void;
}

interface FlatStep {
  readonly step: Obj;
  readonly name: string;
  /** The condition step and branch holding this one, e.g. `['SpotOrOnDemand', 'IfSteps']`. */
  readonly parent?: { readonly condition: string; readonly branch: 'IfSteps' | 'ElseSteps' };
}

function isObject(value: Json | undefined): value is Obj {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

function flatten(definition: Json): FlatStep[] {
  const out: FlatStep[] = [];
  const visit = (step: Json, parent?: FlatStep['parent']): void => {
    if (!isObject(step) || typeof step.Name !== 'string')
      throw new Error(`a step has no Name: ${JSON.stringify(step)}`);
    out.push({ step, name: step.Name, parent });
    const args = step.Arguments;
    if (step.Type === 'Condition' && isObject(args)) {
      for (const branch of ['IfSteps', 'ElseSteps'] as const) {
        const nested = args[branch];
        if (Array.isArray(nested)) nested.forEach((s) => visit(s, { condition: step.Name as string, branch }));
      }
    }
  };
  if (!isObject(definition) || !Array.isArray(definition.Steps)) throw new Error('the definition has no Steps list');
  definition.Steps.forEach((s) => visit(s));
  return out;
}

/** Every `Steps.<name>.<path>` a value refers to (nested condition branches excluded: they are steps of their own). */
function stepReferences(value: Json, skipBranches: boolean): { step: string; path: string; full: string }[] {
  const out: { step: string; path: string; full: string }[] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isObject(v)) return;
    if (typeof v.Get === 'string' && Object.keys(v).length === 1) {
      const m = /^Steps\.([A-Za-z0-9\-_]+)\.(.+)$/.exec(v.Get);
      if (m) out.push({ step: m[1], path: m[2], full: v.Get });
      return;
    }
    for (const [k, child] of Object.entries(v))
      if (!(skipBranches && (k === 'IfSteps' || k === 'ElseSteps'))) walk(child);
  };
  walk(value);
  return out;
}

/** Checks each override against its declared parameter, as StartPipelineExecution does. */
function checkParameters(definition: Obj, overrides: Readonly<Record<string, Scalar>>): void {
  const declared = new Map<string, string>();
  for (const p of Array.isArray(definition.Parameters) ? definition.Parameters : []) {
    if (isObject(p) && typeof p.Name === 'string') declared.set(p.Name, String(p.Type));
  }
  for (const [name, value] of Object.entries(overrides)) {
    const type = declared.get(name);
    if (type === undefined) {
      throw new Error(
        `parameter ${name}: the pipeline declares no such parameter (it has ${[...declared.keys()].join(', ')})`,
      );
    }
    const ok =
      (type === 'String' && typeof value === 'string') ||
      (type === 'Integer' && Number.isInteger(value)) ||
      (type === 'Float' && typeof value === 'number') ||
      (type === 'Boolean' && typeof value === 'boolean');
    if (!ok) throw new Error(`parameter ${name}: declared ${type}, found ${JSON.stringify(value)}`);
  }
}

/** A pipeline execution id as SageMaker writes them: 12 lowercase letters and digits. */
function executionId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(crypto.randomBytes(12), (b) => alphabet[b % alphabet.length]).join('');
}

/** A job name as SageMaker Pipelines gives it: `pipelines-<execution id>-<step>-<random>`, at most 63 characters. */
function trainingJobName(execId: string, step: string): string {
  const suffix = crypto.randomBytes(5).toString('hex').slice(0, 10);
  return `pipelines-${execId}-${step.slice(0, 63 - 'pipelines-'.length - execId.length - suffix.length - 2)}-${suffix}`;
}

/** Runs one execution of `definition` to its end. */
export async function executePipeline(definition: Json, options: ExecuteOptions): Promise<ExecutionResult> {
  if (!isObject(definition)) throw new Error('the definition is not a JSON object');
  const overrides = options.parameters ?? {};
  checkParameters(definition, overrides);
  const parameters = { ...parameterDefaults(definition), ...overrides };
  const execId = executionId();
  const pipelineName = options.pipelineName ?? 'local';
  const now = new Date().toISOString();
  const pipelineArn = `arn:aws:sagemaker:us-east-1:123456789012:pipeline/${pipelineName}`;
  const execution = {
    PipelineExecutionId: execId,
    PipelineExecutionArn: `${pipelineArn}/execution/${execId}`,
    PipelineName: pipelineName,
    PipelineArn: pipelineArn,
    StartDateTime: now,
    CurrentDateTime: now,
  };
  const sleep = options.sleep ?? ((s: number) => new Promise<void>((r) => setTimeout(r, s * 1000)));

  const steps = flatten(definition);
  const byName = new Map(steps.map((s) => [s.name, s]));
  const records = new Map<string, StepRecord>();
  const dependencies = (s: FlatStep): string[] => {
    const deps = new Set<string>();
    if (s.parent) deps.add(s.parent.condition);
    for (const d of Array.isArray(s.step.DependsOn) ? s.step.DependsOn : []) deps.add(String(d));
    for (const ref of stepReferences(s.step.Arguments ?? null, true)) deps.add(ref.step);
    for (const d of deps)
      if (!byName.has(d)) throw new Error(`step ${s.name} depends on "${d}", which is not in the pipeline`);
    return [...deps];
  };
  const deps = new Map(steps.map((s) => [s.name, dependencies(s)]));
  const record = (r: StepRecord): void => {
    records.set(r.name, r);
    options.onStep?.({ step: r.name, phase: 'end', record: r });
  };
  const finish = (status: 'Succeeded' | 'Failed', failureReason?: string): ExecutionResult => ({
    status,
    failureReason,
    parameters,
    execution,
    steps: steps.map((s) => records.get(s.name)).filter((r): r is StepRecord => r !== undefined),
  });

  for (;;) {
    const pending = steps.filter((s) => !records.has(s.name));
    if (pending.length === 0) return finish('Succeeded');
    const ready = pending.find((s) => (deps.get(s.name) ?? []).every((d) => records.has(d)));
    if (!ready) throw new Error(`steps ${pending.map((s) => s.name).join(', ')} wait on each other (a cycle)`);
    const { step, name } = ready;
    const type = String(step.Type);
    // a branch not taken, or a dependency that did not run: skipped, as the service does.
    const parentOutcome = ready.parent ? records.get(ready.parent.condition) : undefined;
    if (ready.parent && parentOutcome) {
      const outcome = isObject(parentOutcome.properties) ? parentOutcome.properties.Outcome : undefined;
      const taken = outcome === true ? 'IfSteps' : 'ElseSteps';
      if (parentOutcome.status === 'Skipped' || ready.parent.branch !== taken) {
        record({
          name,
          type,
          status: 'Skipped',
          attempts: 0,
          skippedBecause: `${ready.parent.condition}.${ready.parent.branch} was not taken`,
        });
        continue;
      }
    }
    const skippedDep = (deps.get(name) ?? []).find((d) => records.get(d)?.status === 'Skipped');
    if (skippedDep) {
      record({
        name,
        type,
        status: 'Skipped',
        attempts: 0,
        skippedBecause: `it depends on ${skippedDep}, which was skipped`,
      });
      continue;
    }

    options.onStep?.({ step: name, phase: 'start' });
    const stepValues: Record<string, Scalar> = {};
    for (const ref of stepReferences(step.Arguments ?? null, true)) {
      stepValues[ref.full] = readStepProperty(ref.step, records.get(ref.step)?.properties ?? null, ref.path);
    }
    const resolve = (value: Json): Json =>
      resolveExpressions(value, definition, { parameters, execution, steps: stepValues });
    const args = isObject(step.Arguments) ? step.Arguments : {};

    if (type === 'Condition') {
      const conditions = Array.isArray(args.Conditions) ? args.Conditions : [];
      const outcome = conditions.every((c, i) => evaluateCondition(resolve(c), `step ${name} Conditions[${i}]`));
      record({ name, type, status: 'Succeeded', attempts: 1, properties: { Outcome: outcome } });
    } else if (type === 'Lambda') {
      const event = resolve(args) as Obj;
      const output = await (options.invokeLambda ?? invokeExecutionCheck)(String(step.FunctionArn), event);
      // only the declared outputs are step properties, each of its declared type (the service fails the step otherwise).
      const declared = Array.isArray(step.OutputParameters) ? step.OutputParameters : [];
      const outputs: Obj = {};
      for (const o of declared) {
        const { OutputName, OutputType } = o as { OutputName: string; OutputType: string };
        const value = output[OutputName];
        const expected = OutputType === 'Boolean' ? 'boolean' : OutputType === 'String' ? 'string' : 'number';
        if (typeof value !== expected) {
          const reason = `output ${OutputName}: expected ${OutputType}, the function returned ${JSON.stringify(value)}`;
          record({ name, type, status: 'Failed', attempts: 1, failureReason: reason });
          return finish('Failed', `Step ${name} failed: ${reason}`);
        }
        outputs[OutputName] = value as Json;
      }
      record({ name, type, status: 'Succeeded', attempts: 1, properties: { OutputParameters: outputs } });
    } else if (type === 'Fail') {
      const message = String(resolve(args.ErrorMessage ?? ''));
      record({ name, type, status: 'Failed', attempts: 1, failureReason: message });
      return finish('Failed', message);
    } else if (type === 'Training') {
      const outcome = await runWithRetries(step, sleep, async () => {
        const request = { TrainingJobName: trainingJobName(execId, name), ...(resolve(args) as Obj) };
        return { request, job: await options.runTrainingJob(name, request) };
      });
      if ('error' in outcome) {
        record({ name, type, status: 'Failed', attempts: outcome.attempts, failureReason: outcome.error });
        return finish('Failed', `Step ${name} failed: ${outcome.error}`);
      }
      const { request, job } = outcome.value;
      const ok = job.TrainingJobStatus === 'Completed';
      const reason = ok ? undefined : (job.FailureReason ?? `training job ${job.TrainingJobStatus}`);
      record({
        name,
        type,
        status: ok ? 'Succeeded' : 'Failed',
        attempts: outcome.attempts,
        request,
        properties: job as unknown as Json,
        failureReason: reason,
      });
      if (!ok) return finish('Failed', `Step ${name} failed: ${reason}`);
    } else {
      throw new Error(
        `step ${name}: the local executor does not run ${type} steps (it runs Training, Condition, Lambda and Fail)`,
      );
    }
  }
}

/** Runs `attempt` under the step's RetryPolicies; a StepError of a listed type waits and tries again. */
async function runWithRetries<T>(
  step: Obj,
  sleep: (seconds: number) => Promise<void>,
  attempt: () => Promise<T>,
): Promise<{ value: T; attempts: number } | { error: string; attempts: number }> {
  const policies = (Array.isArray(step.RetryPolicies) ? step.RetryPolicies : []).filter(isObject);
  const retriesUsed = new Map<Obj, number>();
  for (let attempts = 1; ; attempts++) {
    try {
      return { value: await attempt(), attempts };
    } catch (e) {
      if (!(e instanceof StepError)) throw e;
      const policy = policies.find((p) => Array.isArray(p.ExceptionType) && p.ExceptionType.includes(e.exceptionType));
      const used = policy ? (retriesUsed.get(policy) ?? 0) : 0;
      if (!policy || used >= Number(policy.MaxAttempts ?? 0)) {
        return { error: `${e.exceptionType}: ${e.message}`, attempts };
      }
      retriesUsed.set(policy, used + 1);
      // interval * backoff^(retry - 1), as the retry policy documents.
      await sleep(Number(policy.IntervalSeconds ?? 1) * Number(policy.BackoffRate ?? 1) ** used);
    }
  }
}
