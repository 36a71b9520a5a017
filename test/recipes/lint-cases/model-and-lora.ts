import { type RuleCase, training } from './rule-case';

/** Lint rule cases: keys as written, the model, LoRA, attention and dtype. */
export const modelAndLoraCases: RuleCase[] = [
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
    what: 'a local path as the base model (jobs only get staged Hub repos)',
    rule: 'base-model-source',
    level: 'error',
    keyPath: 'model_name_or_path',
    message:
      /model_name_or_path: found "\/data\/gpt-oss-20b"; not a Hugging Face Hub id.*write the Hub id, e\.g\. model_name_or_path: openai\/gpt-oss-20b/,
    mutate: (d) => {
      d.model_name_or_path = '/data/gpt-oss-20b';
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
];
