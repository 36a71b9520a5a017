import { decoderLayerParameters, embeddingParameters, type GptOssModelSpec, totalParameters } from './model-catalog';

/**
 * Per-GPU peak memory of a GPT-OSS fine-tuning job, as a breakdown. A first-order model of what the job holds at
 * its peak (one optimizer step with the largest layer gathered and recomputed), with every assumption stated in
 * {@link ESTIMATOR_ASSUMPTIONS}. It reproduces the published reference points within ±20% and our own H200
 * measurements of gpt-oss-20b LoRA steps within ±10% of the allocator's peak reserved memory
 * (test/recipes/memory-estimator.test.ts, test/recipes/gpu/measured-h200.json); it is a screening tool for PR time,
 * not a profiler.
 */

export const GiB = 1024 ** 3;
export const GB = 1e9;

/** Where model state lives: every rank holds a copy, ZeRO-3/FSDP shards it, or ZeRO-3 offloads it to host RAM. */
export type Sharding = 'replicated' | 'sharded' | 'sharded-offload';

/** Optimizer families by state size: two moments in the state dtype, two 8-bit moments, factored, or none. */
export type OptimizerFamily = 'adamw' | 'adamw-8bit' | 'adafactor' | 'sgd';

export interface TrainingShape {
  readonly model: GptOssModelSpec;
  /** `lora` trains adapters on frozen weights; `full` trains every weight. */
  readonly method: 'lora' | 'full';
  /** Bytes per model weight after MXFP4 → dequantization (2 for bf16, 4 for float32). */
  readonly weightBytes: number;
  /** LoRA A/B parameters (kept in fp32: PEFT's `autocast_adapter_dtype`). */
  readonly loraParams: number;
  /** Parameters of modules trained in full next to LoRA (`lora_modules_to_save`), in the weight dtype. */
  readonly modulesToSaveParams: number;
  readonly sharding: Sharding;
  /** Total GPUs (GPUs per instance × instance count). */
  readonly worldSize: number;
  /** GPUs per instance (for host-RAM figures per node). */
  readonly gpusPerNode: number;
  /** DeepSpeed keeps an fp32 master copy of bf16 trainable weights (true for our ZeRO-3 configs). */
  readonly fp32MasterWeights: boolean;
  readonly optimizer: OptimizerFamily;
  /** `per_device_train_batch_size`. */
  readonly microBatch: number;
  /** Tokens per sequence (`max_length`). */
  readonly seqLen: number;
  readonly gradientCheckpointing: boolean;
  /** Checkpointed activations live in host RAM (`activation_offloading`). */
  readonly activationOffloading: boolean;
  /**
   * `eager` materialises the [batch, heads, L, L] score matrix; `chunked` (attn_implementation: gpt_oss_chunked) one
   * [batch, heads, chunk, L] block at a time; flash/flex kernels none.
   */
  readonly attention: 'eager' | 'chunked' | 'memory-efficient';
  /**
   * How the loss is computed: `chunked` never materialises the full logits (TRL ≥ 1.x's fused LM head, which the
   * training image pins; Cut Cross-Entropy and Unsloth's kernel behave alike), `full` builds [tokens, vocab]
   * logits (TRL with label smoothing or a custom loss, older TRL).
   */
  readonly loss: 'chunked' | 'full';
  /** The merged bf16 model is written after training (LoRA `merge_adapter`); sized for host RAM. */
  readonly mergeAdapter: boolean;
}

export interface MemoryComponent {
  readonly key: string;
  readonly label: string;
  readonly bytes: number;
  readonly note: string;
}

export interface TrainingMemoryEstimate {
  /** Peak per GPU, bytes. */
  readonly perGpuBytes: number;
  readonly perGpuGiB: number;
  readonly components: readonly MemoryComponent[];
  /** Peak host RAM per instance, bytes. */
  readonly hostBytesPerNode: number;
  readonly hostComponents: readonly MemoryComponent[];
}

/**
 * Constants of the model. Each is an assumption (inference), not a measurement; see the test file for how the
 * result compares with the published reference points.
 */
export const ESTIMATOR_CONSTANTS = {
  /** CUDA context, cuBLAS workspaces and kernels per process. */
  cudaContextBytes: 1.0 * GiB,
  /** Extra NCCL buffers when the job is distributed. */
  ncclBytes: 0.5 * GiB,
  /** Caching-allocator slack over the transient (non-weight) allocations. */
  allocatorSlack: 0.1,
  /** ZeRO-3/FSDP: decoder layers gathered at once (the current one and the prefetched next one). */
  gatheredLayers: 2,
  /** ZeRO-3/FSDP full fine-tune: unsharded layer gradients alive at once (the one being computed, the one being reduce-scattered). */
  gradientBucketLayers: 2,
  /**
   * bf16 elements saved per token per decoder layer for backward, from the transformers GPT-OSS eager code:
   * attention ≈ 3·hidden + 6·(heads·head_dim) + 4·(kv_heads·head_dim); MoE ≈ top_k · (3·hidden + 6·intermediate).
   */
  attentionElementsPerToken: (m: GptOssModelSpec) =>
    3 * m.hiddenSize + 6 * m.numAttentionHeads * m.headDim + 4 * m.numKeyValueHeads * m.headDim,
  moeElementsPerToken: (m: GptOssModelSpec) => m.numExpertsPerToken * (3 * m.hiddenSize + 6 * m.intermediateSize),
  /** Eager attention score tensors alive at once for the layer being (re)computed: scores, probs, their gradient. */
  scoreCopiesAtPeak: 3,
  /** Queries per block of the chunked attention (QUERY_CHUNK in training-code/gpt_oss_train/chunked_attention.py). */
  attentionQueryChunk: 1024,
  /** Full logits: bytes per logit (bf16 logits + fp32 upcast/log-softmax + fp32 gradient in backward). */
  logitBytes: 12,
  /** Chunked loss (TRL `chunked_logprob`): token and vocabulary tile sizes of its fp32 projection buffers. */
  lossTokenChunk: 4096,
  lossVocabChunk: 32768,
  /** DeepSpeed `sub_group_size` default: elements upcast to fp32 at once in the optimizer step. */
  deepSpeedSubGroupSize: 1e9,
  /** Host RAM per training process (Python, CUDA libraries, data loader). */
  hostBytesPerProcess: 6 * GiB,
} as const;

/** The assumptions behind the estimate, printed by the report. */
export const ESTIMATOR_ASSUMPTIONS: readonly string[] = [
  'weights are MXFP4-dequantized to the recipe dtype (bf16: 2 bytes/param; float32: 4)',
  'LoRA adapters, their gradients and AdamW moments are fp32 (PEFT autocast_adapter_dtype)',
  'full fine-tune: bf16 gradients; AdamW moments in the weight dtype, plus an fp32 master copy + fp32 moments under DeepSpeed ZeRO-3 (16 bytes/param, ZeRO paper)',
  '8-bit optimizers keep 2 bytes/param of state; adafactor ≈ 1; sgd none',
  'ZeRO-3 shards weights, gradients and optimizer state over all GPUs, and gathers 2 decoder layers (current + prefetch) at a time (full fine-tune: plus 2 unsharded layer gradients); zero3-offload keeps the state in host RAM',
  'gradient checkpointing keeps each decoder layer input and recomputes one layer at a time',
  'eager attention materialises [micro_batch, 64 heads, L, L+1] bf16 scores, 3 copies at peak; gpt_oss_chunked the same for one block of 1024 queries (each block is recomputed in backward); flash/flex kernels none',
  "loss: TRL's chunked LM head (pinned TRL) keeps two fp32 [4096, 32768] tiles and fp32 hidden-state gradients, plus the lm_head's fp32 weight gradient in a full fine-tune; with full logits (label smoothing) 12 bytes per [token, vocab] entry",
  'full fine-tune: one extra full-size expert tensor while autograd sums the per-expert gradients (transformers training path)',
  'forward/backward and the optimizer step are separate phases; the peak takes the larger',
  'framework overhead: 1 GiB CUDA context (+0.5 GiB NCCL when distributed) and 10% allocator slack on transient memory',
];

function optimizerStateBytesPerParam(family: OptimizerFamily, stateDtypeBytes: number): number {
  switch (family) {
    case 'adamw':
      return 2 * stateDtypeBytes;
    case 'adamw-8bit':
      return 2;
    case 'adafactor':
      return 1;
    case 'sgd':
      return 0;
  }
}

/** Bytes of one eager attention score tensor for one layer: [micro_batch, heads, L, L+1] in bf16. */
export function attentionScoreBytes(model: GptOssModelSpec, microBatch: number, seqLen: number): number {
  return microBatch * model.numAttentionHeads * seqLen * (seqLen + 1) * 2;
}

/** Estimates the per-GPU peak (and per-node host RAM) of a training job. */
export function estimateTrainingMemory(shape: TrainingShape): TrainingMemoryEstimate {
  const c = ESTIMATOR_CONSTANTS;
  const m = shape.model;
  const totalParams = totalParameters(m);
  const w = shape.worldSize;
  const sharded = shape.sharding !== 'replicated';
  const offload = shape.sharding === 'sharded-offload';
  const shardFactor = sharded ? 1 / w : 1;
  const onGpu = (bytes: number) => (offload ? 0 : bytes * shardFactor);

  const full = shape.method === 'full';
  // What the optimizer updates, by dtype.
  const fp32Trainable = full ? 0 : shape.loraParams;
  const weightDtypeTrainable = full ? totalParams : shape.modulesToSaveParams;
  const trainable = fp32Trainable + weightDtypeTrainable;

  const baseWeights = totalParams * shape.weightBytes;
  const adapterWeights = fp32Trainable * 4 + weightDtypeTrainable * (full ? 0 : shape.weightBytes);
  const gradients = fp32Trainable * 4 + weightDtypeTrainable * shape.weightBytes;
  const master = shape.fp32MasterWeights ? weightDtypeTrainable * 4 : 0;
  const momentDtype = shape.fp32MasterWeights ? 4 : shape.weightBytes;
  const optimizerState =
    fp32Trainable * optimizerStateBytesPerParam(shape.optimizer, 4) +
    weightDtypeTrainable * optimizerStateBytesPerParam(shape.optimizer, momentDtype);

  const largestGatherUnit = Math.max(decoderLayerParameters(m), embeddingParameters(m));
  const gathered = sharded ? c.gatheredLayers * largestGatherUnit * shape.weightBytes : 0;
  // Unsharded gradients of the layers being computed and reduce-scattered (full fine-tune under ZeRO-3 only).
  const gradientBuckets = sharded && full ? c.gradientBucketLayers * largestGatherUnit * shape.weightBytes : 0;
  // transformers' training path indexes `experts.gate_up_proj[expert]`; each backward of that index builds a
  // full-size gradient that autograd sums into the parameter's, so one extra copy of the largest expert tensor.
  const expertGradientScratch = full
    ? m.numLocalExperts * m.hiddenSize * 2 * m.intermediateSize * shape.weightBytes
    : 0;

  const tokens = shape.microBatch * shape.seqLen;
  const perLayerActivation = tokens * (c.attentionElementsPerToken(m) + c.moeElementsPerToken(m)) * 2;
  const layerInputs = tokens * m.hiddenSize * 2;
  const layers = m.numHiddenLayers;
  let activations: number;
  let activationNote: string;
  if (shape.gradientCheckpointing) {
    const kept = shape.activationOffloading ? 2 * layerInputs : layers * layerInputs;
    activations = kept + perLayerActivation;
    activationNote = `${shape.activationOffloading ? '2 layer inputs (rest offloaded)' : `${layers} layer inputs`} + 1 layer recomputed`;
  } else {
    activations = layers * perLayerActivation;
    activationNote = `all ${layers} layers' saved tensors (no gradient checkpointing)`;
  }
  const scoreRows = shape.attention === 'chunked' ? Math.min(c.attentionQueryChunk, shape.seqLen) : shape.seqLen;
  const scoreOne =
    shape.attention === 'memory-efficient'
      ? 0
      : (attentionScoreBytes(m, shape.microBatch, shape.seqLen) * scoreRows) / shape.seqLen;
  // Without gradient checkpointing eager keeps every layer's probabilities; chunked blocks are always recomputed.
  const scores =
    shape.gradientCheckpointing || shape.attention !== 'eager'
      ? c.scoreCopiesAtPeak * scoreOne
      : (layers + c.scoreCopiesAtPeak - 1) * scoreOne;
  const chunkedLoss =
    2 * Math.min(tokens, c.lossTokenChunk) * c.lossVocabChunk * 4 +
    tokens * m.hiddenSize * 4 +
    (full ? m.vocabSize * m.hiddenSize * 4 : 0);
  const logits = shape.loss === 'chunked' ? chunkedLoss : tokens * m.vocabSize * c.logitBytes;

  // Two phases do not overlap: forward/backward (activations, gathered layers) and the optimizer step
  // (DeepSpeed upcasts one sub-group of the local gradient partition to fp32). The peak takes the larger.
  const backwardPhase = gathered + gradientBuckets + expertGradientScratch + activations + scores + logits;
  const localTrainable = trainable * shardFactor;
  const stepPhase =
    sharded && !offload && shape.fp32MasterWeights && full ? Math.min(localTrainable, c.deepSpeedSubGroupSize) * 4 : 0;
  const stepExtra = Math.max(0, stepPhase - backwardPhase);
  const overhead = c.cudaContextBytes + (w > 1 ? c.ncclBytes : 0);
  const slack = c.allocatorSlack * Math.max(backwardPhase, stepPhase);

  const gib = (b: number) => `${(b / GiB).toFixed(1)} GiB`;
  const shardNote = offload
    ? 'in host RAM (zero3-offload)'
    : sharded
      ? `sharded over ${w} GPUs`
      : 'replicated on every GPU';
  const components: MemoryComponent[] = [
    {
      key: 'weights',
      label: full ? 'weights (trained)' : 'base weights (frozen)',
      bytes: onGpu(baseWeights),
      note: `${(totalParams / 1e9).toFixed(1)} B params × ${shape.weightBytes} bytes (${gib(baseWeights)}), ${shardNote}`,
    },
    {
      key: 'adapters',
      label: 'LoRA adapters + modules_to_save',
      bytes: onGpu(adapterWeights),
      note: full ? 'none (full fine-tune)' : `${(shape.loraParams / 1e6).toFixed(1)} M LoRA params in fp32`,
    },
    {
      key: 'gradients',
      label: 'gradients',
      bytes: onGpu(gradients),
      note: `${(trainable / 1e6).toFixed(1)} M trainable params`,
    },
    {
      key: 'optimizer',
      label: 'optimizer state',
      bytes: onGpu(optimizerState + master),
      note: `${shape.optimizer}${shape.fp32MasterWeights && full ? ' + fp32 master weights' : ''}, ${shardNote}`,
    },
    {
      key: 'gathered',
      label: 'ZeRO-3 gathered layers',
      bytes: gathered + gradientBuckets,
      note: sharded
        ? `${c.gatheredLayers} × ${(largestGatherUnit / 1e6).toFixed(0)} M params${full ? ` + ${c.gradientBucketLayers} unsharded gradient buckets` : ''}`
        : 'none (not sharded)',
    },
    {
      key: 'expertGradients',
      label: 'expert gradient scratch',
      bytes: expertGradientScratch,
      note: full
        ? "one full-size copy of a layer's gate_up_proj while autograd sums per-expert gradients"
        : 'none (experts frozen)',
    },
    {
      key: 'activations',
      label: 'activations',
      bytes: activations,
      note: `${tokens} tokens/micro-batch; ${activationNote}`,
    },
    {
      key: 'attentionScores',
      label: shape.attention === 'chunked' ? 'chunked attention scores' : 'eager attention scores',
      bytes: scores,
      note:
        shape.attention === 'memory-efficient'
          ? 'none (memory-efficient attention kernel)'
          : `[${shape.microBatch}, ${m.numAttentionHeads}, ${scoreRows}, ${shape.seqLen + 1}] bf16 = ${gib(scoreOne)} ` +
            (shape.attention === 'chunked' ? 'per query block (gpt_oss_chunked)' : 'per layer (eager)'),
    },
    {
      key: 'logits',
      label: 'logits + loss',
      bytes: logits,
      note:
        shape.loss === 'chunked'
          ? `chunked LM head: fp32 tiles + hidden-state gradients${full ? ' + fp32 lm_head weight gradient' : ''}`
          : `${tokens} × ${m.vocabSize} × ${c.logitBytes} bytes (full logits)`,
    },
    {
      key: 'optimizerStep',
      label: 'optimizer step (beyond backward peak)',
      bytes: stepExtra,
      note:
        stepPhase > 0
          ? `fp32 upcast of one DeepSpeed sub-group (${gib(stepPhase)}), not concurrent with activations`
          : 'none',
    },
    {
      key: 'overhead',
      label: 'CUDA/framework overhead',
      bytes: overhead + slack,
      note: `CUDA context${w > 1 ? ' + NCCL' : ''} + ${c.allocatorSlack * 100}% allocator slack on the larger transient phase`,
    },
  ];
  const perGpuBytes = components.reduce((sum, x) => sum + x.bytes, 0);

  const processes = shape.gpusPerNode;
  const nodeShare = sharded ? processes / w : processes;
  const hostComponents: MemoryComponent[] = [
    {
      key: 'processes',
      label: 'training processes',
      bytes: processes * c.hostBytesPerProcess,
      note: `${processes} × ${gib(c.hostBytesPerProcess)}`,
    },
    {
      key: 'offloaded',
      label: 'offloaded model state',
      bytes: offload ? (baseWeights + adapterWeights + gradients + optimizerState + master) * nodeShare : 0,
      note: offload ? `this node's ${processes} of ${w} shards` : 'none',
    },
    {
      key: 'merge',
      label: 'LoRA merge (bf16 model)',
      bytes: shape.mergeAdapter && !full ? totalParams * 2 : 0,
      note:
        shape.mergeAdapter && !full ? 'the merged bf16 model is built in host RAM once, on the main process' : 'none',
    },
  ];
  // The merge runs after training, so host peak is the larger of the training phase and the merge.
  const trainingHost = hostComponents[0].bytes + hostComponents[1].bytes;
  const hostBytesPerNode = Math.max(trainingHost, hostComponents[2].bytes + c.hostBytesPerProcess);

  return { perGpuBytes, perGpuGiB: perGpuBytes / GiB, components, hostBytesPerNode, hostComponents };
}

/** Reference card for the report's longest-context line: one 80 GB GPU (H100/A100 80GB). */
export const REFERENCE_GPU_BYTES = 80 * GiB;

/**
 * The longest `max_length` (a multiple of `step` tokens, at most `limit`) whose estimated per-GPU peak fits in
 * `capacityBytes`, keeping everything else in `shape` (method, micro-batch, attention path); 0 when not even
 * `step` tokens fit. The estimate grows with length, so the search is a bisection over multiples of `step`.
 */
export function longestFittingSeqLen(
  shape: TrainingShape,
  capacityBytes: number = REFERENCE_GPU_BYTES,
  step = 1024,
  limit = 131072,
): number {
  const fits = (seqLen: number) => estimateTrainingMemory({ ...shape, seqLen }).perGpuBytes <= capacityBytes;
  let low = 0; // multiples of step known to fit
  let high = Math.floor(limit / step) + 1; // known not to fit (or past the limit)
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (fits(mid * step)) low = mid;
    else high = mid;
  }
  return low * step;
}
