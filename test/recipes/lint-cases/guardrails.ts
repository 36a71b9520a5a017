import type { RuleCase } from './rule-case';
import { training } from './rule-case';

/** Failing cases of the rules that keep recipe content from taking over a job, and of the stage ceilings. */
export const guardrailCases: RuleCase[] = [
  {
    what: 'PYTHONPATH in env',
    rule: 'recipe-env',
    level: 'error',
    keyPath: 'env.PYTHONPATH',
    message:
      /found "\/tmp\/evil"; PYTHONPATH: Python path and startup variables run foreign code.*remove env.PYTHONPATH/,
    mutate: (d) => {
      d.env = { PYTHONPATH: '/tmp/evil' };
    },
  },
  {
    what: 'LD_PRELOAD in env',
    rule: 'recipe-env',
    level: 'error',
    keyPath: 'env.LD_PRELOAD',
    message: /found "\/tmp\/x.so"; LD_PRELOAD: dynamic-linker variables load foreign code/,
    mutate: (d) => {
      d.env = { NCCL_DEBUG: 'INFO', LD_PRELOAD: '/tmp/x.so' };
    },
  },
  {
    what: 'a Hub offline switch in env',
    rule: 'recipe-env',
    level: 'error',
    keyPath: 'env.HF_HUB_OFFLINE',
    message: /HF_HUB_OFFLINE: Hugging Face Hub switches decide where the model comes from/,
    mutate: (d) => {
      d.env = { HF_HUB_OFFLINE: 0 };
    },
  },
  {
    what: 'an unlisted variable in env',
    rule: 'recipe-env',
    level: 'error',
    keyPath: 'env.MY_FLAG',
    message: /MY_FLAG: not in the allowlist.*recipes may set only CUDA_LAUNCH_BLOCKING/,
    mutate: (d) => {
      d.env = { MY_FLAG: '1' };
    },
  },
  {
    what: 'trust_remote_code: true',
    rule: 'trust-remote-code',
    level: 'error',
    keyPath: 'trust_remote_code',
    message: /trust_remote_code: found true; runs Python code from the model repository/,
    mutate: (d) => {
      d.trust_remote_code = true;
    },
  },
  {
    what: 'more instances than the stage allows',
    rule: 'execution-limits',
    level: 'error',
    keyPath: 'platform.training.instance_count',
    message: /found 500; above the stage "dev" ceiling of 4 instances per job; .*guardrails.maxInstanceCount/,
    mutate: (d) => {
      training(d).instance_count = 500;
      training(d).instance_type = 'ml.p5.48xlarge';
      training(d).distribution = 'zero3';
    },
  },
  {
    what: 'a longer runtime than the stage allows',
    rule: 'execution-limits',
    level: 'error',
    keyPath: 'platform.training.max_runtime_seconds',
    message: /found 2419200; above the stage "dev" ceiling of 259200 seconds per job/,
    mutate: (d) => {
      training(d).max_runtime_seconds = 2419200;
      training(d).max_wait_seconds = 2419200;
    },
  },
  {
    what: 'a training image in a foreign account',
    rule: 'training-image',
    level: 'error',
    keyPath: 'platform.training.image_uri',
    message:
      /found "999988887777.dkr.ecr.us-east-1.amazonaws.com\/x:1"; the image is in account 999988887777, neither this account/,
    mutate: (d) => {
      training(d).image_uri = '999988887777.dkr.ecr.us-east-1.amazonaws.com/x:1';
    },
  },
  {
    what: 'a serving image in a foreign account',
    rule: 'serving-image',
    level: 'error',
    keyPath: 'platform.serving.image_uri',
    message: /the image is in account 999988887777, neither this account/,
    mutate: (d) => {
      (d.platform.serving as Record<string, unknown>).image_uri = '999988887777.dkr.ecr.us-east-1.amazonaws.com/vllm:1';
    },
  },
];
