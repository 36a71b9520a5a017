import { RENAMED_KEYS, TRAINING_LIBRARY_VERSIONS } from '../../config/recipe-schema';
import type { Finding } from '../findings';
import { asYaml, finding, show, type LintContext, type LintRule } from './rule-support';

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

/** Rule `renamed-key`. */
export const renamedKey: LintRule = {
  id: 'renamed-key',
  level: 'warning',
  input: 'raw',
  description: 'old key names (torch_dtype, warmup_ratio) and their new names',
  check: renamedKeyRule,
};
