import { stringValue } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { supportsFlashAttention3 } from '../gpu-catalog';
import { finding, show, type LintContext, type LintRule } from './rule-support';

/** FlashAttention kernels cannot train GPT-OSS (no attention-sink backward); SDPA is disabled for GPT-OSS. */
export function attentionImplementationRule(ctx: LintContext): Finding[] {
  if (!ctx.doc) return [];
  const attn = stringValue(ctx.doc, 'attn_implementation');
  if (attn === undefined) return [];
  const gpu = ctx.analysis?.instance?.gpu;
  let why: string;
  if (/flash|fa3/i.test(attn)) {
    const hopper = gpu
      ? ` and FA3 runs on Hopper only (this instance: ${gpu.model}, ${gpu.architecture}${supportsFlashAttention3(gpu) ? '' : ', not Hopper'})`
      : ' and FA3 runs on Hopper only';
    why = `FlashAttention kernels have no backward pass for GPT-OSS attention sinks (Dao-AILab/flash-attention#1797)${hopper}`;
  } else if (attn === 'sdpa') {
    why = 'transformers does not support SDPA for GPT-OSS (attention sinks) and refuses to load the model with it';
  } else {
    return [];
  }
  return [
    finding(
      ctx,
      'attention-implementation',
      'error',
      'attn_implementation',
      show(attn),
      why,
      'write attn_implementation: eager',
    ),
  ];
}

/** Rule `attention-implementation`. */
export const attentionImplementation: LintRule = {
  id: 'attention-implementation',
  level: 'error',
  input: 'document',
  description: 'FlashAttention / SDPA cannot train GPT-OSS; use eager',
  check: attentionImplementationRule,
};
