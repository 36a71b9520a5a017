import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../lib/config/errors';
import { type LoadedRecipe, loadRecipe } from '../../lib/config/load-recipes';
import {
  cheapestServingInstances,
  DEFAULT_VLLM_IMAGE,
  planServing,
  servingImageUri,
} from '../../lib/constructs/serving-plan';
import { instancePrice } from '../../lib/recipes/instance-catalog';
import { MODEL_CATALOG } from '../../lib/recipes/model-catalog';
import { estimateServingMemory } from '../../lib/recipes/serving-estimator';
import { testConfig } from '../support/template';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serving-plan-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads a recipe through the real loader from YAML text. */
function recipe(name: string, model: string, platform: string): LoadedRecipe {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(
    file,
    `model_name_or_path: ${model}\nuse_peft: true\nplatform:\n  training:\n    instance_type: ml.p5.48xlarge\n${platform}`,
  );
  return loadRecipe(file, dir);
}

const config = testConfig();
const gpt20b = MODEL_CATALOG['openai/gpt-oss-20b'];
const gpt120b = MODEL_CATALOG['openai/gpt-oss-120b'];

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('serving instance suggestions (lib/recipes serving estimator)', () => {
  test("are cheapest first and all fit vLLM's default budget with all their GPUs", () => {
    // GIVEN the catalog WHEN asked for each model THEN every suggestion fits, in price order
    for (const model of [gpt20b, gpt120b]) {
      const list = cheapestServingInstances(model, 8192);
      expect(list.length).toBeGreaterThan(2);
      for (const i of list) expect(estimateServingMemory(model, i, i.gpuCount, 8192).fitsDefaultBudget).toBe(true);
      const prices = list.map((i) => instancePrice(i).usdPerHour);
      expect([...prices].sort((x, y) => x - y)).toEqual(prices);
    }
  });

  test('never suggest one GPU for the merged 120b model', () => {
    // GIVEN ~217 GiB of bf16 weights WHEN suggested THEN only multi-GPU instances
    expect(cheapestServingInstances(gpt120b, 8192).every((i) => i.gpuCount >= 4)).toBe(true);
  });
});

describe('planServing', () => {
  test('derives the vLLM engine settings from the serving block', () => {
    // GIVEN a serving block WHEN planned THEN TP defaults to all GPUs and the env carries the settings
    const plan = planServing(
      recipe(
        'lora-20b',
        'openai/gpt-oss-20b',
        '  serving:\n    instance_type: ml.g6e.12xlarge\n    max_model_len: 16384\n    min_instances: 1\n    max_instances: 3\n',
      ),
      config,
    );
    expect(plan).toMatchObject({
      endpointName: 'gptoss-dev-lora-20b',
      modelPackageGroupName: 'gptoss-dev-lora-20b',
      pipelineName: 'gptoss-dev-lora-20b',
      instanceType: 'ml.g6e.12xlarge',
      tensorParallelDegree: 4,
      minInstances: 1,
      maxInstances: 3,
      approvalStatus: 'PendingManualApproval',
      environment: {
        SM_VLLM_MODEL: '/opt/ml/model',
        SM_VLLM_SERVED_MODEL_NAME: 'lora-20b',
        SM_VLLM_TENSOR_PARALLEL_SIZE: '4',
        SM_VLLM_MAX_MODEL_LEN: '16384',
        SM_VLLM_GPU_MEMORY_UTILIZATION: '0.9',
        HF_HUB_OFFLINE: '1',
      },
    });
    expect(plan.resourceBase).toMatch(/^gptoss-dev-lora-20b-[0-9a-f]{8}$/);
    expect(servingImageUri(plan.image, 'eu-west-1', 'amazonaws.com')).toBe(
      `763104351884.dkr.ecr.eu-west-1.amazonaws.com/vllm:${DEFAULT_VLLM_IMAGE.tag}`,
    );
  });

  test('without a serving block, picks the cheapest catalog instance the merged model fits', () => {
    // GIVEN no serving block WHEN planned THEN the instance is the estimator's first choice, all GPUs used
    const plan = planServing(recipe('bare-120b', 'openai/gpt-oss-120b', ''), config);
    const best = cheapestServingInstances(gpt120b, 8192)[0];
    expect(plan.instanceType).toBe(best.instanceType);
    expect(plan.tensorParallelDegree).toBe(best.gpuCount);
    expect(plan.estimate?.fitsDefaultBudget).toBe(true);
  });

  test('approval: the recipe wins over the app config default', () => {
    // GIVEN auto in config and manual/absent in recipes WHEN planned THEN each gets its status
    const auto = testConfig({ defaultApprovalMode: 'auto' });
    expect(planServing(recipe('a1', 'openai/gpt-oss-20b', ''), auto).approvalStatus).toBe('Approved');
    expect(planServing(recipe('a2', 'openai/gpt-oss-20b', '  approval: manual\n'), auto).approvalStatus).toBe(
      'PendingManualApproval',
    );
    expect(planServing(recipe('a3', 'openai/gpt-oss-20b', '  approval: auto\n'), config).approvalStatus).toBe(
      'Approved',
    );
  });

  test('model and config names change with the settings, and stay within SageMaker limits', () => {
    // GIVEN two recipes differing in instance type, and a long name WHEN planned THEN bases differ and fit
    const a = planServing(
      recipe('same', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.g6e.12xlarge\n'),
      config,
    );
    const b = planServing(
      recipe('same', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.p5.4xlarge\n'),
      config,
    );
    expect(a.resourceBase).not.toBe(b.resourceBase);
    const long = planServing(recipe('x'.repeat(50), 'openai/gpt-oss-20b', ''), config);
    expect(long.endpointName).toHaveLength(61);
    expect(`${long.resourceBase}-v123456789`.length).toBeLessThanOrEqual(63);
  });

  test('a custom ECR image is used as given and parsed for the pull permission', () => {
    // GIVEN an ECR image WHEN planned THEN account, region and repository are known
    const plan = planServing(
      recipe(
        'custom',
        'openai/gpt-oss-20b',
        '  serving:\n    instance_type: ml.g6e.12xlarge\n    image_uri: 111122223333.dkr.ecr.us-west-2.amazonaws.com/my/vllm:0.20.2\n',
      ),
      config,
    );
    expect(plan.image).toEqual({
      kind: 'custom',
      uri: '111122223333.dkr.ecr.us-west-2.amazonaws.com/my/vllm:0.20.2',
      account: '111122223333',
      region: 'us-west-2',
      repository: 'my/vllm',
    });
  });

  test('a model outside the catalog is served on the named instance with a warning', () => {
    // GIVEN an unknown base model and an instance type WHEN planned THEN no estimate, one warning
    const plan = planServing(
      recipe('other', 'my-org/llama-merged', '  serving:\n    instance_type: ml.g6e.12xlarge\n'),
      config,
    );
    expect(plan.estimate).toBeUndefined();
    expect(plan.warnings).toEqual([expect.stringContaining('serving memory of ml.g6e.12xlarge was not checked')]);
  });

  test('fails when the merged weights do not fit, with the numbers and instances that fit', () => {
    // GIVEN gpt-oss-20b on one L40S WHEN planned THEN the error names file, key, sizes and alternatives
    const problems = problemsOf(() =>
      planServing(recipe('tight', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.g6e.2xlarge\n'), config),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^platform\.serving\.instance_type: found "ml\.g6e\.2xlarge" with tensor_parallel_degree 1; each GPU needs 4\d\.\d GiB \(3\d\.\d GiB bf16 weights .* vLLM overhead\) but vLLM may use 40\.5 GiB of a NVIDIA L40S: use ml\.g6\.12xlarge, /,
      ),
    ]);
  });

  test('fails for GPUs without bf16, non-GPU types and unknown types', () => {
    // GIVEN three bad instance types WHEN planned THEN each gets its own message
    const t4 = problemsOf(() =>
      planServing(recipe('t4', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.g4dn.12xlarge\n'), config),
    );
    expect(t4[0]).toMatch(/found "ml\.g4dn\.12xlarge" \(NVIDIA T4\); the merged model is bf16, which needs an Ampere/);
    const cpu = problemsOf(() =>
      planServing(recipe('cpu', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.m5.xlarge\n'), config),
    );
    expect(cpu[0]).toMatch(
      /found "ml\.m5\.xlarge"; vLLM needs an NVIDIA GPU endpoint instance type; for gpt-oss-20b try/,
    );
    const unknown = problemsOf(() =>
      planServing(recipe('typo', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.g7.12xlarge\n'), config),
    );
    expect(unknown[0]).toMatch(/found "ml\.g7\.12xlarge"; not in the instance catalog/);
  });

  test('fails for a tensor-parallel degree the instance or the model cannot use', () => {
    // GIVEN TP 8 on 4 GPUs, and TP 3 WHEN planned THEN both are explained
    const tooMany = problemsOf(() =>
      planServing(
        recipe(
          'tp8',
          'openai/gpt-oss-20b',
          '  serving:\n    instance_type: ml.g6e.12xlarge\n    tensor_parallel_degree: 8\n',
        ),
        config,
      ),
    );
    expect(tooMany).toEqual([expect.stringContaining('ml.g6e.12xlarge has 4 GPUs: write 4 or less')]);
    const uneven = problemsOf(() =>
      planServing(
        recipe(
          'tp3',
          'openai/gpt-oss-20b',
          '  serving:\n    instance_type: ml.g6e.12xlarge\n    tensor_parallel_degree: 3\n',
        ),
        config,
      ),
    );
    expect(uneven).toContainEqual(expect.stringContaining('splits the 64 attention heads evenly: use 1, 2, 4 or 8'));
  });

  test('fails for a tensor-parallel degree that does not divide the GPUs', () => {
    // GIVEN TP 8 on an 8-GPU instance, and TP 3 on a 4-GPU one WHEN planned THEN only TP 3 fails
    const ok = recipe(
      'tp2',
      'openai/gpt-oss-120b',
      '  serving:\n    instance_type: ml.p5.48xlarge\n    tensor_parallel_degree: 8\n',
    );
    expect(planServing(ok, config).tensorParallelDegree).toBe(8);
    const bad = problemsOf(() =>
      planServing(
        recipe(
          'tp3x',
          'openai/gpt-oss-20b',
          '  serving:\n    instance_type: ml.g6e.12xlarge\n    tensor_parallel_degree: 3\n',
        ),
        config,
      ),
    );
    expect(bad).toContain(
      'platform.serving.tensor_parallel_degree: found 3; it does not divide the 4 GPUs of ml.g6e.12xlarge: use a divisor of 4, or remove the key',
    );
  });

  test('fails for a public or non-ECR image, and for an unknown model without an instance type', () => {
    // GIVEN a public ECR image and a model the catalog does not know WHEN planned THEN both explained
    const pub = problemsOf(() =>
      planServing(
        recipe(
          'pub',
          'openai/gpt-oss-20b',
          '  serving:\n    instance_type: ml.g6e.12xlarge\n    image_uri: public.ecr.aws/deep-learning-containers/vllm:0.14.0\n',
        ),
        config,
      ),
    );
    expect(pub[0]).toMatch(/^platform\.serving\.image_uri: found .*private ECR repository/);
    const unknown = problemsOf(() => planServing(recipe('unknown', 'my-org/other', ''), config));
    expect(unknown[0]).toMatch(/^platform\.serving\.instance_type: found nothing; model_name_or_path "my-org\/other"/);
  });

  test('fails when max_model_len exceeds the model context', () => {
    // GIVEN 262144 tokens WHEN planned THEN the limit is named
    const problems = problemsOf(() =>
      planServing(
        recipe(
          'long',
          'openai/gpt-oss-20b',
          '  serving:\n    instance_type: ml.p5.48xlarge\n    max_model_len: 262144\n',
        ),
        config,
      ),
    );
    expect(problems[0]).toBe(
      'platform.serving.max_model_len: found 262144; gpt-oss-20b supports at most 131072 tokens',
    );
  });
});
