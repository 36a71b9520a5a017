import { type RuleCase, training } from './rule-case';

/** Lint rule cases: spot, run time, instances, distribution, names and memory. */
export const trainingCases: RuleCase[] = [
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
    what: "report_to trackio (TRL's example default), not installed in the training image",
    rule: 'report-to-replaced',
    level: 'warning',
    keyPath: 'report_to',
    message:
      /report_to: found \["trackio"\]; trackio is not installed in the training image; the job reports to MLflow .* or TensorBoard instead; write report_to: tensorboard \(installed: mlflow, tensorboard\), or remove it/,
    mutate: (d) => {
      d.report_to = ['trackio'];
    },
  },
  {
    what: 'a fractional save_steps above 1',
    rule: 'step-intervals',
    level: 'error',
    keyPath: 'save_steps',
    message:
      /save_steps: found 12.5; above 1 save_steps counts steps and transformers refuses a fraction.*write save_steps: 13/,
    mutate: (d) => {
      d.save_steps = 12.5;
    },
  },
  {
    what: 'a fractional warmup_steps above 1',
    rule: 'step-intervals',
    level: 'warning',
    keyPath: 'warmup_steps',
    message: /warmup_steps: found 10.5; .*warms up for 10 steps; write warmup_steps: 10/,
    mutate: (d) => {
      d.warmup_steps = 10.5;
    },
  },
  {
    what: 'fp16 and bf16 together',
    rule: 'training-argument-conflicts',
    level: 'error',
    keyPath: 'fp16',
    message: /fp16: found true; fp16 and bf16 are both set; transformers allows at most one; remove fp16/,
    mutate: (d) => {
      d.fp16 = true;
    },
  },
  {
    what: 'load_best_model_at_end with save and eval strategies that differ',
    rule: 'training-argument-conflicts',
    level: 'error',
    keyPath: 'save_strategy',
    message:
      /save_strategy: found "steps"; load_best_model_at_end needs the save strategy to match eval_strategy \("epoch"\); write save_strategy: epoch/,
    mutate: (d) => {
      d.load_best_model_at_end = true;
    },
  },
  {
    what: 'load_best_model_at_end with save_steps not a multiple of eval_steps',
    rule: 'training-argument-conflicts',
    level: 'error',
    keyPath: 'save_steps',
    message: /save_steps: found 10; .*a multiple of eval_steps \(4\); write save_steps: 12/,
    mutate: (d) => {
      d.load_best_model_at_end = true;
      d.eval_strategy = 'steps';
      d.eval_steps = 4;
    },
  },
  {
    what: 'reduce_lr_on_plateau without evaluation',
    rule: 'training-argument-conflicts',
    level: 'error',
    keyPath: 'lr_scheduler_type',
    message: /lr_scheduler_type: found "reduce_lr_on_plateau"; .*eval_strategy is "no"; write eval_strategy: epoch/,
    mutate: (d) => {
      d.lr_scheduler_type = 'reduce_lr_on_plateau';
      d.eval_strategy = 'no';
    },
  },
];
