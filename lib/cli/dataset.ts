/**
 * Validation and conversion of chat fine-tuning rows. Two input shapes are accepted:
 *
 * - plain chat: `{"messages": [{"role": "system"|"developer"|"user"|"assistant"|"tool", "content": "...",
 *   "thinking": "..."}]}` (the reasoning in `thinking`, on assistant turns only);
 * - HuggingFaceH4/Multilingual-Thinking: `reasoning_language`, `developer`, `user`, `analysis`, `final`
 *   (and usually the same conversation in `messages`, which then wins).
 *
 * Every row becomes `{"messages": [...]}`, the conversational format TRL's SFTTrainer reads and the
 * GPT-OSS chat template renders (system → developer message, `thinking` → analysis channel, `content` →
 * final channel).
 */

export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;
export type Role = (typeof ROLES)[number];

/** One training turn as written to the JSONL. */
export interface ChatTurn {
  role: Role;
  content: string;
  thinking?: string;
}

/** A converted row. */
export interface TrainingRow {
  messages: ChatTurn[];
}

/** A problem in one row: the location (`line 7`, `row 3`) and what to fix. */
export interface RowProblem {
  readonly where: string;
  readonly reason: string;
}

/** What a valid row contributes to the report. */
export interface RowInfo {
  readonly row: TrainingRow;
  /** Reasoning language, or undefined when neither the row nor its system prompt names one. */
  readonly language?: string;
  readonly estimatedTokens: number;
  readonly hasReasoning: boolean;
}

/** Harmony control tokens; a content string holding one would break the rendered conversation. */
const HARMONY_TAG = /<\|(start|end|message|channel|return|call|constrain)\|>/;
const LANGUAGE_IN_PROMPT = /reasoning language:\s*([^\n.;,]+)/i;
const MT_FIELDS = ['reasoning_language', 'developer', 'user', 'analysis', 'final'] as const;

type Result = { ok: true; info: RowInfo } | { ok: false; reason: string };

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function checkText(value: unknown, key: string): string | undefined {
  if (typeof value !== 'string') return `${key}: found ${describe(value)}; expected a non-empty string`;
  if (value.trim().length === 0) return `${key}: is empty; write the text or drop the row`;
  if (HARMONY_TAG.test(value)) {
    return `${key}: contains the chat-format tag "${HARMONY_TAG.exec(value)?.[0]}"; remove it (the template adds tags itself)`;
  }
  return undefined;
}

/** Validates the `messages` of one row and returns the cleaned turns, or the first problem found. */
export function validateMessages(messages: unknown): { turns: ChatTurn[] } | { reason: string } {
  if (!Array.isArray(messages)) return { reason: `messages: found ${describe(messages)}; expected a list of turns` };
  if (messages.length === 0) return { reason: 'messages: is empty; a row needs at least a user and an assistant turn' };
  const turns: ChatTurn[] = [];
  let previous: Role | undefined;
  let seenConversation = false;
  const leading = new Set<Role>();
  for (let i = 0; i < messages.length; i++) {
    const key = `messages[${i}]`;
    const turn: unknown = messages[i];
    if (typeof turn !== 'object' || turn === null || Array.isArray(turn)) {
      return { reason: `${key}: found ${describe(turn)}; expected an object with "role" and "content"` };
    }
    const { role, content, thinking, tool_calls: toolCalls } = turn as Record<string, unknown>;
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      return { reason: `${key}.role: found ${describe(role)}; expected one of ${ROLES.join(', ')}` };
    }
    const r = role as Role;
    // order: optional system/developer turns first, then user, then assistant and user (or tool) alternating.
    if (r === 'system' || r === 'developer') {
      if (seenConversation) {
        return { reason: `${key}.role: "${r}" after the conversation started; move it to the beginning` };
      }
      if (leading.has(r)) return { reason: `${key}.role: a second "${r}" turn; merge the two into one` };
      leading.add(r);
    } else if (!seenConversation) {
      if (r !== 'user')
        return { reason: `${key}.role: found "${r}"; the first turn after system/developer must be "user"` };
      seenConversation = true;
    } else if (r === 'user' && previous === 'user') {
      return { reason: `${key}.role: two "user" turns in a row; merge them or put the assistant reply between` };
    } else if (r === 'assistant' && previous === 'assistant') {
      return { reason: `${key}.role: two "assistant" turns in a row; merge them into one reply` };
    } else if (r === 'tool' && previous !== 'assistant' && previous !== 'tool') {
      return { reason: `${key}.role: a "tool" turn must follow an assistant turn that called the tool` };
    } else if (r === 'user' && previous === 'tool') {
      return { reason: `${key}.role: "user" right after a tool result; add the assistant turn that reads the result` };
    }
    const emptyToolCall = r === 'assistant' && Array.isArray(toolCalls) && toolCalls.length > 0;
    if (!(emptyToolCall && (content === null || content === undefined || content === ''))) {
      const problem = checkText(content, `${key}.content`);
      if (problem) return { reason: problem };
    }
    const out: ChatTurn = { role: r, content: typeof content === 'string' ? content : '' };
    if (thinking !== undefined && thinking !== null) {
      if (r !== 'assistant') {
        return { reason: `${key}.thinking: set on a "${r}" turn; only assistant turns carry reasoning (use null)` };
      }
      if (typeof thinking !== 'string') {
        return { reason: `${key}.thinking: found ${describe(thinking)}; expected the reasoning text or null` };
      }
      if (thinking.trim().length > 0) {
        const problem = checkText(thinking, `${key}.thinking`);
        if (problem) return { reason: problem };
        out.thinking = thinking;
      }
    }
    turns.push(out);
    previous = r;
  }
  if (!seenConversation)
    return { reason: 'messages: has no "user" turn; add the user request and the assistant reply' };
  if (previous !== 'assistant') {
    return {
      reason: `messages: ends with a "${previous}" turn; the last turn must be the assistant reply to learn from`,
    };
  }
  return { turns };
}

/** Builds the conversation from the Multilingual-Thinking flat fields. */
function fromMultilingualThinking(row: Record<string, unknown>): { turns: ChatTurn[] } | { reason: string } {
  for (const key of ['user', 'final'] as const) {
    const problem = checkText(row[key], key);
    if (problem) return { reason: problem };
  }
  for (const key of ['developer', 'analysis', 'reasoning_language'] as const) {
    const value = row[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return { reason: `${key}: found ${describe(value)}; expected a string or null` };
    if (HARMONY_TAG.test(value)) return { reason: checkText(value, key) ?? '' };
  }
  const language = typeof row.reasoning_language === 'string' ? row.reasoning_language.trim() : '';
  const developer = typeof row.developer === 'string' ? row.developer.trim() : '';
  const system = [language ? `reasoning language: ${language}` : '', developer].filter(Boolean).join('\n\n');
  const turns: ChatTurn[] = [];
  if (system) turns.push({ role: 'system', content: system });
  turns.push({ role: 'user', content: row.user as string });
  const assistant: ChatTurn = { role: 'assistant', content: row.final as string };
  if (typeof row.analysis === 'string' && row.analysis.trim()) assistant.thinking = row.analysis;
  turns.push(assistant);
  return { turns };
}

/** The reasoning language of a row: its `reasoning_language` field, else "reasoning language: X" in the prompt. */
export function reasoningLanguage(raw: Record<string, unknown>, turns: readonly ChatTurn[]): string | undefined {
  if (typeof raw.reasoning_language === 'string' && raw.reasoning_language.trim()) {
    return raw.reasoning_language.trim();
  }
  for (const t of turns) {
    if (t.role !== 'system' && t.role !== 'developer') continue;
    const match = LANGUAGE_IN_PROMPT.exec(t.content);
    if (match) return match[1].trim();
  }
  return undefined;
}

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/g;

/**
 * Rough token count of a conversation as the GPT-OSS (o200k_harmony) tokenizer would see it: about four
 * characters per token for alphabetic scripts, one per CJK character, four tokens of chat-format tags per
 * turn plus the template's own system header. Good to ±25% on prose; use it for sizing, not billing.
 */
export function estimateTokens(turns: readonly ChatTurn[]): number {
  const TEMPLATE_HEADER = 30;
  const PER_TURN = 4;
  let tokens = TEMPLATE_HEADER;
  for (const t of turns) {
    for (const text of [t.content, t.thinking ?? '']) {
      const cjk = text.match(CJK)?.length ?? 0;
      tokens += cjk + Math.ceil((text.length - cjk) / 4);
    }
    tokens += PER_TURN + (t.thinking ? PER_TURN : 0);
  }
  return tokens;
}

/** Validates and converts one parsed row. */
export function convertRow(value: unknown): Result {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `found ${describe(value)}; expected a JSON object (one example)` };
  }
  const raw = value as Record<string, unknown>;
  let converted: { turns: ChatTurn[] } | { reason: string };
  if (raw.messages !== undefined && raw.messages !== null) {
    converted = validateMessages(raw.messages);
  } else if (MT_FIELDS.some((k) => k in raw)) {
    converted = fromMultilingualThinking(raw);
  } else {
    const keys = Object.keys(raw);
    return {
      ok: false,
      reason:
        `found keys ${keys.length > 0 ? keys.join(', ') : '(none)'}; expected "messages" (a list of chat turns) or the ` +
        'Multilingual-Thinking fields user, final (and developer, analysis, reasoning_language)',
    };
  }
  if ('reason' in converted) return { ok: false, reason: converted.reason };
  const turns = converted.turns;
  return {
    ok: true,
    info: {
      row: { messages: turns },
      language: reasoningLanguage(raw, turns),
      estimatedTokens: estimateTokens(turns),
      hasReasoning: turns.some((t) => t.thinking !== undefined),
    },
  };
}

/** Running totals for the prepare-data report. */
export class DatasetStats {
  examples = 0;
  withReasoning = 0;
  totalTokens = 0;
  maxTokens = 0;
  minTokens = Number.POSITIVE_INFINITY;
  readonly languages = new Map<string, number>();
  private readonly lengths: number[] = [];

  add(info: RowInfo): void {
    this.examples += 1;
    if (info.hasReasoning) this.withReasoning += 1;
    this.totalTokens += info.estimatedTokens;
    this.maxTokens = Math.max(this.maxTokens, info.estimatedTokens);
    this.minTokens = Math.min(this.minTokens, info.estimatedTokens);
    this.lengths.push(info.estimatedTokens);
    const language = info.language ?? '(not stated)';
    this.languages.set(language, (this.languages.get(language) ?? 0) + 1);
  }

  get averageTokens(): number {
    return this.examples === 0 ? 0 : this.totalTokens / this.examples;
  }

  /** How many examples exceed `limit` estimated tokens (they are truncated at `max_length`). */
  countLongerThan(limit: number): number {
    return this.lengths.filter((n) => n > limit).length;
  }

  /** Languages, most frequent first. */
  languageCounts(): [string, number][] {
    return [...this.languages.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }
}
