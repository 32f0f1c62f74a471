import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

import { OperationalError, UserError } from '../errors.ts';
import { registerErrorHandler } from './error-handler.ts';

describe('error answers', () => {
  it('never carry credentials from a URL an error quotes', async () => {
    const app = Fastify();
    registerErrorHandler(app);
    app.get('/down', async () => {
      throw new OperationalError('llm_unavailable', 'could not reach http://u:opspass@h:1/x');
    });
    app.get('/bad', async () => {
      throw new UserError('bad_url', 'https://h/?token=usertok is refused', {
        details: { url: 'https://h/?token=detailtok' },
      });
    });
    try {
      const down = await app.inject({ url: '/down' });
      expect(down.statusCode).toBe(503);
      expect(down.json().error.message).toBe('could not reach http://***@h:1/x');
      const bad = await app.inject({ url: '/bad' });
      expect(bad.statusCode).toBe(400);
      for (const leak of ['usertok', 'detailtok']) expect(bad.body).not.toContain(leak);
    } finally {
      await app.close();
    }
  });
});
