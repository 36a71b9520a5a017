import type { Finding } from '../findings';
import { asYaml, finding, show, type LintContext, type LintRule } from './rule-support';

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

/** Rule `max-seq-length`. */
export const maxSeqLength: LintRule = {
  id: 'max-seq-length',
  level: 'error',
  input: 'raw',
  description: 'max_seq_length is not an SFT field (max_length is)',
  check: maxSeqLengthRule,
};
