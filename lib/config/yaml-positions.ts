import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLError } from 'yaml';

/**
 * Where a key path sits in a parsed YAML file, from the `yaml` library's node ranges: findings point at the value
 * (or at the key, for an unknown key; or at the nearest enclosing key, for a missing one) as `file:line:column`.
 */

export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** `platform.training.instance_type`, `lora_target_parameters[1]` → segments; `x (line 3)` → `x`. */
export function keyPathSegments(keyPath: string): (string | number)[] {
  const clean = keyPath.replace(/ \(line \d+\)$/, '');
  if (clean.startsWith('(')) return [];
  const out: (string | number)[] = [];
  for (const part of clean.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!match) return out;
    if (match[1]) out.push(match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

function at(lineCounter: LineCounter, node: Node | null | undefined): Position | undefined {
  const offset = node?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/**
 * The position of `keyPath`'s value (`target: 'key'`: of its key). A path that is not in the file resolves to the
 * deepest key of it that is, or to line 1, column 1.
 */
export function positionOf(
  doc: Document,
  lineCounter: LineCounter,
  keyPath: string,
  target: 'value' | 'key' = 'value',
): Position {
  let node: unknown = doc.contents;
  let best: Position = { line: 1, column: 1 };
  const segments = keyPathSegments(keyPath);
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (isMap(node) && typeof segment === 'string') {
      // With duplicate keys YAML keeps the last one, and so do we.
      const pair = node.items.filter((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment).pop();
      if (!pair) return best;
      const keyPosition = at(lineCounter, pair.key as Node);
      if (last && target === 'key') return keyPosition ?? best;
      best = (last ? at(lineCounter, pair.value as Node) : undefined) ?? keyPosition ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!item) return best;
      best = at(lineCounter, item as Node) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

/** A YAML syntax error's message without the position the library appends (the finding carries it once). */
export function yamlErrorMessage(error: YAMLError): string {
  return error.message
    .split('\n')[0]
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
}

/** A YAML syntax error's position. */
export function yamlErrorPosition(error: YAMLError): Position {
  const pos = error.linePos?.[0];
  return pos ? { line: pos.line, column: pos.col } : { line: 1, column: 1 };
}
