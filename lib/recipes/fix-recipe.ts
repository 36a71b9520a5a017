import { isMap, isScalar, parseDocument } from 'yaml';
import { RENAMED_KEYS } from '../config/recipe-schema';

/**
 * `recipes --fix`: rewrites the keys the pinned libraries renamed (lib/config/recipe-schema.ts `RENAMED_KEYS`:
 * `torch_dtype` → `dtype`, `warmup_ratio` → `warmup_steps`) in a recipe's text. Only the characters of each old key
 * are replaced, at the offsets the YAML parser reports, so comments, blank lines, quoting and number formats stay
 * exactly as written.
 *
 * `warmup_ratio` → `warmup_steps` is a plain rename for ratios below 1: transformers 5 reads a `warmup_steps`
 * value in [0, 1) as a share of the total steps and a value ≥ 1 as a step count (docs/facts/training.md §2). A ratio
 * of 1 (warm up for the whole run) has no equivalent below 1, so that key is left for the author, with the reason.
 */

export interface KeyRename {
  readonly from: string;
  readonly to: string;
  /** 1-based line of the key. */
  readonly line: number;
}

export interface SkippedRename {
  readonly key: string;
  readonly line: number;
  readonly reason: string;
}

export interface FixResult {
  /** The rewritten text (equal to the input when nothing changed). */
  readonly text: string;
  readonly renamed: readonly KeyRename[];
  readonly skipped: readonly SkippedRename[];
  /** Set when the text is not a YAML mapping this can edit (syntax error, not a mapping). */
  readonly unreadable?: string;
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** Renames the old keys in `text`; see the module comment. Pure: the caller writes the file. */
export function fixRenamedKeys(text: string): FixResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    return {
      text,
      renamed: [],
      skipped: [],
      unreadable: `line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`,
    };
  }
  if (!isMap(doc.contents)) return { text, renamed: [], skipped: [], unreadable: 'expected a mapping of recipe keys' };
  const present = new Set(doc.contents.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '')));
  const edits: { start: number; end: number; rename: KeyRename }[] = [];
  const skipped: SkippedRename[] = [];
  for (const pair of doc.contents.items) {
    if (!isScalar(pair.key) || !pair.key.range) continue;
    const from = String(pair.key.value);
    const to = RENAMED_KEYS[from];
    if (!to) continue;
    const [start, end] = pair.key.range;
    const line = lineOf(text, start);
    if (present.has(to)) {
      skipped.push({ key: from, line, reason: `${to} is set too; remove the one you do not mean` });
      continue;
    }
    if (from === 'warmup_ratio') {
      const value = isScalar(pair.value) ? pair.value.value : undefined;
      if (typeof value !== 'number' || value < 0 || value >= 1) {
        skipped.push({
          key: from,
          line,
          reason:
            `found ${JSON.stringify(value ?? null)}; warmup_steps reads only values in [0, 1) as a share of the run, ` +
            'so write warmup_steps as a number of steps yourself',
        });
        continue;
      }
    }
    edits.push({ start, end, rename: { from, to, line } });
  }
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start) + edit.rename.to + out.slice(edit.end);
  }
  return { text: out, renamed: edits.map((e) => e.rename), skipped };
}
