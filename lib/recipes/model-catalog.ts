/**
 * Architecture facts of the models this platform fine-tunes, keyed by Hugging Face hub id. The numbers are
 * the models' published `config.json` values (docs/facts/training.md §3: the `GptOssConfig`
 * defaults are gpt-oss-120b's; gpt-oss-20b has 24 layers and 32 experts); parameter counts are computed
 * from them, so the estimators never depend on a rounded headline figure.
 */

export interface GptOssModelSpec {
  /** Hugging Face hub id, e.g. `openai/gpt-oss-20b`. */
  readonly hubId: string;
  /** Short name used in reports, e.g. `gpt-oss-20b`. */
  readonly shortName: string;
  readonly numHiddenLayers: number;
  readonly numLocalExperts: number;
  readonly numExpertsPerToken: number;
  readonly hiddenSize: number;
  /** Per-expert intermediate size; `gate_up_proj` is `hidden × 2·intermediate`. */
  readonly intermediateSize: number;
  readonly numAttentionHeads: number;
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly slidingWindow: number;
  readonly maxPositionEmbeddings: number;
  /** Published headline totals (OpenAI model card), used only to cross-check the computed counts. */
  readonly publishedTotalParams: number;
  /** Parameters used per token (4 of the experts plus everything else), as published. */
  readonly publishedActiveParams: number;
  /** Size of the MXFP4 checkpoint on the hub, GB (docs/facts/aws.md §2, approximate). */
  readonly mxfp4CheckpointGB: number;
}

const SHARED = {
  numExpertsPerToken: 4,
  hiddenSize: 2880,
  intermediateSize: 2880,
  numAttentionHeads: 64,
  numKeyValueHeads: 8,
  headDim: 64,
  vocabSize: 201088,
  slidingWindow: 128,
  maxPositionEmbeddings: 131072,
} as const;

export const MODEL_CATALOG: Readonly<Record<string, GptOssModelSpec>> = {
  'openai/gpt-oss-20b': {
    hubId: 'openai/gpt-oss-20b',
    shortName: 'gpt-oss-20b',
    numHiddenLayers: 24,
    numLocalExperts: 32,
    ...SHARED,
    publishedTotalParams: 21e9,
    publishedActiveParams: 3.6e9,
    mxfp4CheckpointGB: 14,
  },
  'openai/gpt-oss-120b': {
    hubId: 'openai/gpt-oss-120b',
    shortName: 'gpt-oss-120b',
    numHiddenLayers: 36,
    numLocalExperts: 128,
    ...SHARED,
    publishedTotalParams: 117e9,
    publishedActiveParams: 5.1e9,
    mxfp4CheckpointGB: 63,
  },
};

/** One named parameter tensor of the model, as PEFT sees it (`model.layers.7.mlp.experts.gate_up_proj`). */
export interface ModelParameter {
  readonly name: string;
  readonly shape: readonly number[];
  /** The `nn.Linear` this tensor is the weight/bias of (`model.layers.0.self_attn.q_proj`), if any. */
  readonly linearModule?: string;
  /** True for the 3-D expert tensors and the router: `nn.Parameter`s that LoRA reaches only via target_parameters. */
  readonly bareParameter: boolean;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Every parameter tensor of a GPT-OSS model with its shape, in transformers' naming
 * (`GptOssForCausalLM`: `model.embed_tokens`, `model.layers.N.{self_attn,mlp}`, `model.norm`, `lm_head`).
 */
export function modelParameters(model: GptOssModelSpec): ModelParameter[] {
  const h = model.hiddenSize;
  const q = model.numAttentionHeads * model.headDim;
  const kv = model.numKeyValueHeads * model.headDim;
  const e = model.numLocalExperts;
  const i = model.intermediateSize;
  const params: ModelParameter[] = [
    { name: 'model.embed_tokens.weight', shape: [model.vocabSize, h], bareParameter: false },
  ];
  for (let layer = 0; layer < model.numHiddenLayers; layer++) {
    const p = `model.layers.${layer}`;
    const linear = (mod: string, out: number, inp: number) => [
      { name: `${p}.${mod}.weight`, shape: [out, inp], linearModule: `${p}.${mod}`, bareParameter: false },
      { name: `${p}.${mod}.bias`, shape: [out], linearModule: `${p}.${mod}`, bareParameter: false },
    ];
    params.push(
      { name: `${p}.input_layernorm.weight`, shape: [h], bareParameter: false },
      ...linear('self_attn.q_proj', q, h),
      ...linear('self_attn.k_proj', kv, h),
      ...linear('self_attn.v_proj', kv, h),
      ...linear('self_attn.o_proj', h, q),
      { name: `${p}.self_attn.sinks`, shape: [model.numAttentionHeads], bareParameter: true },
      { name: `${p}.post_attention_layernorm.weight`, shape: [h], bareParameter: false },
      { name: `${p}.mlp.router.weight`, shape: [e, h], bareParameter: true },
      { name: `${p}.mlp.router.bias`, shape: [e], bareParameter: true },
      { name: `${p}.mlp.experts.gate_up_proj`, shape: [e, h, 2 * i], bareParameter: true },
      { name: `${p}.mlp.experts.gate_up_proj_bias`, shape: [e, 2 * i], bareParameter: true },
      { name: `${p}.mlp.experts.down_proj`, shape: [e, i, h], bareParameter: true },
      { name: `${p}.mlp.experts.down_proj_bias`, shape: [e, h], bareParameter: true },
    );
  }
  params.push(
    { name: 'model.norm.weight', shape: [h], bareParameter: false },
    { name: 'lm_head.weight', shape: [model.vocabSize, h], linearModule: 'lm_head', bareParameter: false },
  );
  return params;
}

/** Number of elements of a parameter tensor. */
export function parameterCount(param: ModelParameter): number {
  return product(param.shape);
}

/** Total parameter count computed from the architecture (≈ 20.9 B for 20b, ≈ 116.8 B for 120b). */
export function totalParameters(model: GptOssModelSpec): number {
  return modelParameters(model).reduce((sum, p) => sum + parameterCount(p), 0);
}

/** Parameters of one decoder layer: the unit ZeRO-3 gathers at once (the MoE layer is a ZeRO-3 leaf module). */
export function decoderLayerParameters(model: GptOssModelSpec): number {
  return modelParameters(model)
    .filter((p) => p.name.startsWith('model.layers.0.'))
    .reduce((sum, p) => sum + parameterCount(p), 0);
}

/** Parameters of the input embedding (the output head has the same size; weights are not tied). */
export function embeddingParameters(model: GptOssModelSpec): number {
  return model.vocabSize * model.hiddenSize;
}

const MODEL_NAME_IN_PATH = /gpt-oss-(20b|120b)(?![0-9a-z])/i;

/**
 * Resolves a recipe's `model_name_or_path` to a catalog entry: a hub id (`openai/gpt-oss-20b`), or a local/S3
 * path whose name contains `gpt-oss-20b` / `gpt-oss-120b` (`/opt/ml/input/data/model/gpt-oss-20b`). Returns
 * undefined for anything else; the recipe lint turns that into an error.
 */
export function resolveModel(modelNameOrPath: string | undefined): GptOssModelSpec | undefined {
  if (!modelNameOrPath) return undefined;
  const exact = Object.values(MODEL_CATALOG).find((m) => m.hubId.toLowerCase() === modelNameOrPath.toLowerCase());
  if (exact) return exact;
  const match = MODEL_NAME_IN_PATH.exec(modelNameOrPath);
  return match ? MODEL_CATALOG[`openai/gpt-oss-${match[1].toLowerCase()}`] : undefined;
}

/** Like {@link resolveModel} but throws, naming the known models, when the model is not in the catalog. */
export function requireModel(modelNameOrPath: string | undefined): GptOssModelSpec {
  const model = resolveModel(modelNameOrPath);
  if (!model) {
    throw new Error(
      `unknown model ${JSON.stringify(modelNameOrPath)}; expected one of ${Object.keys(MODEL_CATALOG).join(', ')} ` +
        'or a path containing gpt-oss-20b / gpt-oss-120b',
    );
  }
  return model;
}
