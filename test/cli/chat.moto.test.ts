import { Readable } from 'node:stream';
import { chatOnce, chatSession } from '../../lib/cli/commands/chat';
import { createEndpoint, PIPELINE, queueEndpointResults, useMotoProject, expectCliError } from './support';

const cli = useMotoProject();

describe('chat', () => {
  const completion = (content: string, reasoning?: string) =>
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, reasoning_content: reasoning ?? null },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
    });

  test('invokes the recipe endpoint and prints reasoning and answer separately', async () => {
    // GIVEN an InService endpoint with a canned vLLM chat completion
    await createEndpoint(cli.c);
    await queueEndpointResults(cli.moto.endpoint, [
      completion('Paris.', "L'utilisateur demande la capitale de la France."),
    ]);
    const { ctx, env } = cli.context();
    // WHEN the recipe's endpoint is asked, reasoning in French
    const reply = await chatOnce(ctx, 'demo-lora', 'What is the capital of France?', { reasoningLanguage: 'French' });
    // THEN the reasoning and the answer come out separately
    expect(reply.endpoint).toBe(PIPELINE);
    expect(reply.reasoning).toBe("L'utilisateur demande la capitale de la France.");
    expect(reply.answer).toBe('Paris.');
    expect(env.stdoutText).toBe(
      "reasoning (French):\n  L'utilisateur demande la capitale de la France.\nanswer:\n  Paris.\n",
    );
    expect(env.stderrText).toContain('tokens: 42 prompt, 17 completion');
    ctx.close();
  });

  test('keeps a conversation in an interactive session', async () => {
    await createEndpoint(cli.c);
    await queueEndpointResults(cli.moto.endpoint, [completion('Hello!', 'Greet.'), completion('Bye!', 'Farewell.')]);
    const { ctx } = cli.context();
    const replies = await chatSession(ctx, PIPELINE, Readable.from(['hi\n', '\n', 'bye\n', '/exit\n', 'ignored\n']));
    expect(replies.map((r) => r.answer)).toEqual(['Hello!', 'Bye!']);
    ctx.close();
  });

  test('fails on an unknown endpoint, listing the deployment endpoints', async () => {
    await createEndpoint(cli.c);
    const { ctx } = cli.context();
    const message = await expectCliError(chatOnce(ctx, 'ghost', 'hi'));
    expect(message).toBe(
      'endpoint "ghost" does not exist (also tried gptoss-test-ghost); endpoints of this deployment: gptoss-test-demo-lora (InService)',
    );
    ctx.close();
  });
});
