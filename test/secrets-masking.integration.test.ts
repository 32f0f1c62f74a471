// Credentials inside URL-valued settings never leave Warden: the public
// /readyz names the dependency that is down but not where it lives, doctor
// and the model server's errors quote the server with its credentials masked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { diagnose } from '../src/cli/doctor.ts';
import { buildServer } from '../src/server/server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

// Port 9 (discard) is closed on test machines: the model server is down.
const ollamaUrl = 'http://llmuser:llmpass@127.0.0.1:9/?token=qtoken';

describe('a model server URL with credentials', () => {
  let s: TestServices;
  beforeAll(async () => {
    s = await makeTestServices('pglite', { OLLAMA_URL: ollamaUrl, LLM_RETRIES: '0' });
  });
  afterAll(() => s?.dispose());

  it('public /readyz says the llm is down without its URL, host or credentials', async () => {
    const app = await buildServer(s);
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      const text = res.body;
      for (const leak of ['llmpass', 'llmuser', 'qtoken', '127.0.0.1:9', 'http://'])
        expect(text).not.toContain(leak);
      const body = res.json<{ checks: { llm: Record<string, unknown> } }>();
      expect(body.checks.llm).toMatchObject({ ok: false, kind: 'ollama' });
      expect(String(body.checks.llm.detail)).toContain('unreachable');
    } finally {
      await app.close();
    }
  });

  it('doctor names the server with its credentials masked', async () => {
    const findings = await diagnose(s);
    const text = JSON.stringify(findings);
    for (const leak of ['llmpass', 'llmuser', 'qtoken']) expect(text).not.toContain(leak);
    expect(text).toContain('127.0.0.1:9');
  });

  it('a failed model call quotes the server without its credentials', async () => {
    const err = await s.llm.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const text = `${(err as Error).message} ${JSON.stringify(err)}`;
    for (const leak of ['llmpass', 'llmuser', 'qtoken']) expect(text).not.toContain(leak);
    expect(text).toContain('127.0.0.1:9');
  });
});
