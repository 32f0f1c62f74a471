import { Writable } from 'node:stream';

import Fastify from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';

import { createLogger, redactUrl } from './log.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ destination }) };
}

describe('createLogger', () => {
  it('redacts secrets wherever they appear', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'p4ss',
        user: { token: 't0ken', name: 'ok' },
        req: { headers: { authorization: 'Bearer wdn_x', cookie: 'warden_session=s' } },
        config: { security: { encryptionKey: 'k3y' } },
      },
      'hello',
    );
    const line = lines.join('');
    for (const secret of ['p4ss', 't0ken', 'wdn_x', 'warden_session=s', 'k3y'])
      expect(line).not.toContain(secret);
    expect(line).toContain('"name":"ok"');
    expect(JSON.parse(line)).toMatchObject({ level: 'info', msg: 'hello' });
  });
});

describe('URLs in logs', () => {
  it('lose their credentials in fields, messages and errors', () => {
    const { lines, logger } = capture();
    logger.warn(
      { server: 'http://u:fieldpass@h:1', nested: { url: 'https://x/?token=qtok' } },
      'hi',
    );
    logger.warn('could not reach http://u:msgpass@h:2/');
    logger.error({ err: new Error('fetch http://u:errpass@h:3/ failed') }, 'boom');
    const text = lines.join('');
    for (const secret of ['fieldpass', 'qtok', 'msgpass', 'errpass'])
      expect(text).not.toContain(secret);
    expect(text).toContain('http://***@h:2/');
  });
});

describe('request logs', () => {
  it('never carry an alert token from the path', async () => {
    let lines = '';
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines += String(chunk);
        done();
      },
    });
    const app = Fastify({
      loggerInstance: createLogger({ level: 'info', destination }) as FastifyBaseLogger,
    });
    app.post('/hooks/alerts/:source/:token', async () => ({ ok: true }));
    await app.inject({ method: 'POST', url: '/hooks/alerts/uptime-kuma/wdn_alert_SECRET1?x=1' });
    await app.close();
    expect(lines).toContain('"url":"/hooks/alerts/uptime-kuma/[redacted]?x=1"');
    expect(lines).not.toContain('SECRET1');
  });

  it('redacts the token of generic endpoints and leaves other paths alone', () => {
    expect(redactUrl('/hooks/alerts/generic/checks/wdn_alert_abc')).toBe(
      '/hooks/alerts/generic/checks/[redacted]',
    );
    expect(redactUrl('/api/v1/alerts/grafana')).toBe('/api/v1/alerts/grafana');
  });
});
