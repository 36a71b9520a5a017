/**
 * The NVIDIA GPUs of the instance catalog (./instance-catalog.ts): memory, architecture, bf16 support and the
 * relative throughput the run estimator uses. Sources and confidence are described in ./instance-catalog.ts.
 */

export type GpuArchitecture = 'Volta' | 'Turing' | 'Ampere' | 'Ada' | 'Hopper' | 'Blackwell';

export interface GpuSpec {
  readonly model: string;
  readonly architecture: GpuArchitecture;
  /** Marketing capacity, GB. */
  readonly nominalMemoryGB: number;
  /** Capacity the CUDA driver reports, GiB: what a process can allocate into (before CUDA's own context). */
  readonly memoryGiB: number;
  /** bfloat16 tensor-core support (Ampere and newer). */
  readonly bf16: boolean;
  /**
   * Training tokens/s relative to one H100 on this platform's stack (eager attention, transformers MoE, bf16).
   * An assumption from the GPUs' relative dense-bf16 throughput and memory bandwidth, not a measurement.
   */
  readonly relativeTrainingThroughput: number;
}

/** FlashAttention-3 kernels run only on Hopper (sm_90); docs/facts/training.md §2. */
export function supportsFlashAttention3(gpu: GpuSpec): boolean {
  return gpu.architecture === 'Hopper';
}

export const GPUS = {
  V100_16: {
    model: 'NVIDIA V100 16GB',
    architecture: 'Volta',
    nominalMemoryGB: 16,
    memoryGiB: 15.8,
    bf16: false,
    relativeTrainingThroughput: 0.1,
  },
  V100_32: {
    model: 'NVIDIA V100 32GB',
    architecture: 'Volta',
    nominalMemoryGB: 32,
    memoryGiB: 31.7,
    bf16: false,
    relativeTrainingThroughput: 0.1,
  },
  T4: {
    model: 'NVIDIA T4',
    architecture: 'Turing',
    nominalMemoryGB: 16,
    memoryGiB: 15.0,
    bf16: false,
    relativeTrainingThroughput: 0.05,
  },
  A10G: {
    model: 'NVIDIA A10G',
    architecture: 'Ampere',
    nominalMemoryGB: 24,
    memoryGiB: 22.5,
    bf16: true,
    relativeTrainingThroughput: 0.12,
  },
  L4: {
    model: 'NVIDIA L4',
    architecture: 'Ada',
    nominalMemoryGB: 24,
    memoryGiB: 22.5,
    bf16: true,
    relativeTrainingThroughput: 0.1,
  },
  L40S: {
    model: 'NVIDIA L40S',
    architecture: 'Ada',
    nominalMemoryGB: 48,
    memoryGiB: 45.0,
    bf16: true,
    relativeTrainingThroughput: 0.3,
  },
  A100_40: {
    model: 'NVIDIA A100 40GB',
    architecture: 'Ampere',
    nominalMemoryGB: 40,
    memoryGiB: 40.0,
    bf16: true,
    relativeTrainingThroughput: 0.45,
  },
  A100_80: {
    model: 'NVIDIA A100 80GB',
    architecture: 'Ampere',
    nominalMemoryGB: 80,
    memoryGiB: 80.0,
    bf16: true,
    relativeTrainingThroughput: 0.5,
  },
  H100: {
    model: 'NVIDIA H100 80GB',
    architecture: 'Hopper',
    nominalMemoryGB: 80,
    memoryGiB: 79.6,
    bf16: true,
    relativeTrainingThroughput: 1.0,
  },
  H200: {
    model: 'NVIDIA H200 141GB',
    architecture: 'Hopper',
    nominalMemoryGB: 141,
    memoryGiB: 140.4,
    bf16: true,
    relativeTrainingThroughput: 1.15,
  },
  B200: {
    model: 'NVIDIA B200',
    architecture: 'Blackwell',
    nominalMemoryGB: 180,
    memoryGiB: 179.0,
    bf16: true,
    relativeTrainingThroughput: 1.8,
  },
} as const satisfies Record<string, GpuSpec>;
