import { type RuleCase } from './rule-case';

/** Lint rule cases: serving and the quality gate. */
export const servingCases: RuleCase[] = [
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
