import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../lib/config/errors';
import { formatFinding } from '../../lib/recipes/findings';
import { instancePrice } from '../../lib/recipes/instance-catalog';
import { MODEL_CATALOG } from '../../lib/recipes/model-catalog';
import type { AnalyzedRecipe } from '../../lib/recipes/recipe-analysis';
import { estimateServingMemory } from '../../lib/recipes/serving-estimator';
import { DEFAULT_VLLM_IMAGE, planServing, servingImageUri } from '../../lib/recipes/serving-plan';
import { cheapestServingInstances } from '../../lib/recipes/serving-target';
import { validateRecipeFile } from '../../lib/recipes/validate-recipe';
import { testConfig } from '../support/template';
import { analyzedRecipe } from './support';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serving-plan-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads and analyses a recipe through the real loader from YAML text. */
function recipe(name: string, model: string, platform: string): AnalyzedRecipe {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(
    file,
    `model_name_or_path: ${model}\nuse_peft: true\nplatform:\n  training:\n    instance_type: ml.p5.48xlarge\n${platform}`,
  );
  return analyzedRecipe(file, dir);
}

const config = testConfig();
const gpt20b = MODEL_CATALOG['openai/gpt-oss-20b'];
const gpt120b = MODEL_CATALOG['openai/gpt-oss-120b'];

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

  test('approval: auto only in a stage that allows it (default: dev only), else a ConfigError naming stage and recipe', () => {
    const auto = recipe('a4', 'openai/gpt-oss-20b', '  approval: auto\n');
    // GIVEN stage prod (no allowAutoApproval) WHEN planned THEN refused with the file, recipe, stage and the fix
    const prod = testConfig({ stage: 'prod' });
    expect(() => planServing(auto, prod)).toThrow(ConfigError);
    expect(() => planServing(auto, prod)).toThrow(
      `platform.approval: found "auto" in recipe "a4", but stage "prod" does not allow auto-approval`,
    );
    expect(() => planServing(auto, prod)).toThrow(`"allowAutoApproval": true in the config of stage "prod"`);
    // AND a manual recipe in prod plans as before
    expect(planServing(recipe('a5', 'openai/gpt-oss-20b', ''), prod).approvalStatus).toBe('PendingManualApproval');
    // AND a stage that allows it explicitly, or dev by default, registers as Approved
    expect(planServing(auto, testConfig({ stage: 'prod', allowAutoApproval: true })).approvalStatus).toBe('Approved');
    expect(planServing(auto, testConfig({ stage: 'dev' })).approvalStatus).toBe('Approved');
    // AND dev can opt out
    expect(() => planServing(auto, testConfig({ stage: 'dev', allowAutoApproval: false }))).toThrow(/stage "dev"/);
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

  test('refuses to plan a recipe the recipe check refuses (a caller bug, never user input at synth)', () => {
    // GIVEN a CPU serving instance, which the serving-instance rule reports WHEN planned anyway THEN it throws
    expect(() =>
      planServing(recipe('cpu', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.m5.xlarge\n'), config),
    ).toThrow(/cpu\.yaml: cannot plan serving for a recipe the recipe check refuses/);
  });
});

/** The serving findings of the recipe check (lib/recipes/rules/serving-*.ts) for one recipe. */
function servingFindings(name: string, model: string, platform: string): string[] {
  const file = recipe(name, model, platform).file;
  return validateRecipeFile(path.join(dir, file), config, { cwd: dir })
    .findings.filter((f) => f.rule.startsWith('serving-') || f.rule === 'unknown-model')
    .map(formatFinding);
}

describe('what the serving plan cannot be built from is a finding of the recipe check', () => {
  test('merged weights over the vLLM budget, with the numbers', () => {
    // GIVEN gpt-oss-20b on one L40S WHEN checked THEN the error names file, key, sizes
    expect(servingFindings('tight', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.g6e.2xlarge\n')).toEqual([
      expect.stringMatching(
        /^error tight\.yaml:\d+:\d+: platform\.serving\.instance_type: found "ml\.g6e\.2xlarge"; merged bf16 weights 3\d\.\d GiB .* exceeds vLLM's default budget \(40\.5 GiB = 90% of 45 GiB\)/,
      ),
    ]);
  });

  test('GPUs without bf16, non-GPU types and unknown types, with instances that fit', () => {
    // GIVEN three bad instance types WHEN checked THEN each gets its own message
    const [t4] = servingFindings('t4', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.g4dn.12xlarge\n');
    expect(t4).toMatch(
      /found "ml\.g4dn\.12xlarge"; its NVIDIA T4 \(Turing\) has no bf16; .*serves gpt-oss-20b, cheapest first: ml\./,
    );
    const [cpu] = servingFindings('cpu', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.m5.xlarge\n');
    expect(cpu).toMatch(/found "ml\.m5\.xlarge"; not a GPU hosting type \(cpu\)/);
    const [typo] = servingFindings('typo', 'openai/gpt-oss-20b', '  serving:\n    instance_type: ml.g7.12xlarge\n');
    expect(typo).toMatch(/found "ml\.g7\.12xlarge"; unknown instance type/);
  });

  test('a tensor-parallel degree the instance or the model cannot use', () => {
    // GIVEN TP 8 on 4 GPUs, and TP 3 WHEN checked THEN both are explained
    const tp = (n: number) => `  serving:\n    instance_type: ml.g6e.12xlarge\n    tensor_parallel_degree: ${n}\n`;
    expect(servingFindings('tp8', 'openai/gpt-oss-20b', tp(8))).toContainEqual(
      expect.stringContaining('found 8; it exceeds the 4 GPUs of ml.g6e.12xlarge'),
    );
    expect(servingFindings('tp3', 'openai/gpt-oss-20b', tp(3))).toContainEqual(
      expect.stringContaining(
        'found 3; it does not divide the 4 GPUs of ml.g6e.12xlarge and it does not divide the 64 attention heads',
      ),
    );
  });

  test('a public or non-ECR image, and an unknown model without an instance type', () => {
    // GIVEN a public ECR image and a model the catalog does not know WHEN checked THEN both explained
    const pub = servingFindings(
      'pub',
      'openai/gpt-oss-20b',
      '  serving:\n    instance_type: ml.g6e.12xlarge\n    image_uri: public.ecr.aws/vllm/vllm:latest\n',
    );
    expect(pub).toEqual([
      expect.stringMatching(
        /platform\.serving\.image_uri: found "public\.ecr\.aws\/vllm\/vllm:latest"; .*private Amazon ECR/,
      ),
    ]);
    expect(servingFindings('unknown', 'my-org/other', '')).toEqual([
      expect.stringMatching(
        /^error unknown\.yaml:\d+:\d+: model_name_or_path: found "my-org\/other"; not a model this platform knows/,
      ),
    ]);
  });

  test('max_model_len over the model context', () => {
    // GIVEN 262144 tokens WHEN checked THEN the limit is named
    expect(
      servingFindings(
        'long',
        'openai/gpt-oss-20b',
        '  serving:\n    instance_type: ml.p5.48xlarge\n    max_model_len: 262144\n',
      ),
    ).toContain(
      // at the value's line and column
      'error long.yaml:8:20: platform.serving.max_model_len: found 262144; gpt-oss-20b supports at most 131072 tokens; write platform.serving.max_model_len: 131072 or less [serving-max-model-len]',
    );
  });
});
