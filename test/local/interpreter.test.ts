import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listRecipeFiles } from '../../lib/config/load-recipes';
import {
  executePipeline,
  StepError,
  type TrainingJobOutcome,
  type TrainingJobRunner,
} from '../../lib/local/interpreter';
import { type SynthesizedRecipe, synthesizeRecipe } from '../../lib/local/synth';
import { Condition, ConditionStep, FailStep, Join, Parameter, PipelineDefinition } from '../../lib/pipeline';
import type { Json } from '../../lib/pipeline/expressions';
import { formatInvalid, validateRequests } from '../support/botocore-shapes';
import { REPO_ROOT } from '../support/python-tools';

/**
 * The pipeline interpreter over the definitions `cdk synth` writes, one synth per shipped recipe (the BucketDeployment
 * files with their deploy-time markers filled). The training job is FAKED here (a function returning a
 * DescribeTrainingJob-shaped outcome): these tests are about the interpreter (branches, skipping, gates, retries);
 * test/local/training-job.test.ts runs a real job.
 */

type Obj = { [key: string]: Json };

const recipeFiles = listRecipeFiles(path.join(REPO_ROOT, 'recipes'));
const synthesized = new Map<string, SynthesizedRecipe>();
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'local-interp-'));
  for (const file of recipeFiles) {
    const rel = path.relative(REPO_ROOT, file);
    synthesized.set(rel, synthesizeRecipe(rel, { outdir: path.join(tmp, path.basename(file)), cwd: REPO_ROOT }));
  }
}, 300_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A job that completes with the given final metrics; records each request. */
function fakeJob(metrics: Record<string, number>, requests: Obj[] = []): TrainingJobRunner {
  return async (_step, request) => {
    requests.push(request);
    const outcome: TrainingJobOutcome = {
      TrainingJobName: String(request.TrainingJobName),
      TrainingJobStatus: 'Completed',
      FinalMetricDataList: Object.entries(metrics).map(([MetricName, Value]) => ({ MetricName, Value })),
      ModelArtifacts: {
        S3ModelArtifacts: `${String((request.OutputDataConfig as Obj).S3OutputPath)}${String(request.TrainingJobName)}/output/model/`,
      },
    };
    return outcome;
  };
}

function statuses(result: { steps: readonly { name: string; status: string }[] }): Record<string, string> {
  return Object.fromEntries(result.steps.map((s) => [s.name, s.status]));
}

describe('every shipped recipe, default parameters', () => {
  it.each(recipeFiles.map((f) => path.relative(REPO_ROOT, f)))(
    '%s runs its default branch and sends a valid job',
    async (rel) => {
      const s = synthesized.get(rel) as SynthesizedRecipe;
      const requests: Obj[] = [];
      const result = await executePipeline(s.definition, { runTrainingJob: fakeJob({ eval_loss: 0.5 }, requests) });
      expect(result.status).toBe('Succeeded');
      const spot = result.parameters.UseSpot === true;
      const st = statuses(result);
      expect(st.SpotOrOnDemand).toBe('Succeeded');
      expect(st[spot ? 'TrainSpot' : 'TrainOnDemand']).toBe('Succeeded');
      expect(st[spot ? 'TrainOnDemand' : 'TrainSpot']).toBe('Skipped');
      expect(requests).toHaveLength(1);
      const request = requests[0];
      expect(request.EnableManagedSpotTraining).toBe(spot);
      // the synthesized channels and entrypoint reach the job, every deploy-time marker filled.
      const channels = (request.InputDataConfig as Obj[]).map((c) => c.ChannelName);
      expect(channels).toEqual(['code', 'recipe', 'training', 'model']);
      expect((request.AlgorithmSpecification as Obj).ContainerEntrypoint).toEqual([
        'python3',
        '/opt/ml/input/data/code/launch.py',
      ]);
      expect(JSON.stringify(request)).not.toMatch(/<<marker|\{"Get"|Std:Join/);
      expect(s.files.map((f) => f.key)).toContain(s.definitionKey);
      const { TrainingJobName, ...rest } = request;
      const results = validateRequests([
        { service: 'sagemaker', operation: 'CreateTrainingJob', params: { TrainingJobName, ...rest }, label: rel },
      ]);
      expect(formatInvalid(results)).toBe('');
    },
  );
});

describe('overrides', () => {
  const lora = 'recipes/gpt-oss-20b-multilingual-lora.yaml';
  const full = 'recipes/gpt-oss-20b-full.yaml';

  it.each([true, false])(
    'UseSpot=%s picks its Training step and skips the other branch with its gate',
    async (useSpot) => {
      const s = synthesized.get(full) as SynthesizedRecipe;
      const requests: Obj[] = [];
      const result = await executePipeline(s.definition, {
        parameters: { UseSpot: useSpot, MaxSteps: 5 },
        runTrainingJob: fakeJob({ eval_loss: 1.0 }, requests),
      });
      expect(result.status).toBe('Succeeded');
      const [run, skip] = useSpot ? ['Spot', 'OnDemand'] : ['OnDemand', 'Spot'];
      const st = statuses(result);
      expect([st[`Train${run}`], st[`QualityGate${run}`], st[`EvalLossTooHigh${run}`]]).toEqual([
        'Succeeded',
        'Succeeded',
        'Skipped',
      ]);
      expect([st[`Train${skip}`], st[`QualityGate${skip}`], st[`EvalLossTooHigh${skip}`]]).toEqual([
        'Skipped',
        'Skipped',
        'Skipped',
      ]);
      const stopping = requests[0].StoppingCondition as Obj;
      expect('MaxWaitTimeInSeconds' in stopping).toBe(useSpot);
      expect((requests[0].HyperParameters as Obj).max_steps).toBe('5');
    },
  );

  it('a quality gate that fails ends the execution Failed with the Fail step message', async () => {
    const s = synthesized.get(full) as SynthesizedRecipe;
    const result = await executePipeline(s.definition, { runTrainingJob: fakeJob({ eval_loss: 2.25 }) });
    expect(result.status).toBe('Failed');
    expect(result.failureReason).toBe(
      'final eval_loss 2.25 is above the quality gate max_eval_loss 1.6 (recipes/gpt-oss-20b-full.yaml: ' +
        'platform.quality_gate.max_eval_loss); the model is not registered',
    );
    expect(statuses(result).EvalLossTooHighOnDemand).toBe('Failed');
  });

  it('the first step refuses a console override the recipe rules refuse: Failed, no training job', async () => {
    // GIVEN the 20b LoRA pipeline WHEN executed with an instance the recipe check rejects (no bf16, too small)
    const s = synthesized.get(lora) as SynthesizedRecipe;
    const requests: Obj[] = [];
    const result = await executePipeline(s.definition, {
      parameters: { TrainingInstanceType: 'ml.p3.2xlarge' },
      runTrainingJob: fakeJob({ eval_loss: 0.5 }, requests),
    });
    // THEN the execution check's Fail step ends it with the finding, and no job was sent
    expect(result.status).toBe('Failed');
    expect(result.failureReason).toMatch(/^execution refused, nothing was started: .*ml\.p3\.2xlarge/s);
    expect(statuses(result).CheckExecution).toBe('Succeeded');
    expect(statuses(result).ExecutionRefused).toBe('Failed');
    expect(requests).toHaveLength(0);
  });

  it('rejects an undeclared parameter and a value of the wrong type, as StartPipelineExecution does', async () => {
    const s = synthesized.get(lora) as SynthesizedRecipe;
    const run = fakeJob({});
    await expect(executePipeline(s.definition, { parameters: { Nope: 1 }, runTrainingJob: run })).rejects.toThrow(
      /parameter Nope: the pipeline declares no such parameter/,
    );
    await expect(executePipeline(s.definition, { parameters: { MaxSteps: 1.5 }, runTrainingJob: run })).rejects.toThrow(
      'parameter MaxSteps: declared Integer, found 1.5',
    );
  });

  it('a job that fails fails the execution with its FailureReason', async () => {
    const s = synthesized.get(lora) as SynthesizedRecipe;
    const result = await executePipeline(s.definition, {
      runTrainingJob: async (_step, request) => ({
        TrainingJobName: String(request.TrainingJobName),
        TrainingJobStatus: 'Failed',
        FailureReason: 'AlgorithmError: no training data',
      }),
    });
    expect(result.status).toBe('Failed');
    expect(result.failureReason).toBe('Step TrainSpot failed: AlgorithmError: no training data');
  });
});

describe('retry policies', () => {
  const s = (): SynthesizedRecipe => synthesized.get('recipes/gpt-oss-20b-multilingual-lora.yaml') as SynthesizedRecipe;

  it('retries a capacity error with the policy interval and backoff, then succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const ok = fakeJob({ eval_loss: 1 });
    const result = await executePipeline(s().definition, {
      sleep: async (seconds) => void waits.push(seconds),
      runTrainingJob: async (step, request) => {
        calls += 1;
        if (calls <= 2) throw new StepError('SageMaker.CAPACITY_ERROR', 'no ml.p5.4xlarge capacity');
        return ok(step, request);
      },
    });
    expect(result.status).toBe('Succeeded');
    expect(result.steps.find((x) => x.name === 'TrainSpot')?.attempts).toBe(3);
    expect(waits).toEqual([300, 600]);
  });

  it('gives up after MaxAttempts retries, and does not retry an unlisted error type', async () => {
    let calls = 0;
    const result = await executePipeline(s().definition, {
      sleep: async () => undefined,
      runTrainingJob: async () => {
        calls += 1;
        throw new StepError('SageMaker.CAPACITY_ERROR', 'still none');
      },
    });
    expect(result.status).toBe('Failed');
    expect(calls).toBe(6); // the first try and 5 retries
    let other = 0;
    const second = await executePipeline(s().definition, {
      sleep: async () => undefined,
      runTrainingJob: async () => {
        other += 1;
        throw new StepError('SageMaker.RESOURCE_LIMIT', 'quota');
      },
    });
    expect(second.failureReason).toBe('Step TrainSpot failed: SageMaker.RESOURCE_LIMIT: quota');
    expect(other).toBe(1);
  });
});

describe('conditions the builder can emit', () => {
  const flag = Parameter.boolean('Flag', { defaultValue: true });
  const name = Parameter.string('Name', { defaultValue: 'b' });
  const fail = (n: string) => new FailStep(n, Join.of('', ['flag was ', flag]));
  const definition = (condition: Condition): Json =>
    new PipelineDefinition({
      parameters: [flag, name],
      steps: [new ConditionStep('Check', { conditions: [condition], elseSteps: [fail('Stop')] })],
    }).toJson();

  it('Not is written with the key Condition (the schema and the SDK), and is evaluated', async () => {
    const not = Condition.not(Condition.equals(flag, true));
    expect(not.toJson()).toEqual({
      Type: 'Not',
      Condition: { Type: 'Equals', LeftValue: { Get: 'Parameters.Flag' }, RightValue: true },
    });
    const run = fakeJob({});
    const r1 = await executePipeline(definition(not), { runTrainingJob: run });
    expect([r1.status, r1.failureReason]).toEqual(['Failed', 'flag was true']);
    const r2 = await executePipeline(definition(not), { parameters: { Flag: false }, runTrainingJob: run });
    expect(r2.status).toBe('Succeeded');
    expect(statuses(r2).Stop).toBe('Skipped');
  });

  it('Or holds when any operand does; an unknown key is an error, as the service rejects it', async () => {
    const or = Condition.or(Condition.equals(name, 'a'), Condition.notEquals(flag, true));
    const run = fakeJob({});
    expect((await executePipeline(definition(or), { runTrainingJob: run })).status).toBe('Failed');
    expect((await executePipeline(definition(or), { parameters: { Name: 'a' }, runTrainingJob: run })).status).toBe(
      'Succeeded',
    );
    const legacy = JSON.parse(
      JSON.stringify(definition(Condition.not(Condition.equals(flag, true)))).replace(
        '"Condition":{"Type":"Equals"',
        '"Expression":{"Type":"Equals"',
      ),
    ) as Json;
    await expect(executePipeline(legacy, { runTrainingJob: run })).rejects.toThrow(
      /a Not condition has no key Expression/,
    );
  });
});
