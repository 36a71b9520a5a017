import * as path from 'node:path';
import { convertRow, DatasetStats, estimateTokens, reasoningLanguage, validateMessages } from '../../lib/cli/dataset';
import { arrayElementLines, readRows } from '../../lib/cli/dataset-reader';
import { FIXTURES } from './support';

const user = (content: string, extra: Record<string, unknown> = {}) => ({ role: 'user', content, ...extra });
const assistant = (content: string, extra: Record<string, unknown> = {}) => ({ role: 'assistant', content, ...extra });

function reasonOf(value: unknown): string {
  const r = convertRow(value);
  if (r.ok) throw new Error(`expected a problem, got a valid row: ${JSON.stringify(r.info.row)}`);
  return r.reason;
}

describe('chat row validation', () => {
  test('accepts system, user, assistant with thinking on the assistant turn only', () => {
    // GIVEN a Multilingual-Thinking style conversation
    const row = {
      messages: [
        { role: 'system', content: 'reasoning language: French\n\nBe brief.', thinking: null },
        user('Hi', { thinking: null }),
        assistant('Hello!', { thinking: 'Je salue.' }),
      ],
    };
    // WHEN it is converted
    const r = convertRow(row);
    // THEN it keeps the turns, drops the null thinking, and finds the language in the system prompt
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.info.row).toEqual({
      messages: [
        { role: 'system', content: 'reasoning language: French\n\nBe brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!', thinking: 'Je salue.' },
      ],
    });
    expect(r.info.language).toBe('French');
    expect(r.info.hasReasoning).toBe(true);
  });

  test('builds the conversation from the flat Multilingual-Thinking fields', () => {
    // GIVEN a row with only the flat fields
    const r = convertRow({
      reasoning_language: 'Spanish',
      developer: 'Be kind.',
      user: 'Q?',
      analysis: 'Pienso.',
      final: 'A.',
    });
    // THEN the system turn carries the reasoning language the way the dataset writes it
    expect(r.ok && r.info.row.messages).toEqual([
      { role: 'system', content: 'reasoning language: Spanish\n\nBe kind.' },
      { role: 'user', content: 'Q?' },
      { role: 'assistant', content: 'A.', thinking: 'Pienso.' },
    ]);
    expect(r.ok && r.info.language).toBe('Spanish');
  });

  test('accepts tool turns between assistant turns', () => {
    const r = validateMessages([
      user('Weather?'),
      { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather' }] },
      { role: 'tool', content: '{"temp": 21}' },
      assistant('21 degrees.'),
    ]);
    expect('turns' in r).toBe(true);
  });

  test.each([
    [
      'thinking on a user turn',
      { messages: [user('Hi', { thinking: 'x' }), assistant('Hi')] },
      /messages\[0\]\.thinking: set on a "user" turn/,
    ],
    ['an empty content', { messages: [user('Hi'), assistant('  ')] }, /messages\[1\]\.content: is empty/],
    ['a missing content', { messages: [user('Hi'), { role: 'assistant' }] }, /messages\[1\]\.content: found nothing/],
    [
      'an unknown role',
      { messages: [{ role: 'bot', content: 'x' }, assistant('y')] },
      /messages\[0\]\.role: found "bot"; expected one of/,
    ],
    [
      'an assistant first',
      { messages: [assistant('x'), user('y')] },
      /first turn after system\/developer must be "user"/,
    ],
    ['two user turns', { messages: [user('a'), user('b'), assistant('c')] }, /two "user" turns in a row/],
    [
      'two assistant turns',
      { messages: [user('a'), assistant('b'), assistant('c')] },
      /two "assistant" turns in a row/,
    ],
    [
      'a late system turn',
      { messages: [user('a'), { role: 'system', content: 's' }, assistant('c')] },
      /"system" after the conversation started/,
    ],
    ['a trailing user turn', { messages: [user('a'), assistant('b'), user('c')] }, /ends with a "user" turn/],
    [
      'a tool turn without a call',
      { messages: [user('a'), { role: 'tool', content: 'r' }, assistant('c')] },
      /must follow an assistant turn/,
    ],
    ['no user turn', { messages: [{ role: 'system', content: 's' }] }, /has no "user" turn/],
    ['an empty list', { messages: [] }, /messages: is empty/],
    [
      'a harmony tag in content',
      { messages: [user('a'), assistant('<|start|>x')] },
      /contains the chat-format tag "<\|start\|>"/,
    ],
    [
      'thinking that is not text',
      { messages: [user('a'), assistant('b', { thinking: 3 })] },
      /thinking: found 3; expected the reasoning text or null/,
    ],
    ['an unknown shape', { prompt: 'p', completion: 'c' }, /found keys prompt, completion; expected "messages"/],
    [
      'a flat row without final',
      { reasoning_language: 'German', user: 'q' },
      /final: found nothing; expected a non-empty string/,
    ],
    ['a non-object row', [1, 2], /expected a JSON object/],
  ])('fails on %s', (_name, row, expected) => {
    // GIVEN a bad row WHEN it is converted THEN the reason names the key and what to write
    expect(reasonOf(row)).toMatch(expected);
  });
});

describe('languages and token estimates', () => {
  test('prefers reasoning_language over the prompt', () => {
    expect(
      reasoningLanguage({ reasoning_language: 'Italian' }, [{ role: 'system', content: 'reasoning language: German' }]),
    ).toBe('Italian');
    expect(reasoningLanguage({}, [{ role: 'developer', content: 'Reasoning language: Hindi\nrest' }])).toBe('Hindi');
    expect(reasoningLanguage({}, [{ role: 'user', content: 'reasoning language: Thai' }])).toBeUndefined();
  });

  test('counts about four characters per token and one per CJK character', () => {
    const latin = estimateTokens([{ role: 'user', content: 'a'.repeat(400) }]);
    const cjk = estimateTokens([{ role: 'user', content: '水'.repeat(400) }]);
    // 30 template + 4 per turn + 100 text tokens; CJK: 400 text tokens.
    expect(latin).toBe(134);
    expect(cjk).toBe(434);
  });

  test('aggregates languages most frequent first and counts long examples', () => {
    const stats = new DatasetStats();
    for (const [language, tokens] of [
      ['French', 50],
      ['German', 200],
      ['French', 120],
    ] as const) {
      stats.add({ row: { messages: [] }, language, estimatedTokens: tokens, hasReasoning: true });
    }
    stats.add({ row: { messages: [] }, estimatedTokens: 10, hasReasoning: false });
    expect(stats.languageCounts()).toEqual([
      ['French', 2],
      ['(not stated)', 1],
      ['German', 1],
    ]);
    expect(stats.countLongerThan(100)).toBe(2);
    expect(stats.averageTokens).toBe(95);
    expect(stats.withReasoning).toBe(3);
  });
});

describe('dataset files', () => {
  async function collect(file: string) {
    const rows = [];
    for await (const r of readRows(path.join(FIXTURES, file))) rows.push(r);
    return rows;
  }

  test('JSONL rows carry their physical line numbers, blank lines skipped', async () => {
    const rows = await collect('broken.jsonl');
    expect(rows.map((r) => r.where)).toEqual([
      'line 1',
      'line 2',
      'line 3',
      'line 5',
      'line 6',
      'line 7',
      'line 8',
      'line 9',
      'line 10',
    ]);
    expect(rows[4]).toEqual({ where: 'line 6', parseError: expect.stringMatching(/^not valid JSON/) });
  });

  test('JSON array items carry the line they start on', async () => {
    const rows = await collect('broken.json');
    expect(rows.map((r) => r.where)).toEqual(['line 2 (item 1)', 'line 8 (item 2)']);
    expect(arrayElementLines('[\n {"a": "[,]"},\n\n {"b": [1,\n2]}, 3]')).toEqual([2, 4, 5]);
  });

  test('Parquet (zstd, list<struct> messages) reads the same rows as the JSONL it was made from', async () => {
    const fromParquet = (await collect('multilingual-thinking.parquet')).map((r) =>
      'value' in r ? convertRow(r.value) : r,
    );
    const fromJsonl = (await collect('multilingual-thinking.jsonl')).map((r) =>
      'value' in r ? convertRow(r.value) : r,
    );
    expect(fromParquet).toHaveLength(6);
    expect(fromParquet).toEqual(fromJsonl);
  });

  test('fails on an unsupported file type', () => {
    expect(() => readRows(path.join(FIXTURES, 'project', 'cdk.json').replace('.json', '.csv'))).toThrow(
      /file not found/,
    );
    expect(() => readRows(path.join(FIXTURES, 'make_parquet.py'))).toThrow(/unsupported file type "\.py"/);
  });
});
