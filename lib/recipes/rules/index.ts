/**
 * The recipe lint rules, one per file (like cdk-nag's rule packs): `npm run recipes` reports their findings and
 * `cdk synth` refuses a recipe with an error-level one (lib/recipes/report.ts). To add a rule, write
 * `<rule-id>.ts` next to this file and list it below.
 */
import { attentionImplementation } from './attention-implementation';
import { baseModelSource } from './base-model-source';
import { bf16Unsupported } from './bf16-unsupported';
import { distributionOneGpu } from './distribution-one-gpu';
import { dtypeFloat32 } from './dtype-float32';
import { expertLoraZero3 } from './expert-lora-zero3';
import { expertParamsInModulesToSave } from './expert-params-in-modules-to-save';
import { gpuMemory } from './gpu-memory';
import { hostMemory } from './host-memory';
import { loraTargetModules } from './lora-target-modules';
import { loraWithoutUsePeft } from './lora-without-use-peft';
import { maxRuntime } from './max-runtime';
import { maxSeqLength } from './max-seq-length';
import { maxWaitWithoutSpot } from './max-wait-without-spot';
import { multiNodeDistribution } from './multi-node-distribution';
import { multiNodeEfa } from './multi-node-efa';
import { qualityGateWithoutEval } from './quality-gate-without-eval';
import { renamedKey } from './renamed-key';
import { reportToReplaced } from './report-to-replaced';
import { resourceNames } from './resource-names';
import type { LintRule } from './rule-support';
import { servingImage } from './serving-image';
import { servingInstance } from './serving-instance';
import { servingMaxModelLen } from './serving-max-model-len';
import { servingMemory } from './serving-memory';
import { servingTensorParallel } from './serving-tensor-parallel';
import { singleGpuOnMultiGpu } from './single-gpu-on-multi-gpu';
import { spotMaxWait } from './spot-max-wait';
import { spotWithoutCheckpoints } from './spot-without-checkpoints';
import { stepIntervals } from './step-intervals';
import { targetParametersDropout } from './target-parameters-dropout';
import { targetParametersUnmatched } from './target-parameters-unmatched';
import { trainingArgumentConflicts } from './training-argument-conflicts';
import { trainingImage } from './training-image';
import { trainingInstance } from './training-instance';
import { unknownModel } from './unknown-model';

/** Every rule, in report order. */
export const LINT_RULES: readonly LintRule[] = [
  maxSeqLength,
  renamedKey,
  unknownModel,
  baseModelSource,
  dtypeFloat32,
  expertParamsInModulesToSave,
  loraTargetModules,
  targetParametersDropout,
  targetParametersUnmatched,
  loraWithoutUsePeft,
  expertLoraZero3,
  attentionImplementation,
  bf16Unsupported,
  spotWithoutCheckpoints,
  spotMaxWait,
  maxWaitWithoutSpot,
  trainingInstance,
  trainingImage,
  distributionOneGpu,
  singleGpuOnMultiGpu,
  multiNodeDistribution,
  multiNodeEfa,
  resourceNames,
  gpuMemory,
  hostMemory,
  maxRuntime,
  servingInstance,
  servingTensorParallel,
  servingMemory,
  servingMaxModelLen,
  servingImage,
  qualityGateWithoutEval,
  reportToReplaced,
  stepIntervals,
  trainingArgumentConflicts,
];

/** Keys the raw rules explain better than the schema's "unknown key" (stripped before the schema runs). */
export const KEYS_EXPLAINED_BY_LINT: readonly string[] = ['max_seq_length'];
