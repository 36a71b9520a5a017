import { stringify } from 'yaml';
import fields from '../../lib/config/recipe-fields.generated.json';
import { formatFinding } from '../../lib/recipes/findings';
import { goodRecipe, validate } from './support';
import { CHOICE_CASES, OTHER_CASES, RANGE_CASES, TYPE_CASES } from './value-cases/value-case';

/**
 * Each value check of the recipe schema both ways: the good recipe with the accepted value has no schema finding
 * for the key; with the refused value it has exactly one, at the value's line and column, saying what was found
 * and what is expected (with the closest valid choice for a typo).
 */

const CASES = [...RANGE_CASES, ...CHOICE_CASES, ...OTHER_CASES, ...TYPE_CASES];
const schemaFindings = (v: ReturnType<typeof validate>, key: string) =>
  v.findings.filter((f) => f.rule === 'schema' && (f.keyPath === key || f.keyPath.startsWith(`${key}[`)));

describe.each(CASES)('$key: $good passes, $bad fails', (c) => {
  test('passes with the accepted value', () => {
    const doc = goodRecipe();
    doc[c.key] = c.good;
    expect(schemaFindings(validate(doc), c.key).map(formatFinding)).toEqual([]);
  });

  test('fails with the refused value, at its line and column', () => {
    // GIVEN the good recipe with the refused value
    const doc = goodRecipe();
    doc[c.key] = c.bad;
    // WHEN validated
    const v = validate(doc);
    // THEN one schema error names the key and value, at the value's position
    const hits = schemaFindings(v, c.key);
    expect(hits.map(formatFinding)).toHaveLength(1);
    expect(hits[0].message).toMatch(c.message);
    expect(v.valid).toBe(false);
    // (a scalar right after "key: "; a list's bad last item on its own "  - item" line)
    const lines = stringify(doc).split('\n');
    const keyLine = lines.findIndex((l) => l.startsWith(`${c.key}:`)) + 1;
    if (Array.isArray(c.bad)) {
      expect(lines[keyLine + c.bad.length - 1]).toBe(`  - ${String(c.bad.at(-1))}`);
      expect([hits[0].line, hits[0].column]).toEqual([keyLine + c.bad.length, 5]);
    } else {
      expect([hits[0].line, hits[0].column]).toEqual([keyLine, c.key.length + 3]);
    }
  });
});

test('every exported range has a case', () => {
  const ranged = Object.entries(fields.fields as Record<string, object>)
    .filter(([, f]) => 'rangeWhy' in f)
    .map(([k]) => k);
  const covered = new Set(RANGE_CASES.map((c) => c.key));
  expect(ranged.filter((k) => !covered.has(k))).toEqual([]);
  expect(ranged.length).toBeGreaterThanOrEqual(25);
});
