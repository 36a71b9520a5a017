import { TRAINING_LIBRARY_VERSIONS } from '../../lib/config/recipe-schema';
import { formatFinding } from '../../lib/recipes/findings';
import { LINT_RULES } from '../../lib/recipes/rules';
import { compareVersions, PEFT_ZERO3_PARAMWRAPPER_FIX } from '../../lib/recipes/rules/expert-lora-zero3';
import { findingsOf, goodRecipe, type TestRecipe, validate } from './support';

interface RuleCase {
  /** What the case breaks, for the test name. */
  readonly what: string;
  readonly rule: string;
  readonly level: 'error' | 'warning';
  readonly keyPath: string;
  /** Matched against the whole formatted finding: file, key, found value, message and fix. */
  readonly message: RegExp;
  readonly mutate: (doc: TestRecipe) => void;
  readonly name?: string;
  readonly peftVersion?: string;
}

const training = (doc: TestRecipe) => doc.platform.training;

const CASES: RuleCase[] = [
  {
    what: 'max_seq_length instead of max_length',
    rule: 'max-seq-length',
    level: 'error',
    keyPath: 'max_seq_length',
    message: /max_seq_length: found 2048; .*not a field of TRL's SFTConfig.*write max_length: 2048 instead/,
    mutate: (d) => {
      delete d.max_length;
      d.max_seq_length = 2048;
    },
  },
  {
    what: 'the old name warmup_ratio',
    rule: 'renamed-key',
    level: 'warning',
    keyPath: 'warmup_ratio',
    message: /warmup_ratio: found 0.03; .*renamed to warmup_steps.*write warmup_steps: 0.03 instead/,
    mutate: (d) => {
      delete d.warmup_steps;
      d.warmup_ratio = 0.03;
    },
  },
  {
    what: 'both torch_dtype and dtype',
    rule: 'renamed-key',
    level: 'error',
    keyPath: 'torch_dtype',
    message:
      /torch_dtype: found "bfloat16"; both torch_dtype and its new name dtype .*remove torch_dtype and keep dtype/,
    mutate: (d) => {
      d.torch_dtype = 'bfloat16';
    },
  },
  {
    what: 'a model outside the catalog',
    rule: 'unknown-model',
    level: 'error',
    keyPath: 'model_name_or_path',
    message:
      /model_name_or_path: found "meta-llama\/Llama-3.1-8B"; not a model this platform knows.*write model_name_or_path: openai\/gpt-oss-20b or openai\/gpt-oss-120b/,
    mutate: (d) => {
      d.model_name_or_path = 'meta-llama/Llama-3.1-8B';
    },
  },
  {
    what: 'no dtype (TRL loads float32)',
    rule: 'dtype-float32',
    level: 'warning',
    keyPath: 'dtype',
    message: /dtype: found nothing \(TRL default "float32"\); .*write dtype: bfloat16/,
    mutate: (d) => {
      delete d.dtype;
    },
  },
  {
    what: 'expert tensors in lora_modules_to_save',
    rule: 'expert-params-in-modules-to-save',
    level: 'error',
    keyPath: 'lora_modules_to_save',
    message:
      /lora_modules_to_save: found \["15.mlp.experts.gate_up_proj"\]; .*nn.Parameter\), not modules.*move them to lora_target_parameters: \["15.mlp.experts.gate_up_proj"\]/,
    mutate: (d) => {
      d.lora_modules_to_save = ['15.mlp.experts.gate_up_proj'];
    },
  },
  {
    what: 'experts named as a target module',
    rule: 'lora-target-modules',
    level: 'error',
    keyPath: 'lora_target_modules',
    message:
      /lora_target_modules: found \["experts"\]; .*PEFT rejects or skips them.*target them with lora_target_parameters/,
    mutate: (d) => {
      d.lora_target_modules = ['q_proj', 'v_proj', 'experts'];
    },
  },
  {
    what: 'non-zero lora_dropout with lora_target_parameters',
    rule: 'target-parameters-dropout',
    level: 'error',
    keyPath: 'lora_dropout',
    message: /lora_dropout: found 0.05; .*does not support dropout.*write lora_dropout: 0.0/,
    mutate: (d) => {
      d.lora_dropout = 0.05;
    },
  },
  {
    what: 'lora_dropout left at TRL default with lora_target_parameters',
    rule: 'target-parameters-dropout',
    level: 'error',
    keyPath: 'lora_dropout',
    message: /lora_dropout: found nothing \(TRL default 0.05\); .*write lora_dropout: 0.0/,
    mutate: (d) => {
      delete d.lora_dropout;
    },
  },
  {
    what: 'a layer index the 20b model does not have',
    rule: 'target-parameters-unmatched',
    level: 'error',
    keyPath: 'lora_target_parameters',
    message:
      /lora_target_parameters: found \["30.mlp.experts.gate_up_proj"\]; match no parameter of gpt-oss-20b \(layers 0-23/,
    mutate: (d) => {
      d.lora_target_parameters = ['7.mlp.experts.down_proj', '30.mlp.experts.gate_up_proj'];
    },
  },
  {
    what: 'lora keys without use_peft',
    rule: 'lora-without-use-peft',
    level: 'warning',
    keyPath: 'use_peft',
    message:
      /use_peft: found nothing; lora_target_modules, lora_target_parameters, lora_r, lora_alpha are set but use_peft is not true.*full fine-tune.*write use_peft: true/,
    mutate: (d) => {
      delete d.use_peft;
    },
  },
  {
    what: 'expert LoRA under ZeRO-3 with a PEFT lacking peft#3576',
    rule: 'expert-lora-zero3',
    level: 'error',
    keyPath: 'platform.training.distribution',
    message:
      /platform.training.distribution: found "zero3"; .*PEFT 0.20.0 \(peft#2916.*peft#3576, released in 0.21.0\).*pin peft>=0.21.0/,
    mutate: (d) => {
      training(d).instance_type = 'ml.p5.48xlarge';
      training(d).distribution = 'zero3';
    },
    peftVersion: '0.20.0',
  },
  {
    what: 'the FlashAttention-3 kernel on an A100',
    rule: 'attention-implementation',
    level: 'error',
    keyPath: 'attn_implementation',
    message:
      /attn_implementation: found "kernels-community\/vllm-flash-attn3"; .*no backward pass for GPT-OSS attention sinks.*Hopper only \(this instance: NVIDIA A100 80GB, Ampere, not Hopper\); write attn_implementation: eager/,
    mutate: (d) => {
      d.attn_implementation = 'kernels-community/vllm-flash-attn3';
      training(d).instance_type = 'ml.p4de.24xlarge';
      training(d).distribution = 'ddp';
    },
  },
  {
    what: 'flash_attention_2',
    rule: 'attention-implementation',
    level: 'error',
    keyPath: 'attn_implementation',
    message: /attn_implementation: found "flash_attention_2"; .*no backward pass.*write attn_implementation: eager/,
    mutate: (d) => {
      d.attn_implementation = 'flash_attention_2';
    },
  },
  {
    what: 'sdpa',
    rule: 'attention-implementation',
    level: 'error',
    keyPath: 'attn_implementation',
    message:
      /attn_implementation: found "sdpa"; transformers does not support SDPA for GPT-OSS.*write attn_implementation: eager/,
    mutate: (d) => {
      d.attn_implementation = 'sdpa';
    },
  },
  {
    what: 'bf16 on T4 GPUs',
    rule: 'bf16-unsupported',
    level: 'error',
    keyPath: 'bf16',
    message: /bf16: found true; ml.g4dn.12xlarge has NVIDIA T4 \(Turing\) GPUs without bf16 support.*Ampere-or-newer/,
    mutate: (d) => {
      training(d).instance_type = 'ml.g4dn.12xlarge';
    },
  },
  {
    what: 'bf16 dtype on V100 GPUs',
    rule: 'bf16-unsupported',
    level: 'error',
    keyPath: 'dtype',
    message: /dtype: found "bfloat16"; ml.p3.2xlarge has NVIDIA V100 16GB \(Volta\)/,
    mutate: (d) => {
      training(d).instance_type = 'ml.p3.2xlarge';
    },
  },
  {
    what: 'spot without checkpoint sync',
    rule: 'spot-without-checkpoints',
    level: 'error',
    keyPath: 'platform.training.checkpoints',
    message:
      /platform.training.checkpoints: found false; .*restarts an interrupted job from step 0; write platform.training.checkpoints: true/,
    mutate: (d) => {
      training(d).checkpoints = false;
    },
  },
  {
    what: 'spot with save_strategy no',
    rule: 'spot-without-checkpoints',
    level: 'error',
    keyPath: 'save_strategy',
    message: /save_strategy: found "no"; .*writes no checkpoint.*write save_strategy: steps/,
    mutate: (d) => {
      d.save_strategy = 'no';
    },
  },
  {
    what: 'spot without max wait',
    rule: 'spot-max-wait',
    level: 'error',
    keyPath: 'platform.training.max_wait_seconds',
    message:
      /platform.training.max_wait_seconds: found nothing; .*write platform.training.max_wait_seconds: 28800 \(at least max_runtime_seconds: 14400\)/,
    mutate: (d) => {
      delete training(d).max_wait_seconds;
    },
  },
  {
    what: 'spot with max wait below max runtime',
    rule: 'spot-max-wait',
    level: 'error',
    keyPath: 'platform.training.max_wait_seconds',
    message:
      /platform.training.max_wait_seconds: found 3600; max wait is below max_runtime_seconds \(14400\).*write platform.training.max_wait_seconds: 28800/,
    mutate: (d) => {
      training(d).max_wait_seconds = 3600;
    },
  },
  {
    what: 'spot off with a max wait below max runtime (the MaxWaitSeconds default of a spot execution)',
    rule: 'spot-max-wait',
    level: 'error',
    keyPath: 'platform.training.max_wait_seconds',
    message:
      /found 3600; max wait is below max_runtime_seconds \(14400\).*MaxWaitSeconds default.*write platform.training.max_wait_seconds: 28800 \(≥ 14400\), or remove it/,
    mutate: (d) => {
      training(d).spot = false;
      training(d).max_wait_seconds = 3600;
    },
  },
  {
    what: 'max wait without spot',
    rule: 'max-wait-without-spot',
    level: 'warning',
    keyPath: 'platform.training.max_wait_seconds',
    message:
      /platform.training.max_wait_seconds: found 28800; max_wait_seconds only applies to managed spot training.*write platform.training.spot: true/,
    mutate: (d) => {
      training(d).spot = false;
    },
  },
  {
    what: 'a CPU instance',
    rule: 'training-instance',
    level: 'error',
    keyPath: 'platform.training.instance_type',
    message:
      /platform.training.instance_type: found "ml.m5.xlarge"; not a GPU training type \(cpu\).*write a GPU training type/,
    mutate: (d) => {
      training(d).instance_type = 'ml.m5.xlarge';
    },
  },
  {
    what: 'a Trainium instance',
    rule: 'training-instance',
    level: 'error',
    keyPath: 'platform.training.instance_type',
    message: /found "ml.trn1.32xlarge"; not a GPU training type \(trainium\)/,
    mutate: (d) => {
      training(d).instance_type = 'ml.trn1.32xlarge';
    },
  },
  {
    what: 'an inference-only instance',
    rule: 'training-instance',
    level: 'error',
    keyPath: 'platform.training.instance_type',
    message: /found "ml.inf2.xlarge"; not a SageMaker training instance type/,
    mutate: (d) => {
      training(d).instance_type = 'ml.inf2.xlarge';
    },
  },
  {
    what: 'an unknown instance type',
    rule: 'training-instance',
    level: 'error',
    keyPath: 'platform.training.instance_type',
    message: /found "ml.p9.48xlarge"; unknown instance type/,
    mutate: (d) => {
      training(d).instance_type = 'ml.p9.48xlarge';
    },
  },
  {
    what: 'zero3 on one GPU in total',
    rule: 'distribution-one-gpu',
    level: 'warning',
    keyPath: 'platform.training.distribution',
    message: /found "zero3"; ml.p5.4xlarge × 1 has one GPU.*write platform.training.distribution: single-gpu/,
    mutate: (d) => {
      training(d).distribution = 'zero3';
    },
  },
  {
    what: 'single-gpu on an 8-GPU instance',
    rule: 'single-gpu-on-multi-gpu',
    level: 'warning',
    keyPath: 'platform.training.distribution',
    message:
      /found "single-gpu"; ml.p5.48xlarge has 8 GPUs but single-gpu trains on one; the other 7 are paid for and idle/,
    mutate: (d) => {
      training(d).instance_type = 'ml.p5.48xlarge';
    },
  },
  {
    what: 'two instances with single-gpu',
    rule: 'multi-node-distribution',
    level: 'error',
    keyPath: 'platform.training.distribution',
    message:
      /found "single-gpu"; instance_count is 2 but single-gpu runs one process.*write platform.training.distribution: zero3/,
    mutate: (d) => {
      training(d).instance_count = 2;
    },
  },
  {
    what: 'multi-node on an instance without EFA',
    rule: 'multi-node-efa',
    level: 'warning',
    keyPath: 'platform.training.instance_type',
    message:
      /found "ml.g6e.12xlarge"; multi-node training \(instance_count 2\) on an instance without EFA.*ml.p5.48xlarge/,
    mutate: (d) => {
      training(d).instance_type = 'ml.g6e.12xlarge';
      training(d).instance_count = 2;
      training(d).distribution = 'zero3';
      delete d.lora_target_parameters;
    },
  },
  {
    what: 'an underscore in the file name',
    rule: 'resource-names',
    level: 'error',
    keyPath: '(file name)',
    message:
      /\(file name\): found "my_recipe"; .*must be lowercase letters, digits and inner hyphens.*rename the file to my-recipe.yaml/,
    mutate: () => undefined,
    name: 'my_recipe',
  },
  {
    what: 'a file name too long for an endpoint name',
    rule: 'resource-names',
    level: 'error',
    keyPath: '(file name)',
    message:
      /the model package group and endpoint names are 70 characters; SageMaker allows 63; shorten the file name to at most 52 characters \(the prefix "gptoss-dev-" takes the rest\)/,
    mutate: () => undefined,
    name: 'a'.repeat(59),
  },
  {
    what: 'a model too large for the GPU',
    rule: 'gpu-memory',
    level: 'error',
    keyPath: 'platform.training.instance_type',
    message:
      /found "ml.g6.xlarge"; estimated peak 4\d.\d GiB per GPU exceeds the 22.5 GiB of its NVIDIA L4 \(base weights \(frozen\) 39.0 GiB.*write platform.training.instance_type: ml.p5.4xlarge \(est. 4\d.\d of 79.6 GiB, \$7.91\/h\)/,
    mutate: (d) => {
      training(d).instance_type = 'ml.g6.xlarge';
    },
  },
  {
    what: 'a batch that leaves under 10% headroom',
    rule: 'gpu-memory',
    level: 'warning',
    keyPath: 'platform.training.instance_type',
    message:
      /found "ml.p5.4xlarge"; estimated peak 7\d.\d GiB per GPU is over 90% of the 79.6 GiB available \(base weights \(frozen\) 39.0 GiB, eager attention scores 24.0 GiB/,
    mutate: (d) => {
      d.per_device_train_batch_size = 4;
      d.max_length = 4096;
    },
  },
  {
    what: 'offloaded ZeRO-3 state larger than host RAM',
    rule: 'host-memory',
    level: 'error',
    keyPath: 'platform.training.distribution',
    message:
      /found "zero3-offload"; estimated host RAM for training 1\d{3}.\d GiB per instance .*exceeds the 1152 GiB of ml.p4de.24xlarge/,
    mutate: (d) => {
      d.model_name_or_path = 'openai/gpt-oss-120b';
      d.use_peft = false;
      for (const k of ['lora_target_modules', 'lora_target_parameters', 'lora_r', 'lora_alpha']) delete d[k];
      training(d).instance_type = 'ml.p4de.24xlarge';
      training(d).distribution = 'zero3-offload';
    },
  },
  {
    what: 'a LoRA merge larger than host RAM',
    rule: 'host-memory',
    level: 'warning',
    keyPath: 'merge_adapter',
    message:
      /merge_adapter: found true; the LoRA merge builds the 39.0 GiB bf16 model in host RAM, more than the 32 GiB of ml.g6e.xlarge/,
    mutate: (d) => {
      training(d).instance_type = 'ml.g6e.xlarge';
    },
  },
  {
    what: 'a max runtime shorter than the estimated run',
    rule: 'max-runtime',
    level: 'warning',
    keyPath: 'platform.training.max_runtime_seconds',
    message:
      /platform.training.max_runtime_seconds: found 600; the run is estimated at 0.\d h, longer than the max runtime \(0.2 h\)/,
    mutate: (d) => {
      training(d).max_runtime_seconds = 600;
      training(d).max_wait_seconds = 1200;
    },
  },
  {
    what: 'a CPU serving instance',
    rule: 'serving-instance',
    level: 'error',
    keyPath: 'platform.serving.instance_type',
    message: /platform.serving.instance_type: found "ml.m5.xlarge"; not a GPU hosting type \(cpu\)/,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.m5.xlarge' };
    },
  },
  {
    what: 'a training-only type for serving',
    rule: 'serving-instance',
    level: 'error',
    keyPath: 'platform.serving.instance_type',
    message: /found "ml.p3dn.24xlarge"; not a SageMaker endpoint instance type/,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.p3dn.24xlarge' };
    },
  },
  {
    what: 'a TP degree that does not divide the GPUs',
    rule: 'serving-tensor-parallel',
    level: 'error',
    keyPath: 'platform.serving.tensor_parallel_degree',
    message:
      /tensor_parallel_degree: found 3; it does not divide the 4 GPUs of ml.g5.12xlarge.*write platform.serving.tensor_parallel_degree: 4 \(valid here: 1, 2, 4\)/,
    mutate: (d) => {
      (d.platform.serving as Record<string, unknown>).tensor_parallel_degree = 3;
    },
  },
  {
    what: 'a TP degree above the GPU count',
    rule: 'serving-tensor-parallel',
    level: 'error',
    keyPath: 'platform.serving.tensor_parallel_degree',
    message: /found 8; it exceeds the 4 GPUs of ml.g5.12xlarge/,
    mutate: (d) => {
      (d.platform.serving as Record<string, unknown>).tensor_parallel_degree = 8;
    },
  },
  {
    what: 'a merged model that does not fit the serving GPUs',
    rule: 'serving-memory',
    level: 'error',
    keyPath: 'platform.serving.instance_type',
    message:
      /found "ml.g5.xlarge"; merged bf16 weights 39.0 GiB \+ KV cache .* does not fit the 22.5 GiB of a NVIDIA A10G/,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.g5.xlarge' };
    },
  },
  {
    what: 'a merged model over vLLM default budget',
    rule: 'serving-memory',
    level: 'error',
    keyPath: 'platform.serving.instance_type',
    message: /found "ml.g6e.2xlarge"; .* exceeds vLLM's default budget \(40.5 GiB = 90% of 45 GiB\)/,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.g6e.2xlarge' };
    },
  },
  {
    what: 'a serving GPU without bf16',
    rule: 'serving-instance',
    level: 'error',
    keyPath: 'platform.serving.instance_type',
    message:
      /found "ml.g4dn.12xlarge"; its NVIDIA T4 \(Turing\) has no bf16; .*serves gpt-oss-20b, cheapest first: ml\./,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.g4dn.12xlarge' };
    },
  },
  {
    what: 'a max_model_len over the model context',
    rule: 'serving-max-model-len',
    level: 'error',
    keyPath: 'platform.serving.max_model_len',
    message: /found 262144; gpt-oss-20b supports at most 131072 tokens; write platform.serving.max_model_len: 131072/,
    mutate: (d) => {
      d.platform.serving = { instance_type: 'ml.p5.48xlarge', max_model_len: 262144 };
    },
  },
  {
    what: 'a public serving image',
    rule: 'serving-image',
    level: 'error',
    keyPath: 'platform.serving.image_uri',
    message: /found "public.ecr.aws\/vllm\/vllm:latest"; .*private Amazon ECR repository; write "<account>.dkr.ecr/,
    mutate: (d) => {
      (d.platform.serving as Record<string, unknown>).image_uri = 'public.ecr.aws/vllm/vllm:latest';
    },
  },
  {
    what: 'a Docker Hub training image',
    rule: 'training-image',
    level: 'error',
    keyPath: 'platform.training.image_uri',
    message: /found "pytorch\/pytorch:latest"; not an Amazon ECR image URI/,
    mutate: (d) => {
      training(d).image_uri = 'pytorch/pytorch:latest';
    },
  },
  {
    what: 'a quality gate with no evaluation split',
    rule: 'quality-gate-without-eval',
    level: 'error',
    keyPath: 'eval_split_size',
    message: /eval_split_size: found 0; .*no rows are held out.*write eval_split_size: 0.1/,
    mutate: (d) => {
      d.eval_split_size = 0;
    },
  },
  {
    what: 'a quality gate with the default eval_strategy',
    rule: 'quality-gate-without-eval',
    level: 'error',
    keyPath: 'eval_strategy',
    message: /eval_strategy: found nothing \(default "no"\); .*evaluation never runs.*write eval_strategy: epoch/,
    mutate: (d) => {
      delete d.eval_strategy;
    },
  },
];

describe('recipe lint rules', () => {
  test('the good recipe has no finding at all', () => {
    // GIVEN a recipe that follows every rule WHEN it is validated
    const v = validate(goodRecipe());
    // THEN it is valid with no errors or warnings
    expect(v.findings.map(formatFinding)).toEqual([]);
    expect(v.valid).toBe(true);
  });

  test('every rule has a failing case below', () => {
    const covered = new Set(CASES.map((c) => c.rule));
    expect(LINT_RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  describe.each(CASES)('$rule: $what', (c) => {
    test('passes on the good recipe', () => {
      // GIVEN the good recipe (same file name and PEFT version as the failing case)
      const v = validate(goodRecipe(), 'good-recipe', { peftVersion: c.peftVersion });
      // THEN the rule reports nothing
      expect(findingsOf(v, c.rule)).toEqual([]);
    });

    test(`fails with a ${c.level} naming file, key, value and fix`, () => {
      // GIVEN the good recipe with one mistake
      const doc = goodRecipe();
      c.mutate(doc);
      // WHEN it is validated
      const v = validate(doc, c.name ?? 'good-recipe', { peftVersion: c.peftVersion });
      // THEN the rule reports it with the expected level, key path and text
      const hits = findingsOf(v, c.rule).filter((f) => f.keyPath === c.keyPath && f.level === c.level);
      expect(hits).toHaveLength(1);
      const line = formatFinding(hits[0]);
      expect(line).toContain(`${c.name ?? 'good-recipe'}.yaml: ${c.keyPath}: `);
      expect(line).toMatch(c.message);
      expect(v.valid).toBe(c.level === 'warning' ? v.findings.every((f) => f.level !== 'error') : false);
    });
  });
});

describe('expert LoRA under ZeRO-3 follows the pinned PEFT version', () => {
  const zero3ExpertLora = () => {
    const doc = goodRecipe();
    doc.platform.training.instance_type = 'ml.p5.48xlarge';
    doc.platform.training.distribution = 'zero3';
    return doc;
  };

  test('fails with a PEFT release before peft#3576', () => {
    expect(findingsOf(validate(zero3ExpertLora(), 'x', { peftVersion: '0.18.1' }), 'expert-lora-zero3')).toHaveLength(
      1,
    );
  });

  test('passes with the first release that has peft#3576 and with the pinned version', () => {
    expect(PEFT_ZERO3_PARAMWRAPPER_FIX).toBe('0.21.0');
    expect(findingsOf(validate(zero3ExpertLora(), 'x', { peftVersion: '0.21.0' }), 'expert-lora-zero3')).toEqual([]);
    // the default is the version the training image pins (read from the generated field list)
    expect(TRAINING_LIBRARY_VERSIONS.peft).toMatch(/^\d+\.\d+\.\d+/);
    const pinned = findingsOf(validate(zero3ExpertLora()), 'expert-lora-zero3');
    expect(pinned).toHaveLength(compareVersions(TRAINING_LIBRARY_VERSIONS.peft, '0.21.0') < 0 ? 1 : 0);
  });

  test('passes for attention-only LoRA under ZeRO-3 even with an old PEFT', () => {
    const doc = zero3ExpertLora();
    delete doc.lora_target_parameters;
    expect(findingsOf(validate(doc, 'x', { peftVersion: '0.17.0' }), 'expert-lora-zero3')).toEqual([]);
  });

  test('compares versions numerically', () => {
    expect(compareVersions('0.21.2', '0.21.0')).toBeGreaterThan(0);
    expect(compareVersions('0.9.0', '0.21.0')).toBeLessThan(0);
    expect(compareVersions('0.21', '0.21.0')).toBe(0);
  });
});

describe('all findings of a file are reported at once', () => {
  test('fails with every mistake of a file listed, schema problems included', () => {
    // GIVEN a recipe with a misspelt key and five rule violations
    const doc = goodRecipe();
    doc.lerning_rate = 1e-4;
    doc.max_seq_length = 4096;
    doc.lora_dropout = 0.1;
    doc.attn_implementation = 'flash_attention_2';
    doc.platform.training.checkpoints = false;
    doc.eval_split_size = 0;
    // WHEN it is validated
    const v = validate(doc);
    // THEN each one is a separate error
    const rules = v.findings.filter((f) => f.level === 'error').map((f) => f.rule);
    expect(rules).toEqual(
      expect.arrayContaining([
        'schema',
        'max-seq-length',
        'target-parameters-dropout',
        'attention-implementation',
        'spot-without-checkpoints',
        'quality-gate-without-eval',
      ]),
    );
    expect(v.findings.find((f) => f.rule === 'schema')?.keyPath).toBe('lerning_rate');
    // max_seq_length is explained by its rule, not repeated as an unknown key
    expect(v.findings.filter((f) => f.keyPath === 'max_seq_length')).toHaveLength(1);
    expect(v.valid).toBe(false);
  });
});

describe('hyphenated instance families', () => {
  test('ml.p6-b200.48xlarge passes the schema and the instance rules', () => {
    // GIVEN a recipe on the Blackwell instance, whose family name has a hyphen
    const doc = goodRecipe();
    doc.platform.training.instance_type = 'ml.p6-b200.48xlarge';
    doc.platform.training.distribution = 'ddp';
    // WHEN validated THEN the schema accepts it and it is known to the catalog
    const v = validate(doc);
    expect(v.findings.filter((f) => f.rule === 'schema' || f.rule === 'training-instance')).toEqual([]);
    expect(v.analysis?.instance?.gpu?.architecture).toBe('Blackwell');
  });
});
