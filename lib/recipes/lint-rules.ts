import type { AppConfig } from '../config/app-config';
import { describeValue } from '../config/errors';
import {
  endpointName,
  modelPackageGroupName,
  pipelineName,
  resourcePrefix,
  SAGEMAKER_NAME_MAX_LENGTH,
  SAGEMAKER_NAME_PATTERN,
} from '../config/naming';
import { RENAMED_KEYS, type RecipeDocument, TRAINING_LIBRARY_VERSIONS } from '../config/recipe-schema';
import type { Finding, FindingLevel } from './findings';
import { findInstance, isGpuHostingInstance, isGpuTrainingInstance, supportsFlashAttention3 } from './instance-catalog';
import { EXPERT_PARAMETER_PATTERN } from './lora-targets';
import { GiB } from './memory-estimator';
import { MODEL_CATALOG, modelParameters } from './model-catalog';
import { type RecipeAnalysis, suggestTrainingInstance, TIGHT_MEMORY_SHARE } from './recipe-analysis';
import { isSet, modelDtype, numberValue, stringListValue, stringValue } from './recipe-values';

/**
 * Recipe lint rules: the mistakes that otherwise cost an hour of 8-GPU time (docs/architecture.md §2). One rule per
 * function; every finding names the file, the key path, the value found and what to write instead, and every
 * rule runs, so all findings of a file are reported at once. Background for each rule:
 * docs/facts/training.md §1, §2 and §4.
 */

export interface LintContext {
  /** Recipe (= pipeline) name: the file name without `.yaml`. */
  readonly name: string;
  readonly file: string;
  /** The YAML as written (before the schema). */
  readonly raw: Readonly<Record<string, unknown>>;
  /**
   * The document after the schema (keys the schema rejected left out); absent when even that failed, and then
   * only the `raw` rules run.
   */
  readonly doc?: RecipeDocument;
  readonly analysis?: RecipeAnalysis;
  readonly config: Pick<AppConfig, 'namePrefix' | 'stage' | 'prices'>;
  /** PEFT version the training image pins (TRAINING_LIBRARY_VERSIONS.peft unless a test injects another). */
  readonly peftVersion: string;
}

export interface LintRule {
  readonly id: string;
  /** The most severe level the rule emits. */
  readonly level: FindingLevel;
  readonly description: string;
  /** `raw` rules look at the YAML as written and run even when the schema fails; `document` rules need a valid document. */
  readonly input: 'raw' | 'document';
  readonly check: (ctx: LintContext) => Finding[];
}

const show = describeValue;

/** A value as it would be written in YAML: plain strings unquoted, everything else as JSON. */
function asYaml(value: unknown): string {
  if (typeof value === 'string' && /^[A-Za-z0-9_./-]+$/.test(value)) return value;
  return JSON.stringify(value);
}

function finding(
  ctx: LintContext,
  rule: string,
  level: FindingLevel,
  keyPath: string,
  found: string | undefined,
  message: string,
  fix: string,
): Finding {
  return { rule, level, file: ctx.file, keyPath, found, message, fix };
}

/** Compares dotted numeric versions ("0.21.2" vs "0.21.0"); pre-release suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => v.split('.').map((p) => parseInt(p, 10) || 0);
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** First PEFT release with peft#3576 ("Resolve ZeRO-3 partitioned shapes in lora.ParamWrapper"). */
export const PEFT_ZERO3_PARAMWRAPPER_FIX = '0.21.0';

const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

// ---------------------------------------------------------------------------------------------------------------
// Keys as written
// ---------------------------------------------------------------------------------------------------------------

/** `max_seq_length` is not an SFTConfig field; TRL truncates/packs at `max_length` (default 1024). */
export function maxSeqLengthRule(ctx: LintContext): Finding[] {
  if (!('max_seq_length' in ctx.raw)) return [];
  const value = ctx.raw.max_seq_length;
  return [
    finding(
      ctx,
      'max-seq-length',
      'error',
      'max_seq_length',
      show(value),
      "max_seq_length is not a field of TRL's SFTConfig: it is ignored and sequences are cut at max_length (default 1024)",
      `write max_length: ${asYaml(value)} instead`,
    ),
  ];
}

/** Keys the pinned libraries renamed are accepted (the training script rewrites them) but should be updated. */
export function renamedKeyRule(ctx: LintContext): Finding[] {
  const out: Finding[] = [];
  for (const [old, renamed] of Object.entries(RENAMED_KEYS)) {
    if (!(old in ctx.raw)) continue;
    const value = ctx.raw[old];
    if (renamed in ctx.raw) {
      out.push(
        finding(
          ctx,
          'renamed-key',
          'error',
          old,
          show(value),
          `both ${old} and its new name ${renamed} (${show(ctx.raw[renamed])}) are set; the job cannot tell which one you mean`,
          `remove ${old} and keep ${renamed}`,
        ),
      );
      continue;
    }
    const hint = old === 'warmup_ratio' ? ' (transformers 5 reads a value below 1 as a share of the total steps)' : '';
    out.push(
      finding(
        ctx,
        'renamed-key',
        'warning',
        old,
        show(value),
        `${old} was renamed to ${renamed} in the pinned libraries (TRL ${TRAINING_LIBRARY_VERSIONS.trl}, transformers ${TRAINING_LIBRARY_VERSIONS.transformers}); the training script rewrites it for now`,
        `write ${renamed}: ${asYaml(value)} instead${hint}`,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Model and LoRA
// ---------------------------------------------------------------------------------------------------------------

/** The estimators and LoRA checks need a known model; anything else cannot be sized. */
export function unknownModelRule(ctx: LintContext): Finding[] {
  if (!ctx.doc || ctx.analysis?.model) return [];
  const value = stringValue(ctx.doc, 'model_name_or_path');
  return [
    finding(
      ctx,
      'unknown-model',
      'error',
      'model_name_or_path',
      show(value),
      value === undefined
        ? 'no model is named, so nothing can be trained or sized'
        : 'not a model this platform knows (lib/recipes/model-catalog.ts), so its memory and cost cannot be estimated',
      `write model_name_or_path: ${Object.keys(MODEL_CATALOG).join(' or ')} (or a path containing gpt-oss-20b / gpt-oss-120b)`,
    ),
  ];
}

/** TRL loads the model in float32 unless `dtype` says otherwise: twice the memory of bf16. */
export function dtypeFloat32Rule(ctx: LintContext): Finding[] {
  if (!ctx.doc || modelDtype(ctx.doc) !== 'float32') return [];
  const written = ctx.doc.dtype ?? ctx.doc.torch_dtype;
  return [
    finding(
      ctx,
      'dtype-float32',
      'warning',
      'dtype',
      written === undefined ? 'nothing (TRL default "float32")' : show(written),
      'GPT-OSS is dequantized from MXFP4 into this dtype; float32 doubles weight memory and is not how GPT-OSS is trained',
      'write dtype: bfloat16',
    ),
  ];
}

/** Expert weights are `nn.Parameter`s; naming them in modules_to_save matches nothing, so they are never trained. */
export function expertParamsInModulesToSaveRule(ctx: LintContext): Finding[] {
  if (!ctx.doc) return [];
  const listed = stringListValue(ctx.doc, 'lora_modules_to_save');
  const lora = ctx.analysis?.lora;
  const model = ctx.analysis?.model;
  const params = model ? modelParameters(model) : [];
  const isParameter = (name: string) =>
    model
      ? lora?.unmatchedModulesToSave.includes(name) === true &&
        params.some((p) => p.bareParameter && (p.name === name || p.name.endsWith(`.${name}`)))
      : EXPERT_PARAMETER_PATTERN.test(name);
  const wrong = listed.filter(isParameter);
  if (wrong.length === 0) return [];
  return [
    finding(
      ctx,
      'expert-params-in-modules-to-save',
      'error',
      'lora_modules_to_save',
      show(wrong),
      'these are expert/router tensors (nn.Parameter), not modules: modules_to_save matches nothing and the experts are not trained',
      `move them to lora_target_parameters: ${asYaml(wrong)} (with lora_dropout: 0.0) and remove them from lora_modules_to_save`,
    ),
  ];
}

/** lora_target_modules entries that PEFT refuses (non-Linear modules) or that match no GPT-OSS module. */
export function loraTargetModulesRule(ctx: LintContext): Finding[] {
  const lora = ctx.analysis?.lora;
  if (!ctx.doc || !lora || ctx.doc.use_peft !== true) return [];
  const out: Finding[] = [];
  const expertLike = [...lora.unsupportedModuleTargets, ...lora.unmatchedModuleTargets].filter((t) =>
    /experts|router|gate_up_proj|down_proj|mlp$/.test(t),
  );
  if (expertLike.length > 0) {
    out.push(
      finding(
        ctx,
        'lora-target-modules',
        'error',
        'lora_target_modules',
        show(expertLike),
        'GPT-OSS experts and router are nn.Parameters inside non-Linear modules: PEFT rejects or skips them as target modules',
        'target them with lora_target_parameters (e.g. ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]); keep lora_target_modules: all-linear for q/k/v/o_proj',
      ),
    );
  }
  const other = lora.unmatchedModuleTargets.filter((t) => !expertLike.includes(t));
  if (other.length > 0) {
    const none = lora.adaptedModules.length === 0 && lora.adaptedParameters.length === 0;
    out.push(
      finding(
        ctx,
        'lora-target-modules',
        none ? 'error' : 'warning',
        'lora_target_modules',
        show(other),
        `match no module of ${ctx.analysis?.model?.shortName}${none ? ' and nothing else is targeted: PEFT stops with "Target modules not found"' : ' and are ignored'}`,
        'write lora_target_modules: all-linear (q_proj, k_proj, v_proj, o_proj) or a subset of those names',
      ),
    );
  }
  return out;
}

/** PEFT's ParamWrapper (target_parameters) raises on any lora_dropout other than 0; TRL's default is 0.05. */
export function targetParametersDropoutRule(ctx: LintContext): Finding[] {
  if (!ctx.doc || ctx.doc.use_peft !== true) return [];
  if (stringListValue(ctx.doc, 'lora_target_parameters').length === 0) return [];
  const dropout = numberValue(ctx.doc, 'lora_dropout') ?? 0;
  if (dropout === 0) return [];
  return [
    finding(
      ctx,
      'target-parameters-dropout',
      'error',
      'lora_dropout',
      isSet(ctx.doc, 'lora_dropout') ? show(dropout) : `nothing (TRL default ${dropout})`,
      'LoRA on parameters (lora_target_parameters) does not support dropout: PEFT raises when the adapter is created',
      'write lora_dropout: 0.0',
    ),
  ];
}

/** lora_target_parameters entries that match no parameter of the model (wrong layer index, typo). */
export function targetParametersUnmatchedRule(ctx: LintContext): Finding[] {
  const lora = ctx.analysis?.lora;
  const model = ctx.analysis?.model;
  if (!ctx.doc || !lora || !model || ctx.doc.use_peft !== true || lora.unmatchedParameterTargets.length === 0)
    return [];
  return [
    finding(
      ctx,
      'target-parameters-unmatched',
      'error',
      'lora_target_parameters',
      show(lora.unmatchedParameterTargets),
      `match no parameter of ${model.shortName} (layers 0-${model.numHiddenLayers - 1}; expert tensors are model.layers.N.mlp.experts.gate_up_proj / down_proj)`,
      `write names like "${Math.floor(model.numHiddenLayers / 2)}.mlp.experts.gate_up_proj", or "mlp.experts.gate_up_proj" for every layer`,
    ),
  ];
}

/** LoRA keys without `use_peft: true` are ignored and the job silently runs a full fine-tune. */
export function peftKeysWithoutUsePeftRule(ctx: LintContext): Finding[] {
  if (!ctx.doc || ctx.doc.use_peft === true) return [];
  const keys = ['lora_target_modules', 'lora_target_parameters', 'lora_modules_to_save', 'lora_r', 'lora_alpha'].filter(
    (k) => isSet(ctx.doc as RecipeDocument, k),
  );
  if (keys.length === 0) return [];
  return [
    finding(
      ctx,
      'lora-without-use-peft',
      'warning',
      'use_peft',
      show(ctx.doc.use_peft),
      `${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} set but use_peft is not true: no adapter is created and every weight is trained (full fine-tune)`,
      'write use_peft: true for LoRA, or remove the lora_* keys for a full fine-tune',
    ),
  ];
}

/** Expert LoRA under ZeRO-3 fails in PEFT releases without peft#3576 (peft#2916). */
export function expertLoraZero3Rule(ctx: LintContext): Finding[] {
  if (!ctx.doc || !ctx.analysis?.lora?.touchesExperts) return [];
  const distribution = ctx.doc.platform.training.distribution;
  if (distribution !== 'zero3' && distribution !== 'zero3-offload') return [];
  if (compareVersions(ctx.peftVersion, PEFT_ZERO3_PARAMWRAPPER_FIX) >= 0) return [];
  return [
    finding(
      ctx,
      'expert-lora-zero3',
      'error',
      'platform.training.distribution',
      show(distribution),
      `expert LoRA (lora_target_parameters) under DeepSpeed ZeRO-3 fails with the training image's PEFT ${ctx.peftVersion} (peft#2916: IndexError in ParamWrapper on partitioned shapes; fixed by peft#3576, released in ${PEFT_ZERO3_PARAMWRAPPER_FIX})`,
      `use distribution: single-gpu or ddp for expert LoRA, drop lora_target_parameters under zero3, or pin peft>=${PEFT_ZERO3_PARAMWRAPPER_FIX} in the training image`,
    ),
  ];
}

/** FlashAttention kernels cannot train GPT-OSS (no attention-sink backward); SDPA is disabled for GPT-OSS. */
export function attentionImplementationRule(ctx: LintContext): Finding[] {
  if (!ctx.doc) return [];
  const attn = stringValue(ctx.doc, 'attn_implementation');
  if (attn === undefined) return [];
  const gpu = ctx.analysis?.instance?.gpu;
  if (/flash|fa3/i.test(attn)) {
    const hopper = gpu
      ? ` and FA3 runs on Hopper only (this instance: ${gpu.model}, ${gpu.architecture}${supportsFlashAttention3(gpu) ? '' : ', not Hopper'})`
      : ' and FA3 runs on Hopper only';
    return [
      finding(
        ctx,
        'attention-implementation',
        'error',
        'attn_implementation',
        show(attn),
        `FlashAttention kernels have no backward pass for GPT-OSS attention sinks (Dao-AILab/flash-attention#1797)${hopper}`,
        'write attn_implementation: eager',
      ),
    ];
  }
  if (attn === 'sdpa') {
    return [
      finding(
        ctx,
        'attention-implementation',
        'error',
        'attn_implementation',
        show(attn),
        'transformers does not support SDPA for GPT-OSS (attention sinks) and refuses to load the model with it',
        'write attn_implementation: eager',
      ),
    ];
  }
  return [];
}

/** bf16 on a GPU without bf16 tensor cores (T4 Turing, V100 Volta). */
export function bf16UnsupportedRule(ctx: LintContext): Finding[] {
  const gpu = ctx.analysis?.instance?.gpu;
  if (!ctx.doc || !gpu || gpu.bf16) return [];
  const keyed: [string, unknown][] = [
    ['bf16', ctx.doc.bf16],
    ['bf16_full_eval', ctx.doc.bf16_full_eval],
    ['dtype', ctx.doc.dtype],
    ['torch_dtype', ctx.doc.torch_dtype],
  ];
  const hits = keyed.filter(([, v]) => v === true || v === 'bfloat16');
  return hits.map(([key, value]) =>
    finding(
      ctx,
      'bf16-unsupported',
      'error',
      key,
      show(value),
      `${ctx.doc?.platform.training.instance_type} has ${gpu.model} (${gpu.architecture}) GPUs without bf16 support; GPT-OSS trains in bf16`,
      'choose an Ampere-or-newer instance (ml.g6e.*, ml.p4de.24xlarge, ml.p5.*)',
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Spot and runtime
// ---------------------------------------------------------------------------------------------------------------

/** Spot without checkpoints restarts an interrupted job from step 0. */
export function spotWithoutCheckpointsRule(ctx: LintContext): Finding[] {
  if (!ctx.doc?.platform.training.spot) return [];
  const out: Finding[] = [];
  if (!ctx.doc.platform.training.checkpoints) {
    out.push(
      finding(
        ctx,
        'spot-without-checkpoints',
        'error',
        'platform.training.checkpoints',
        'false',
        'managed spot training without checkpoint sync restarts an interrupted job from step 0',
        'write platform.training.checkpoints: true',
      ),
    );
  }
  if (stringValue(ctx.doc, 'save_strategy') === 'no') {
    out.push(
      finding(
        ctx,
        'spot-without-checkpoints',
        'error',
        'save_strategy',
        '"no"',
        'with spot on, save_strategy: no writes no checkpoint to resume from',
        'write save_strategy: steps and save_steps: <a few minutes of training>',
      ),
    );
  }
  return out;
}

/** SageMaker requires MaxWaitTimeInSeconds for managed spot training. */
export function spotMaxWaitMissingRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t?.spot || t.max_wait_seconds !== undefined) return [];
  const suggested = Math.min(2419200, t.max_runtime_seconds * 2);
  return [
    finding(
      ctx,
      'spot-max-wait',
      'error',
      'platform.training.max_wait_seconds',
      'nothing',
      'managed spot training needs a max wait (time waiting for capacity + running), and SageMaker rejects the job without one',
      `write platform.training.max_wait_seconds: ${suggested} (at least max_runtime_seconds: ${t.max_runtime_seconds})`,
    ),
  ];
}

/** SageMaker rejects a max wait below the max runtime. */
export function spotMaxWaitTooShortRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t?.spot || t.max_wait_seconds === undefined || t.max_wait_seconds >= t.max_runtime_seconds) return [];
  return [
    finding(
      ctx,
      'spot-max-wait',
      'error',
      'platform.training.max_wait_seconds',
      String(t.max_wait_seconds),
      `max wait is below max_runtime_seconds (${t.max_runtime_seconds}); SageMaker requires max wait ≥ max runtime`,
      `write platform.training.max_wait_seconds: ${Math.min(2419200, t.max_runtime_seconds * 2)} (≥ ${t.max_runtime_seconds})`,
    ),
  ];
}

/** max_wait_seconds only applies to spot jobs. */
export function maxWaitWithoutSpotRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t || t.spot || t.max_wait_seconds === undefined) return [];
  return [
    finding(
      ctx,
      'max-wait-without-spot',
      'warning',
      'platform.training.max_wait_seconds',
      String(t.max_wait_seconds),
      'max_wait_seconds only applies to managed spot training and is ignored here',
      'remove it, or write platform.training.spot: true',
    ),
  ];
}

/** The run-time estimate exceeds max_runtime_seconds: SageMaker would stop the job before it finishes. */
export function maxRuntimeRule(ctx: LintContext): Finding[] {
  const run = ctx.analysis?.run;
  const t = ctx.doc?.platform.training;
  if (!run || !t || run.totalHours * 3600 <= t.max_runtime_seconds) return [];
  const needed = Math.min(2419200, Math.ceil((run.totalHours * 1.5 * 3600) / 3600) * 3600);
  return [
    finding(
      ctx,
      'max-runtime',
      'warning',
      'platform.training.max_runtime_seconds',
      String(t.max_runtime_seconds),
      `the run is estimated at ${run.totalHours.toFixed(1)} h, longer than the max runtime (${(t.max_runtime_seconds / 3600).toFixed(1)} h): SageMaker stops the job first`,
      `write platform.training.max_runtime_seconds: ${needed}, or train on fewer tokens`,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Instance and distribution
// ---------------------------------------------------------------------------------------------------------------

/** The training instance must be a known SageMaker training type with NVIDIA GPUs. */
export function trainingInstanceRule(ctx: LintContext): Finding[] {
  if (!ctx.doc) return [];
  const type = ctx.doc.platform.training.instance_type;
  const instance = findInstance(type);
  if (instance && isGpuTrainingInstance(instance)) return [];
  const why = !instance
    ? 'unknown instance type (not in lib/recipes/instance-catalog.ts; check the spelling against the SageMaker training types)'
    : !instance.training
      ? 'not a SageMaker training instance type'
      : `not a GPU training type (${instance.accelerator}); the training image needs NVIDIA GPUs`;
  return [
    finding(
      ctx,
      'training-instance',
      'error',
      'platform.training.instance_type',
      show(type),
      why,
      'write a GPU training type such as ml.p5.4xlarge (1×H100), ml.p4de.24xlarge (8×A100 80GB) or ml.p5.48xlarge (8×H100)',
    ),
  ];
}

/** ddp/zero3 on one GPU in total only adds overhead. */
export function distributionOnOneGpuRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  if (!ctx.doc || !a?.instance || a.worldSize !== 1) return [];
  const distribution = ctx.doc.platform.training.distribution;
  if (distribution === 'single-gpu') return [];
  return [
    finding(
      ctx,
      'distribution-one-gpu',
      'warning',
      'platform.training.distribution',
      show(distribution),
      `${a.instance.instanceType} × 1 has one GPU: ${distribution} has nothing to distribute over${distribution.startsWith('zero3') ? ' (ZeRO-3 still pays its gather cost)' : ''}`,
      'write platform.training.distribution: single-gpu, or choose a multi-GPU instance',
    ),
  ];
}

/** single-gpu on a multi-GPU instance leaves GPUs idle (and paid for). */
export function singleGpuOnMultiGpuRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  if (!ctx.doc || !a?.instance || a.instance.gpuCount < 2) return [];
  const t = ctx.doc.platform.training;
  if (t.distribution !== 'single-gpu' || t.instance_count > 1) return [];
  return [
    finding(
      ctx,
      'single-gpu-on-multi-gpu',
      'warning',
      'platform.training.distribution',
      '"single-gpu"',
      `${a.instance.instanceType} has ${a.instance.gpuCount} GPUs but single-gpu trains on one; the other ${a.instance.gpuCount - 1} are paid for and idle`,
      'write platform.training.distribution: ddp (replicated) or zero3 (sharded), or choose a one-GPU instance',
    ),
  ];
}

/** More than one instance needs a distributed launcher. */
export function multiNodeDistributionRule(ctx: LintContext): Finding[] {
  const t = ctx.doc?.platform.training;
  if (!t || t.instance_count < 2 || t.distribution !== 'single-gpu') return [];
  return [
    finding(
      ctx,
      'multi-node-distribution',
      'error',
      'platform.training.distribution',
      '"single-gpu"',
      `instance_count is ${t.instance_count} but single-gpu runs one process: the other instances would idle`,
      'write platform.training.distribution: zero3 (or ddp when the model fits one GPU)',
    ),
  ];
}

/** Multi-node NCCL without EFA is slow. */
export function multiNodeEfaRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  const t = ctx.doc?.platform.training;
  if (!t || !a?.instance || t.instance_count < 2 || a.instance.efa) return [];
  return [
    finding(
      ctx,
      'multi-node-efa',
      'warning',
      'platform.training.instance_type',
      show(t.instance_type),
      `multi-node training (instance_count ${t.instance_count}) on an instance without EFA: ZeRO-3 all-gathers go over plain TCP`,
      'write an EFA instance type such as ml.p4de.24xlarge, ml.p5.48xlarge or ml.p5en.48xlarge',
    ),
  ];
}

/** Pipeline, model package group and endpoint names SageMaker would reject. */
export function resourceNamesRule(ctx: LintContext): Finding[] {
  const out: Finding[] = [];
  if (!/^[a-z0-9](-*[a-z0-9])*$/.test(ctx.name)) {
    const suggestion =
      ctx.name
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'my-recipe';
    out.push(
      finding(
        ctx,
        'resource-names',
        'error',
        '(file name)',
        show(ctx.name),
        'the file name is the pipeline name and must be lowercase letters, digits and inner hyphens (SageMaker lowercases names in ARNs; underscores and dots are rejected)',
        `rename the file to ${suggestion}.yaml`,
      ),
    );
    return out;
  }
  const names: [string, string, number][] = [
    ['pipeline', pipelineName(ctx.config, ctx.name), 256],
    ['model package group', modelPackageGroupName(ctx.config, ctx.name), SAGEMAKER_NAME_MAX_LENGTH],
    ['endpoint', endpointName(ctx.config, ctx.name), SAGEMAKER_NAME_MAX_LENGTH],
  ];
  const badPattern = names.filter(([, name]) => !SAGEMAKER_NAME_PATTERN.test(name));
  const tooLong = names.filter(([, name, max]) => SAGEMAKER_NAME_PATTERN.test(name) && name.length > max);
  const kinds = (list: typeof names) => list.map(([kind]) => kind).join(' and ');
  if (badPattern.length > 0) {
    out.push(
      finding(
        ctx,
        'resource-names',
        'error',
        '(file name)',
        show(badPattern[0][1]),
        `the ${kinds(badPattern)} name${badPattern.length > 1 ? 's do' : ' does'} not match SageMaker's pattern ${SAGEMAKER_NAME_PATTERN.source}`,
        'rename the file using lowercase letters, digits and single hyphens',
      ),
    );
  }
  if (tooLong.length > 0) {
    const [, name, max] = tooLong[0];
    const room = max - resourcePrefix(ctx.config).length - 1;
    out.push(
      finding(
        ctx,
        'resource-names',
        'error',
        '(file name)',
        show(name),
        `the ${kinds(tooLong)} name${tooLong.length > 1 ? 's are' : ' is'} ${name.length} characters; SageMaker allows ${max}`,
        `shorten the file name to at most ${room} characters (the prefix "${resourcePrefix(ctx.config)}-" takes the rest)`,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------------------------

/** The estimated per-GPU peak must fit the training GPUs. */
export function gpuMemoryRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  if (!ctx.doc || !a?.memory || !a.instance?.gpu || !a.model) return [];
  const available = a.instance.gpu.memoryGiB;
  const peak = a.memory.perGpuGiB;
  if (peak <= available * TIGHT_MEMORY_SHARE) return [];
  const top = [...a.memory.components]
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, 3)
    .map((c) => `${c.label} ${gib(c.bytes)}`)
    .join(', ');
  const t = ctx.doc.platform.training;
  if (peak <= available) {
    return [
      finding(
        ctx,
        'gpu-memory',
        'warning',
        'platform.training.instance_type',
        show(t.instance_type),
        `estimated peak ${peak.toFixed(1)} GiB per GPU is over ${TIGHT_MEMORY_SHARE * 100}% of the ${available} GiB available (${top}): little headroom for longer batches`,
        'lower per_device_train_batch_size or max_length, or choose a larger GPU',
      ),
    ];
  }
  const suggestion = suggestTrainingInstance(ctx.doc, a.model, ctx.config.prices);
  const fix = suggestion
    ? `write platform.training.instance_type: ${suggestion.instance.instanceType}${suggestion.distribution !== t.distribution ? ` with distribution: ${suggestion.distribution}` : ''} (est. ${suggestion.memory.perGpuGiB.toFixed(1)} of ${suggestion.instance.gpu?.memoryGiB} GiB, $${suggestion.price.usdPerHour.toFixed(2)}/h), or lower per_device_train_batch_size / max_length`
    : 'shard the model (distribution: zero3 on more GPUs or instances), or lower per_device_train_batch_size / max_length';
  return [
    finding(
      ctx,
      'gpu-memory',
      'error',
      'platform.training.instance_type',
      show(t.instance_type),
      `estimated peak ${peak.toFixed(1)} GiB per GPU exceeds the ${available} GiB of its ${a.instance.gpu.model} (${top})`,
      fix,
    ),
  ];
}

/** Host RAM: offloaded ZeRO-3 state must fit; the LoRA merge builds the bf16 model in host RAM. */
export function hostMemoryRule(ctx: LintContext): Finding[] {
  const a = ctx.analysis;
  if (!ctx.doc || !a?.memory || !a.instance) return [];
  const ram = a.instance.hostMemoryGiB * GiB;
  const [processes, offloaded, merge] = a.memory.hostComponents;
  const out: Finding[] = [];
  if (processes.bytes + offloaded.bytes > ram) {
    out.push(
      finding(
        ctx,
        'host-memory',
        'error',
        'platform.training.distribution',
        show(ctx.doc.platform.training.distribution),
        `estimated host RAM for training ${gib(processes.bytes + offloaded.bytes)} per instance (offloaded state ${gib(offloaded.bytes)}) exceeds the ${a.instance.hostMemoryGiB} GiB of ${a.instance.instanceType}`,
        'write distribution: zero3 (no offload), or choose an instance with more host RAM / more instances',
      ),
    );
  }
  if (merge.bytes > 0 && merge.bytes + processes.bytes / a.instance.gpuCount > ram) {
    out.push(
      finding(
        ctx,
        'host-memory',
        'warning',
        'merge_adapter',
        'true',
        `the LoRA merge builds the ${gib(merge.bytes)} bf16 model in host RAM, more than the ${a.instance.hostMemoryGiB} GiB of ${a.instance.instanceType}`,
        'choose an instance with more host RAM, or write merge_adapter: false and serve the adapter',
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------------------------------------------

/** The serving instance must be a SageMaker hosting type with NVIDIA GPUs (vLLM). */
export function servingInstanceRule(ctx: LintContext): Finding[] {
  const serving = ctx.doc?.platform.serving;
  if (!serving) return [];
  const instance = findInstance(serving.instance_type);
  if (instance && isGpuHostingInstance(instance)) return [];
  const why = !instance
    ? 'unknown instance type (not in lib/recipes/instance-catalog.ts)'
    : !instance.hosting
      ? 'not a SageMaker endpoint instance type'
      : `not a GPU hosting type (${instance.accelerator}); the vLLM serving container needs NVIDIA GPUs`;
  return [
    finding(
      ctx,
      'serving-instance',
      'error',
      'platform.serving.instance_type',
      show(serving.instance_type),
      why,
      'write a GPU endpoint type such as ml.g6e.12xlarge (4×L40S), ml.g5.12xlarge (4×A10G) or ml.p5.48xlarge (8×H100)',
    ),
  ];
}

/** vLLM needs the TP degree to divide the instance's GPUs and the model's attention heads. */
export function servingTensorParallelRule(ctx: LintContext): Finding[] {
  const serving = ctx.doc?.platform.serving;
  const instance = ctx.analysis?.servingInstance;
  const model = ctx.analysis?.model;
  if (!serving || serving.tensor_parallel_degree === undefined || !instance) return [];
  const tp = serving.tensor_parallel_degree;
  const problems: string[] = [];
  if (tp > instance.gpuCount) problems.push(`it exceeds the ${instance.gpuCount} GPUs of ${instance.instanceType}`);
  else if (instance.gpuCount % tp !== 0)
    problems.push(`it does not divide the ${instance.gpuCount} GPUs of ${instance.instanceType}`);
  if (model && model.numAttentionHeads % tp !== 0) {
    problems.push(`it does not divide the ${model.numAttentionHeads} attention heads of ${model.shortName}`);
  }
  if (problems.length === 0) return [];
  const valid = [1, 2, 4, 8].filter(
    (d) => d <= instance.gpuCount && instance.gpuCount % d === 0 && (!model || model.numAttentionHeads % d === 0),
  );
  return [
    finding(
      ctx,
      'serving-tensor-parallel',
      'error',
      'platform.serving.tensor_parallel_degree',
      String(tp),
      `${problems.join(' and ')}, so vLLM cannot start`,
      `write platform.serving.tensor_parallel_degree: ${valid[valid.length - 1] ?? 1} (valid here: ${valid.join(', ')}), or omit it to use all GPUs`,
    ),
  ];
}

/** The merged bf16 model + KV cache must fit the serving GPUs. */
export function servingMemoryRule(ctx: LintContext): Finding[] {
  const serving = ctx.analysis?.serving;
  const instance = ctx.analysis?.servingInstance;
  const block = ctx.doc?.platform.serving;
  if (!serving || !instance || !block) return [];
  if (serving.fitsDefaultBudget) return [];
  const detail = `merged bf16 weights ${gib(serving.weightsPerGpuBytes)} + KV cache ${gib(serving.kvCachePerGpuBytes)} (max_model_len ${block.max_model_len}) + vLLM overhead ${gib(serving.overheadBytes)} = ${gib(serving.requiredPerGpuBytes)} per GPU at tensor-parallel ${serving.tensorParallelDegree}`;
  if (serving.fitsGpu) {
    return [
      finding(
        ctx,
        'serving-memory',
        'error',
        'platform.serving.instance_type',
        show(block.instance_type),
        // the serving container runs vLLM at its default gpu_memory_utilization, so this budget is the real limit
        // (the deploy stage refuses the same recipe at synth).
        `${detail} exceeds vLLM's default budget (${gib(serving.vllmBudgetBytes)} = 90% of ${instance.gpu?.memoryGiB} GiB), which the serving container runs with`,
        'choose a larger serving instance or a higher tensor_parallel_degree, or lower max_model_len',
      ),
    ];
  }
  return [
    finding(
      ctx,
      'serving-memory',
      'error',
      'platform.serving.instance_type',
      show(block.instance_type),
      `${detail} does not fit the ${instance.gpu?.memoryGiB} GiB of a ${instance.gpu?.model}`,
      'choose a serving instance with more GPU memory (e.g. ml.g6e.12xlarge for 20b, ml.p5.48xlarge for 120b) or use all its GPUs for tensor parallelism',
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Quality gate
// ---------------------------------------------------------------------------------------------------------------

/** A quality gate on eval loss needs an evaluation split and an eval strategy. */
export function qualityGateWithoutEvalRule(ctx: LintContext): Finding[] {
  if (!ctx.doc?.platform.quality_gate) return [];
  const out: Finding[] = [];
  const split = numberValue(ctx.doc, 'eval_split_size') ?? 0;
  if (split === 0) {
    out.push(
      finding(
        ctx,
        'quality-gate-without-eval',
        'error',
        'eval_split_size',
        '0',
        'platform.quality_gate compares the eval loss, but no rows are held out for evaluation',
        'write eval_split_size: 0.1 (a share) or a row count',
      ),
    );
  }
  const strategy = stringValue(ctx.doc, 'eval_strategy');
  if (strategy === 'no') {
    out.push(
      finding(
        ctx,
        'quality-gate-without-eval',
        'error',
        'eval_strategy',
        isSet(ctx.doc, 'eval_strategy') ? '"no"' : 'nothing (default "no")',
        'platform.quality_gate compares the eval loss, but evaluation never runs',
        'write eval_strategy: epoch (or steps with eval_steps)',
      ),
    );
  }
  return out;
}

/** Every rule, in report order. */
export const LINT_RULES: readonly LintRule[] = [
  {
    id: 'max-seq-length',
    level: 'error',
    input: 'raw',
    description: 'max_seq_length is not an SFT field (max_length is)',
    check: maxSeqLengthRule,
  },
  {
    id: 'renamed-key',
    level: 'warning',
    input: 'raw',
    description: 'old key names (torch_dtype, warmup_ratio) and their new names',
    check: renamedKeyRule,
  },
  {
    id: 'unknown-model',
    level: 'error',
    input: 'document',
    description: 'model_name_or_path must be gpt-oss-20b or gpt-oss-120b',
    check: unknownModelRule,
  },
  {
    id: 'dtype-float32',
    level: 'warning',
    input: 'document',
    description: 'dtype unset or float32 loads the model in fp32',
    check: dtypeFloat32Rule,
  },
  {
    id: 'expert-params-in-modules-to-save',
    level: 'error',
    input: 'document',
    description: 'expert tensors in lora_modules_to_save train nothing',
    check: expertParamsInModulesToSaveRule,
  },
  {
    id: 'lora-target-modules',
    level: 'error',
    input: 'document',
    description: 'lora_target_modules entries that match nothing or are not Linear',
    check: loraTargetModulesRule,
  },
  {
    id: 'target-parameters-dropout',
    level: 'error',
    input: 'document',
    description: 'lora_target_parameters needs lora_dropout: 0',
    check: targetParametersDropoutRule,
  },
  {
    id: 'target-parameters-unmatched',
    level: 'error',
    input: 'document',
    description: 'lora_target_parameters entries that match no parameter',
    check: targetParametersUnmatchedRule,
  },
  {
    id: 'lora-without-use-peft',
    level: 'warning',
    input: 'document',
    description: 'lora_* keys without use_peft: true run a full fine-tune',
    check: peftKeysWithoutUsePeftRule,
  },
  {
    id: 'expert-lora-zero3',
    level: 'error',
    input: 'document',
    description: 'expert LoRA under ZeRO-3 needs PEFT with peft#3576 (>= 0.21.0)',
    check: expertLoraZero3Rule,
  },
  {
    id: 'attention-implementation',
    level: 'error',
    input: 'document',
    description: 'FlashAttention / SDPA cannot train GPT-OSS; use eager',
    check: attentionImplementationRule,
  },
  {
    id: 'bf16-unsupported',
    level: 'error',
    input: 'document',
    description: 'bf16 on a GPU without bf16 (T4, V100)',
    check: bf16UnsupportedRule,
  },
  {
    id: 'spot-without-checkpoints',
    level: 'error',
    input: 'document',
    description: 'spot needs checkpoints and a save strategy',
    check: spotWithoutCheckpointsRule,
  },
  {
    id: 'spot-max-wait',
    level: 'error',
    input: 'document',
    description: 'spot needs max_wait_seconds >= max_runtime_seconds',
    check: spotMaxWaitMissingRule,
  },
  {
    id: 'spot-max-wait',
    level: 'error',
    input: 'document',
    description: 'spot needs max_wait_seconds >= max_runtime_seconds',
    check: spotMaxWaitTooShortRule,
  },
  {
    id: 'max-wait-without-spot',
    level: 'warning',
    input: 'document',
    description: 'max_wait_seconds without spot is ignored',
    check: maxWaitWithoutSpotRule,
  },
  {
    id: 'training-instance',
    level: 'error',
    input: 'document',
    description: 'training instance must be a known GPU training type',
    check: trainingInstanceRule,
  },
  {
    id: 'distribution-one-gpu',
    level: 'warning',
    input: 'document',
    description: 'ddp/zero3 on one GPU in total',
    check: distributionOnOneGpuRule,
  },
  {
    id: 'single-gpu-on-multi-gpu',
    level: 'warning',
    input: 'document',
    description: 'single-gpu on a multi-GPU instance',
    check: singleGpuOnMultiGpuRule,
  },
  {
    id: 'multi-node-distribution',
    level: 'error',
    input: 'document',
    description: 'instance_count > 1 needs ddp or zero3',
    check: multiNodeDistributionRule,
  },
  {
    id: 'multi-node-efa',
    level: 'warning',
    input: 'document',
    description: 'multi-node on an instance without EFA',
    check: multiNodeEfaRule,
  },
  {
    id: 'resource-names',
    level: 'error',
    input: 'document',
    description: 'pipeline / model package group / endpoint names SageMaker rejects',
    check: resourceNamesRule,
  },
  {
    id: 'gpu-memory',
    level: 'error',
    input: 'document',
    description: 'estimated peak GPU memory over the GPU (error) or over 90% (warning)',
    check: gpuMemoryRule,
  },
  {
    id: 'host-memory',
    level: 'error',
    input: 'document',
    description: 'offloaded state or the LoRA merge over host RAM',
    check: hostMemoryRule,
  },
  {
    id: 'max-runtime',
    level: 'warning',
    input: 'document',
    description: 'estimated run longer than max_runtime_seconds',
    check: maxRuntimeRule,
  },
  {
    id: 'serving-instance',
    level: 'error',
    input: 'document',
    description: 'serving instance must be a known GPU hosting type',
    check: servingInstanceRule,
  },
  {
    id: 'serving-tensor-parallel',
    level: 'error',
    input: 'document',
    description: 'tensor_parallel_degree must divide the GPUs and the heads',
    check: servingTensorParallelRule,
  },
  {
    id: 'serving-memory',
    level: 'error',
    input: 'document',
    description: 'merged bf16 model + KV cache must fit the serving GPUs',
    check: servingMemoryRule,
  },
  {
    id: 'quality-gate-without-eval',
    level: 'error',
    input: 'document',
    description: 'quality_gate needs eval_split_size > 0 and an eval_strategy',
    check: qualityGateWithoutEvalRule,
  },
];

/** Keys the raw rules explain better than the schema's "unknown key" (stripped before the schema runs). */
export const KEYS_EXPLAINED_BY_LINT: readonly string[] = ['max_seq_length'];
