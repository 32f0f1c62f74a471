// OLLAMA_NUM_CTX and OLLAMA_KEEP_ALIVE reach Ollama with every chat and
// generate request: without num_ctx, Ollama's small default context cuts a
// long prompt off without a word.
import { tmpdir } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLlmGateway } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';

describe('Ollama request options from the settings', () => {
  let ollama: OllamaTestServer;
  beforeAll(async () => {
    ollama = await OllamaTestServer.start();
  });
  afterAll(async () => ollama?.close());

  const gateway = (env: Record<string, string>) =>
    createLlmGateway(loadConfig({ env: { OLLAMA_URL: ollama.url, ...env }, cwd: tmpdir() }));

  it('sends num_ctx (8192 by default) and keep_alive when set', async () => {
    ollama.script({ content: 'ok' }, { content: 'ok' });
    await gateway({ OLLAMA_KEEP_ALIVE: '30m' }).chat({
      model: 'qwen2.5-coder:3b-instruct',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await gateway({ OLLAMA_NUM_CTX: '32768' }).chat({
      model: 'qwen2.5-coder:3b-instruct',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const chats = ollama.requests.filter((r) => r.path === '/api/chat').map((r) => r.body);
    expect(chats[0]).toMatchObject({ options: { num_ctx: 8192 }, keep_alive: '30m' });
    expect(chats[1]).toMatchObject({ options: { num_ctx: 32768 } });
    expect(chats[1]).not.toHaveProperty('keep_alive');
  });

  it('names the setting when its value is wrong', () => {
    expect(() => loadConfig({ env: { OLLAMA_KEEP_ALIVE: 'soon' }, cwd: tmpdir() })).toThrow(
      /OLLAMA_KEEP_ALIVE/,
    );
    expect(() => loadConfig({ env: { OLLAMA_NUM_CTX: '10' }, cwd: tmpdir() })).toThrow(
      /OLLAMA_NUM_CTX/,
    );
  });
});
