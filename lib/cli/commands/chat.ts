import * as readline from 'node:readline';
import { DescribeEndpointCommand, ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { Command } from 'commander';
import { endpointName, resourcePrefix } from '../../config/naming';
import { addAwsOptions, parseNonNegativeNumber, parsePositiveInt, runCommand } from '../command';
import type { CliContext, CliEnvironment } from '../context';
import { awsCall, CliError, isNotFound, translateAwsError } from '../errors';

export interface ChatOptions {
  /** Language the model should reason in (`reasoning language: X` in the system prompt, as trained). */
  readonly reasoningLanguage?: string;
  /** Extra system/developer instructions after the reasoning-language line. */
  readonly system?: string;
  /** vLLM's `reasoning_effort` for GPT-OSS: low, medium or high. */
  readonly reasoningEffort?: 'low' | 'medium' | 'high';
  /** @default 1024 */
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** Print the reply as JSON ({reasoning, answer, usage}). */
  readonly json?: boolean;
  /** Also print the raw response body. */
  readonly raw?: boolean;
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface ChatReply {
  readonly endpoint: string;
  readonly reasoning?: string;
  readonly answer: string;
  readonly usage?: Record<string, unknown>;
  readonly raw: string;
}

const HARMONY_ANALYSIS = /<\|channel\|>analysis<\|message\|>([\s\S]*?)(?:<\|end\|>|<\|start\|>|$)/;
const HARMONY_FINAL = /<\|channel\|>final<\|message\|>([\s\S]*?)(?:<\|return\|>|<\|end\|>|$)/;

/**
 * Splits an endpoint response into reasoning and answer. Understands the OpenAI chat-completion shape
 * vLLM returns (`choices[0].message.content` with `reasoning_content`, or `reasoning` in newer vLLM),
 * the Multilingual-Thinking field names (`analysis`/`final`), text-generation shapes (`generated_text`),
 * and raw harmony text with analysis/final channels.
 */
export function parseChatResponse(body: string): {
  reasoning?: string;
  answer: string;
  usage?: Record<string, unknown>;
} {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return splitHarmony(body);
  }
  const first = Array.isArray(doc) ? doc[0] : doc;
  if (typeof first === 'string') return splitHarmony(first);
  if (typeof first !== 'object' || first === null) return { answer: String(first) };
  const d = first as Record<string, unknown>;
  const usage = typeof d.usage === 'object' && d.usage !== null ? (d.usage as Record<string, unknown>) : undefined;
  const choice = Array.isArray(d.choices) ? (d.choices[0] as Record<string, unknown> | undefined) : undefined;
  if (choice) {
    const message = (choice.message ?? choice.delta ?? {}) as Record<string, unknown>;
    const content =
      typeof message.content === 'string' ? message.content : typeof choice.text === 'string' ? choice.text : '';
    const reasoning = [message.reasoning_content, message.reasoning].find(
      (r): r is string => typeof r === 'string' && r !== '',
    );
    if (reasoning) return { reasoning, answer: content, usage };
    return { ...splitHarmony(content), usage };
  }
  if (typeof d.final === 'string')
    return { reasoning: typeof d.analysis === 'string' ? d.analysis : undefined, answer: d.final };
  if (typeof d.generated_text === 'string') return { ...splitHarmony(d.generated_text), usage };
  throw new CliError(
    `the endpoint answered with JSON this CLI does not recognise (keys: ${Object.keys(d).join(', ') || 'none'}); ` +
      'rerun with --raw to see it; the platform serves an OpenAI-style chat completion',
  );
}

function splitHarmony(text: string): { reasoning?: string; answer: string } {
  const analysis = HARMONY_ANALYSIS.exec(text)?.[1];
  const final = HARMONY_FINAL.exec(text)?.[1];
  if (analysis === undefined && final === undefined) return { answer: text };
  return { reasoning: analysis?.trim(), answer: (final ?? '').trim() };
}

/** The request body: an OpenAI chat completion with the reasoning language in the system turn. */
export function buildChatRequest(history: readonly ChatMessage[], opts: ChatOptions): Record<string, unknown> {
  const system = [opts.reasoningLanguage ? `reasoning language: ${opts.reasoningLanguage}` : '', opts.system ?? '']
    .filter(Boolean)
    .join('\n\n');
  const messages = [...(system ? [{ role: 'system', content: system }] : []), ...history];
  const body: Record<string, unknown> = { messages, max_tokens: opts.maxTokens ?? 1024 };
  if (opts.temperature !== undefined) body.temperature = opts.temperature;
  if (opts.reasoningEffort) body.reasoning_effort = opts.reasoningEffort;
  return body;
}

/** The endpoint to call: the name as given when it exists, else the endpoint of the recipe with that name. */
export async function resolveEndpoint(ctx: CliContext, nameOrRecipe: string): Promise<string> {
  const candidates = [...new Set([nameOrRecipe, endpointName(ctx.naming, nameOrRecipe)])];
  for (const name of candidates) {
    try {
      const ep = await ctx.aws.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
      if (ep.EndpointStatus && ep.EndpointStatus !== 'InService' && ep.EndpointStatus !== 'Updating') {
        throw new CliError(
          `endpoint ${name} is ${ep.EndpointStatus}${ep.FailureReason ? ` (${ep.FailureReason})` : ''}; ` +
            'wait until it is InService ("npm run cli -- watch <recipe>" follows the deploy stage)',
        );
      }
      return name;
    } catch (e) {
      if (e instanceof CliError) throw e;
      if (isNotFound(e)) continue;
      const err = await translateAwsError(e, {
        action: 'sagemaker:DescribeEndpoint',
        resource: name,
        endpointUrl: ctx.endpointUrl,
      });
      // without DescribeEndpoint permission, invoking may still be allowed: try the name as given.
      if (/access denied/.test(err.message)) return nameOrRecipe;
      throw err;
    }
  }
  const prefix = resourcePrefix(ctx.naming);
  const page = await awsCall({ action: 'sagemaker:ListEndpoints', endpointUrl: ctx.endpointUrl }, () =>
    ctx.aws.sagemaker.send(new ListEndpointsCommand({ NameContains: prefix, MaxResults: 100 })),
  ).catch(() => undefined);
  const known = (page?.Endpoints ?? []).map((e) => `${e.EndpointName} (${e.EndpointStatus})`);
  throw new CliError(
    `endpoint "${nameOrRecipe}" does not exist (also tried ${candidates.slice(1).join(', ') || 'no other name'}); ` +
      `endpoints of this deployment: ${known.length > 0 ? known.join(', ') : 'none; approve a model package to deploy one'}`,
  );
}

/** Sends one conversation to the endpoint and parses the reply. */
export async function invokeChat(
  ctx: CliContext,
  endpoint: string,
  history: readonly ChatMessage[],
  opts: ChatOptions,
): Promise<ChatReply> {
  const request = buildChatRequest(history, opts);
  const response = await awsCall(
    {
      action: 'sagemaker:InvokeEndpoint',
      resource: `endpoint ${endpoint}`,
      endpointUrl: ctx.endpointUrl,
      onNotFound: () =>
        `endpoint ${endpoint} does not exist; list them with "npm run cli -- models" and approve one to deploy it`,
    },
    async () => {
      try {
        return await ctx.aws.runtime.send(
          new InvokeEndpointCommand({
            EndpointName: endpoint,
            ContentType: 'application/json',
            Accept: 'application/json',
            Body: new TextEncoder().encode(JSON.stringify(request)),
          }),
        );
      } catch (e) {
        const err = e as { name?: string; message?: string; OriginalStatusCode?: number; LogStreamArn?: string };
        if (err.name === 'ModelError') {
          throw new CliError(
            `the model on ${endpoint} returned an error${err.OriginalStatusCode ? ` (HTTP ${err.OriginalStatusCode})` : ''}: ` +
              `${err.message}; see the endpoint's CloudWatch logs (/aws/sagemaker/Endpoints/${endpoint})`,
          );
        }
        throw e;
      }
    },
  );
  const raw = response.Body ? new TextDecoder().decode(response.Body) : '';
  return { endpoint, raw, ...parseChatResponse(raw) };
}

function printReply(ctx: CliContext, reply: ChatReply, opts: ChatOptions): void {
  if (opts.json) {
    ctx.out.json({
      endpoint: reply.endpoint,
      reasoning: reply.reasoning ?? null,
      answer: reply.answer,
      usage: reply.usage ?? null,
    });
    return;
  }
  if (opts.raw) ctx.out.line(`raw:\n${reply.raw}\n`);
  const language = opts.reasoningLanguage ? ` (${opts.reasoningLanguage})` : '';
  ctx.out.line(`reasoning${language}:`);
  ctx.out.line(reply.reasoning ? indent(reply.reasoning) : '  (none returned)');
  ctx.out.line('answer:');
  ctx.out.line(indent(reply.answer || '(empty)'));
  const u = reply.usage;
  if (u && typeof u.prompt_tokens === 'number' && typeof u.completion_tokens === 'number') {
    ctx.out.info(`tokens: ${u.prompt_tokens} prompt, ${u.completion_tokens} completion`);
  }
}

function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** `chat ENDPOINT PROMPT`: one question, reasoning and answer printed separately. */
export async function chatOnce(
  ctx: CliContext,
  target: string,
  prompt: string,
  opts: ChatOptions = {},
): Promise<ChatReply> {
  if (prompt.trim() === '') throw new CliError('the prompt is empty; pass it as an argument or on standard input');
  const endpoint = await resolveEndpoint(ctx, target);
  const reply = await invokeChat(ctx, endpoint, [{ role: 'user', content: prompt }], opts);
  printReply(ctx, reply, opts);
  return reply;
}

/**
 * Interactive chat: one line per turn, `/exit` or end of input to stop. Earlier answers are sent back
 * without their reasoning, the way the GPT-OSS chat template renders past turns.
 */
export async function chatSession(
  ctx: CliContext,
  target: string,
  input: NodeJS.ReadableStream,
  opts: ChatOptions = {},
): Promise<ChatReply[]> {
  const endpoint = await resolveEndpoint(ctx, target);
  ctx.out.info(`chatting with ${endpoint}; /exit to stop`);
  const history: ChatMessage[] = [];
  const replies: ChatReply[] = [];
  const rl = readline.createInterface({ input, terminal: false });
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/exit' || text === '/quit') break;
    if (text === '') continue;
    history.push({ role: 'user', content: text });
    const reply = await invokeChat(ctx, endpoint, history, opts);
    history.push({ role: 'assistant', content: reply.answer });
    replies.push(reply);
    printReply(ctx, reply, opts);
  }
  rl.close();
  return replies;
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

export function chatCommand(environment: CliEnvironment): Command {
  const cmd = new Command('chat')
    .summary("talk to a recipe's endpoint; prints the reasoning and the answer separately")
    .description(
      'Sends an OpenAI-style chat request to a SageMaker endpoint (the vLLM container) and prints the ' +
        "model's reasoning (analysis channel) and its answer. Without a prompt: an interactive session when " +
        'stdin is a terminal, else the whole of stdin is the prompt.',
    )
    .argument('<endpoint>', 'endpoint name, or a recipe name for its endpoint')
    .argument('[prompt...]', 'the question')
    .option('-l, --reasoning-language <language>', 'language to reason in, e.g. French (as in the training data)')
    .option('-s, --system <text>', 'system instructions')
    .option('--reasoning-effort <level>', 'low, medium or high')
    .option('--max-tokens <n>', 'longest reply in tokens', parsePositiveInt, 1024)
    .option('--temperature <t>', 'sampling temperature', parseNonNegativeNumber)
    .option('--json', 'print {reasoning, answer, usage} as JSON')
    .option('--raw', 'also print the raw response body');
  addAwsOptions(cmd);
  return cmd.action(async (target: string, promptWords: string[], opts: Record<string, unknown>) => {
    await runCommand(environment, opts, async (ctx) => {
      const effort = opts.reasoningEffort as string | undefined;
      if (effort !== undefined && !['low', 'medium', 'high'].includes(effort)) {
        throw new CliError(`--reasoning-effort: found "${effort}"; expected low, medium or high`);
      }
      const chatOpts: ChatOptions = {
        reasoningLanguage: opts.reasoningLanguage as string | undefined,
        system: opts.system as string | undefined,
        reasoningEffort: effort as ChatOptions['reasoningEffort'],
        maxTokens: opts.maxTokens as number,
        temperature: opts.temperature as number | undefined,
        json: opts.json === true,
        raw: opts.raw === true,
      };
      if (promptWords.length > 0) {
        await chatOnce(ctx, target, promptWords.join(' '), chatOpts);
        return;
      }
      const stdin = environment.stdin;
      if (!stdin) throw new CliError('no prompt given; pass it after the endpoint name');
      if (stdin.isTTY) await chatSession(ctx, target, stdin, chatOpts);
      else await chatOnce(ctx, target, await readAll(stdin), chatOpts);
    });
  });
}
