import type { Finding } from '../findings';
import { finding, type LintContext, type LintRule, show } from './rule-support';

/**
 * `trust_remote_code: true` makes transformers import Python files from the model repository, i.e. run code
 * that no review of this repository saw; GPT-OSS is supported natively, so it is never needed.
 */
export function trustRemoteCodeRule(ctx: LintContext): Finding[] {
  const value = ctx.raw.trust_remote_code;
  if (value === undefined || value === null || value === false || String(value).toLowerCase() === 'false') return [];
  return [
    finding(
      ctx,
      'trust-remote-code',
      'error',
      'trust_remote_code',
      show(value),
      'runs Python code from the model repository inside the job; the pinned transformers supports GPT-OSS natively',
      'remove trust_remote_code (or write false)',
    ),
  ];
}

/** Rule `trust-remote-code`. */
export const trustRemoteCode: LintRule = {
  id: 'trust-remote-code',
  level: 'error',
  input: 'raw',
  description: 'trust_remote_code must not be true',
  check: trustRemoteCodeRule,
};
