import { type Document, isPair, isSeq, type Node, visit } from 'yaml';

/**
 * Explicit YAML tags (`!!python/object:...`, `!!str`, any `!tag`) in a recipe. A recipe is plain data; a tag asks
 * the reader to construct something, and the Python loader in the job would be asked the same
 * (training-code/gpt_oss_train/recipe.py refuses them too), so every explicit tag is refused wherever it sits.
 */
export interface ExplicitTag {
  /** Dotted key path, list items as `[i]`. */
  readonly keyPath: string;
  readonly tag: string;
  /** The tagged value as text. */
  readonly value: string;
  readonly line?: number;
}

export function explicitTags(doc: Document, source: string): ExplicitTag[] {
  const found: ExplicitTag[] = [];
  visit(doc, {
    Node(key, node, path) {
      if (!node.tag) return;
      const parts: string[] = [];
      for (let i = 0; i < path.length; i++) {
        const p = path[i];
        if (isPair(p)) parts.push(String((p.key as Node | null)?.toJSON?.() ?? p.key));
        else if (isSeq(p)) {
          const next = path[i + 1] ?? node;
          parts.push(`[${p.items.indexOf(next as never)}]`);
        }
      }
      if (key === 'key') parts.push('(key)');
      const start = node.range?.[0];
      const line = start === undefined ? undefined : source.slice(0, start).split('\n').length;
      found.push({
        keyPath: parts.join('.').replace(/\.\[/g, '[') || '(top level)',
        tag: node.tag.replace(/^tag:yaml\.org,2002:/, '!!'),
        value: JSON.stringify(node.toJSON()),
        line,
      });
    },
  });
  return found;
}

/** The refusal text for one tag. */
export function tagMessage(t: ExplicitTag): string {
  return `${t.keyPath}: found ${t.tag} ${t.value}${t.line ? ` (line ${t.line})` : ''}; YAML tags are not allowed in a recipe, write the plain value`;
}
