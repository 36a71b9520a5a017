import leven from 'leven';

/**
 * "Did you mean …": the known name closest to a misspelt one by edit distance, when it is close enough to be a
 * typo (at most a third of the word, and at least 2 and at most 3 edits: `bdf` → `bfd` is two) rather than a different
 * word.
 */
export function closestName(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(2, Math.floor(word.length / 3)));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = leven(word.toLowerCase(), name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}
