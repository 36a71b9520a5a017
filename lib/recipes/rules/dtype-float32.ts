import { modelDtype } from '../../config/recipe-values';
import type { Finding } from '../findings';
import { finding, show, type LintContext, type LintRule } from './rule-support';

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

/** Rule `dtype-float32`. */
export const dtypeFloat32: LintRule = {
  id: 'dtype-float32',
  level: 'warning',
  input: 'document',
  description: 'dtype unset or float32 loads the model in fp32',
  check: dtypeFloat32Rule,
};
