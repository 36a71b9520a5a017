import { type GptOssModelSpec, type ModelParameter, modelParameters, parameterCount } from './model-catalog';

/**
 * What a recipe's LoRA keys actually reach on a GPT-OSS model, resolved the way TRL 1.x + PEFT 0.21 do it:
 * - TRL collapses a one-element `lora_target_modules` list to a string; PEFT treats `"all-linear"` as every
 *   `nn.Linear` except the output head, any other string as a full-match regex, and a list by exact name or
 *   `.`-suffix (peft `check_target_module_exists`).
 * - `lora_target_parameters` match a parameter's full name exactly or by `.`-suffix (peft `_inject_parameters`);
 *   a 3-D expert tensor `[experts, in, out]` gets LoRA A `[r·experts, in]` and B `[out, r·experts]`
 *   (peft `ParamWrapper.update_layer`).
 * - `lora_modules_to_save` name modules (trained in full, with a copy); expert tensors are parameters, so they
 *   match nothing there (docs/facts/training.md §1, defect b).
 */

export interface ModelModule {
  readonly name: string;
  /** `nn.Linear` (LoRA-able by target_modules) or another module type. */
  readonly linear: boolean;
  /** Parameters owned by this module and its children. */
  readonly params: number;
}

/** Every named module of a GPT-OSS model (containers included), in transformers' naming. */
export function modelModules(model: GptOssModelSpec): ModelModule[] {
  const params = modelParameters(model);
  const owned = new Map<string, number>();
  for (const p of params) {
    const parts = p.name.split('.');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('.');
      owned.set(prefix, (owned.get(prefix) ?? 0) + parameterCount(p));
    }
  }
  const linear = new Set(params.filter((p) => p.linearModule).map((p) => p.linearModule as string));
  return [...owned.entries()].map(([name, count]) => ({ name, linear: linear.has(name), params: count }));
}

const matchesSuffix = (name: string, target: string) => name === target || name.endsWith(`.${target}`);

export interface LoraTargetInput {
  readonly usePeft: boolean;
  readonly r: number;
  readonly targetModules: readonly string[];
  readonly targetParameters: readonly string[];
  readonly modulesToSave: readonly string[];
}

export interface LoraResolution {
  /** Linear modules that get a LoRA adapter. */
  readonly adaptedModules: readonly string[];
  /** Target-module entries that matched no module at all. */
  readonly unmatchedModuleTargets: readonly string[];
  /** Target-module entries that matched only non-Linear modules (PEFT refuses them). */
  readonly unsupportedModuleTargets: readonly string[];
  /** Parameter tensors that get a LoRA ParamWrapper. */
  readonly adaptedParameters: readonly ModelParameter[];
  /** Target-parameter entries that matched no parameter. */
  readonly unmatchedParameterTargets: readonly string[];
  /** Modules trained in full (modules_to_save). */
  readonly savedModules: readonly string[];
  /** modules_to_save entries that matched no module. */
  readonly unmatchedModulesToSave: readonly string[];
  /** LoRA A+B parameters. */
  readonly loraParams: number;
  /** Parameters of the modules trained in full (each also gets a trainable copy). */
  readonly modulesToSaveParams: number;
  /** True when LoRA reaches the expert tensors. */
  readonly touchesExperts: boolean;
}

/** Resolves the LoRA keys against the model's modules and parameters. */
export function resolveLoraTargets(model: GptOssModelSpec, input: LoraTargetInput): LoraResolution {
  const modules = modelModules(model);
  const params = modelParameters(model);
  const r = input.r;

  // TRL's ModelConfig turns a one-element list into a plain string.
  const single = input.targetModules.length === 1 ? input.targetModules[0] : undefined;
  const adapted = new Set<string>();
  const unmatchedModuleTargets: string[] = [];
  const unsupportedModuleTargets: string[] = [];
  if (single === 'all-linear') {
    for (const m of modules) if (m.linear && m.name !== 'lm_head') adapted.add(m.name);
  } else {
    for (const target of input.targetModules) {
      let regex: RegExp | undefined;
      if (single !== undefined) {
        try {
          regex = new RegExp(`^(?:${target})$`);
        } catch {
          regex = undefined;
        }
      }
      const hits = modules.filter((m) => (regex ? regex.test(m.name) : matchesSuffix(m.name, target)));
      if (hits.length === 0) unmatchedModuleTargets.push(target);
      else if (hits.every((m) => !m.linear)) unsupportedModuleTargets.push(target);
      for (const m of hits) if (m.linear) adapted.add(m.name);
    }
  }

  const adaptedParameters: ModelParameter[] = [];
  const unmatchedParameterTargets: string[] = [];
  for (const target of input.targetParameters) {
    const hits = params.filter((p) => matchesSuffix(p.name, target));
    if (hits.length === 0) unmatchedParameterTargets.push(target);
    for (const p of hits) if (!adaptedParameters.includes(p)) adaptedParameters.push(p);
  }

  const savedModules: string[] = [];
  const unmatchedModulesToSave: string[] = [];
  for (const target of input.modulesToSave) {
    const hits = modules.filter((m) => matchesSuffix(m.name, target));
    if (hits.length === 0) unmatchedModulesToSave.push(target);
    for (const m of hits) if (!savedModules.includes(m.name)) savedModules.push(m.name);
  }

  let loraParams = 0;
  for (const name of adapted) {
    const weight = params.find((p) => p.name === `${name}.weight`);
    if (weight) loraParams += r * (weight.shape[0] + weight.shape[1]);
  }
  for (const p of adaptedParameters) {
    const [experts, inFeatures, outFeatures] = p.shape.length === 3 ? p.shape : [1, p.shape[1] ?? 1, p.shape[0]];
    loraParams += r * experts * (inFeatures + outFeatures);
  }
  const modulesToSaveParams = savedModules.reduce(
    (sum, m) => sum + (modules.find((x) => x.name === m)?.params ?? 0),
    0,
  );

  return {
    adaptedModules: [...adapted],
    unmatchedModuleTargets,
    unsupportedModuleTargets,
    adaptedParameters,
    unmatchedParameterTargets,
    savedModules,
    unmatchedModulesToSave,
    loraParams: input.usePeft ? loraParams : 0,
    modulesToSaveParams: input.usePeft ? modulesToSaveParams : 0,
    touchesExperts: input.usePeft && adaptedParameters.some((p) => p.name.includes('.mlp.experts.')),
  };
}

/** Names that are GPT-OSS expert/router tensors (parameters, not modules), e.g. `7.mlp.experts.gate_up_proj`. */
export const EXPERT_PARAMETER_PATTERN =
  /(^|\.)(mlp\.)?(experts\.)?(gate_up_proj|down_proj)(_bias)?$|(^|\.)router\.weight$/;
