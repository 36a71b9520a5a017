import { GPUS, supportsFlashAttention3 } from '../../lib/recipes/gpu-catalog';
import {
  findInstance,
  INSTANCE_CATALOG,
  instancePrice,
  isGpuTrainingInstance,
} from '../../lib/recipes/instance-catalog';
import { resolveLoraTargets } from '../../lib/recipes/lora-targets';
import {
  decoderLayerParameters,
  MODEL_CATALOG,
  requireModel,
  resolveModel,
  totalParameters,
} from '../../lib/recipes/model-catalog';
import { runVenvTool } from '../support/python-tools';

const M20 = MODEL_CATALOG['openai/gpt-oss-20b'];
const M120 = MODEL_CATALOG['openai/gpt-oss-120b'];

describe('model catalog', () => {
  test('parameter counts computed from the architecture match the published totals', () => {
    // GIVEN the config.json facts WHEN parameters are counted THEN they match 21 B / 117 B within 1%
    for (const m of [M20, M120]) {
      const total = totalParameters(m);
      expect(Math.abs(total - m.publishedTotalParams) / m.publishedTotalParams).toBeLessThan(0.01);
    }
    expect(M20).toMatchObject({ numHiddenLayers: 24, numLocalExperts: 32, hiddenSize: 2880, vocabSize: 201088 });
    expect(M120).toMatchObject({ numHiddenLayers: 36, numLocalExperts: 128, numKeyValueHeads: 8, headDim: 64 });
    expect(decoderLayerParameters(M120)).toBeGreaterThan(decoderLayerParameters(M20));
  });

  test('resolves hub ids and paths that contain the model name', () => {
    expect(resolveModel('openai/gpt-oss-20b')).toBe(M20);
    expect(resolveModel('OpenAI/GPT-OSS-120B')).toBe(M120);
    expect(resolveModel('/opt/ml/input/data/model/gpt-oss-120b')).toBe(M120);
    expect(resolveModel('s3://models/gpt-oss-20b/')).toBe(M20);
  });

  test('fails on an unknown model, naming the known ones', () => {
    expect(resolveModel('meta-llama/Llama-3.1-8B')).toBeUndefined();
    expect(resolveModel('gpt-oss-200b')).toBeUndefined();
    expect(resolveModel(undefined)).toBeUndefined();
    expect(() => requireModel('mistralai/Mixtral-8x7B')).toThrow(
      /unknown model "mistralai\/Mixtral-8x7B"; expected one of openai\/gpt-oss-20b, openai\/gpt-oss-120b/,
    );
  });
});

describe('LoRA target resolution', () => {
  const resolve = (targetModules: string[], targetParameters: string[] = [], modulesToSave: string[] = []) =>
    resolveLoraTargets(M20, { usePeft: true, r: 8, targetModules, targetParameters, modulesToSave });

  test('all-linear reaches q/k/v/o_proj of every layer and not the output head', () => {
    const r = resolve(['all-linear']);
    expect(r.adaptedModules).toHaveLength(4 * 24);
    expect(r.adaptedModules).not.toContain('lm_head');
    expect(r.touchesExperts).toBe(false);
    // r × (in + out) per projection: q 2880→4096, k/v 2880→512, o 4096→2880
    expect(r.loraParams).toBe(24 * 8 * (2 * (2880 + 4096) + 2 * (2880 + 512)));
  });

  test('target parameters match by full name or dotted suffix; expert LoRA is r × experts × (in + out)', () => {
    const one = resolve([], ['7.mlp.experts.gate_up_proj']);
    expect(one.adaptedParameters.map((p) => p.name)).toEqual(['model.layers.7.mlp.experts.gate_up_proj']);
    expect(one.loraParams).toBe(8 * 32 * (2880 + 5760));
    expect(one.touchesExperts).toBe(true);
    expect(resolve([], ['mlp.experts.down_proj']).adaptedParameters).toHaveLength(24);
    expect(resolve([], ['40.mlp.experts.down_proj']).unmatchedParameterTargets).toEqual(['40.mlp.experts.down_proj']);
  });

  test('expert tensors in modules_to_save match no module; lm_head does', () => {
    const r = resolve(['all-linear'], [], ['7.mlp.experts.gate_up_proj', 'lm_head']);
    expect(r.unmatchedModulesToSave).toEqual(['7.mlp.experts.gate_up_proj']);
    expect(r.savedModules).toEqual(['lm_head']);
    expect(r.modulesToSaveParams).toBe(201088 * 2880);
  });

  test('a single non-shorthand target module is a full-match regex (TRL collapses one-element lists)', () => {
    expect(resolve(['q_proj']).unmatchedModuleTargets).toEqual(['q_proj']);
    expect(resolve(['.*\\.q_proj']).adaptedModules).toHaveLength(24);
    expect(resolve(['q_proj', 'v_proj']).adaptedModules).toHaveLength(48);
  });
});

describe('instance catalog', () => {
  test('covers the GPU families the recipes use, with GPU counts and memory from the reference table', () => {
    // GIVEN the table of docs/facts/aws.md §3 WHEN looked up THEN the catalog agrees
    const table: [string, number, number][] = [
      ['ml.p4d.24xlarge', 8, 40],
      ['ml.p4de.24xlarge', 8, 80],
      ['ml.p5.4xlarge', 1, 80],
      ['ml.p5.48xlarge', 8, 80],
      ['ml.p5en.48xlarge', 8, 141],
      ['ml.g6e.12xlarge', 4, 48],
      ['ml.g6e.48xlarge', 8, 48],
      ['ml.g5.48xlarge', 8, 24],
    ];
    for (const [type, count, gb] of table) {
      expect(findInstance(type)).toMatchObject({ gpuCount: count, gpu: { nominalMemoryGB: gb } });
    }
    for (const family of ['g5', 'g6', 'g6e']) {
      expect(Object.keys(INSTANCE_CATALOG).filter((t) => t.startsWith(`ml.${family}.`)).length).toBe(8);
    }
    for (const type of ['ml.p5e.48xlarge', 'ml.p6-b200.48xlarge']) expect(findInstance(type)).toBeDefined();
  });

  test('architecture facts: bf16 from Ampere on, FlashAttention-3 on Hopper only', () => {
    expect(GPUS.T4.bf16).toBe(false);
    expect(GPUS.V100_16.bf16).toBe(false);
    expect(GPUS.A10G.bf16).toBe(true);
    expect(
      Object.values(GPUS)
        .filter(supportsFlashAttention3)
        .map((g) => g.model),
    ).toEqual(['NVIDIA H100 80GB', 'NVIDIA H200 141GB']);
  });

  test('every entry has a dated, sourced, indicative price; config overrides win', () => {
    for (const i of Object.values(INSTANCE_CATALOG)) {
      expect(i.price.usdPerHour).toBeGreaterThan(0);
      expect(i.price.priceSource.length).toBeGreaterThan(10);
      expect(i.price.priceDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(i.price.verified).toBe(false);
    }
    const p5 = findInstance('ml.p5.48xlarge')!;
    expect(instancePrice(p5).usdPerHour).toBe(63.3);
    expect(instancePrice(p5, { 'ml.p5.48xlarge': 55 }).usdPerHour).toBe(55);
  });

  test('training and hosting flags agree with the botocore SageMaker service model', () => {
    // GIVEN botocore's TrainingInstanceType / ProductionVariantInstanceType enums (the API's own list)
    const script = [
      'import botocore.session, json',
      "m = botocore.session.get_session().get_service_model('sagemaker')",
      "print(json.dumps({k: m.shape_for(k).enum for k in ['TrainingInstanceType', 'ProductionVariantInstanceType']}))",
    ].join('\n');
    const result = runVenvTool('python', ['-c', script]);
    expect(result.status).toBe(0);
    const enums = JSON.parse(result.stdout) as Record<string, string[]>;
    // THEN every catalog entry's flags match membership
    for (const i of Object.values(INSTANCE_CATALOG)) {
      expect([i.instanceType, enums.TrainingInstanceType.includes(i.instanceType)]).toEqual([
        i.instanceType,
        i.training,
      ]);
      expect([i.instanceType, enums.ProductionVariantInstanceType.includes(i.instanceType)]).toEqual([
        i.instanceType,
        i.hosting,
      ]);
    }
    expect(Object.values(INSTANCE_CATALOG).filter(isGpuTrainingInstance).length).toBeGreaterThan(30);
  });
});
