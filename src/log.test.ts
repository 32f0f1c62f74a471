import { Writable } from 'node:stream';

import Fastify from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';

import { createLogger, redactUrl, scrub } from './log.ts';

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

  it('redacts at any depth and in any letter case, in arrays too', () => {
    const { lines, logger } = capture();
    logger.info({
      a: { b: { c: { d: { e: { Authorization: 'Bearer deep1' } } } } },
      list: [{ headers: { 'X-CSRF-Token': 'csrf2' } }, { APIKEY: 'key3' }],
      kept: { tokenCount: 3 },
    });
    const line = lines.join('');
    for (const secret of ['deep1', 'csrf2', 'key3']) expect(line).not.toContain(secret);
    const parsed = JSON.parse(line) as { a: unknown; kept: unknown };
    expect(parsed.a).toEqual({ b: { c: { d: { e: { Authorization: '[redacted]' } } } } });
    // A key that only contains a secret word is not a secret.
    expect(parsed.kept).toEqual({ tokenCount: 3 });
  });

  it("redacts a child logger's bindings and an error's own fields", () => {
    const { lines, logger } = capture();
    const child = logger.child({ executionId: 7, token: 'bind4' });
    const err = Object.assign(new Error('request failed'), {
      config: { headers: { authorization: 'Basic err5' } },
    });
    child.error({ err }, 'failed');
    child.child({ step: 'b', password: 'grand6' }).info('next');
    const line = lines[0]!;
    for (const secret of ['bind4', 'err5']) expect(line).not.toContain(secret);
    expect(lines[1]).not.toContain('grand6');
    expect(JSON.parse(lines[1]!)).toMatchObject({
      executionId: 7,
      step: 'b',
      password: '[redacted]',
    });
    const parsed = JSON.parse(line) as { executionId: number; err: { message: string } };
    expect(parsed.executionId).toBe(7);
    expect(parsed.err.message).toBe('request failed');
  });

  it('redacts inside class instances and writes what toJSON gives', () => {
    class Target {
      constructor(
        readonly host: string,
        readonly password: string,
      ) {}
    }
    const { lines, logger } = capture();
    const at = new Date('2026-01-02T03:04:05Z');
    logger.info({
      target: new Target('db-1', 'inst8'),
      endpoint: new URL('https://u:urlpass9@h.example/x'),
      at,
    });
    const line = lines.join('');
    for (const secret of ['inst8', 'urlpass9']) expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({
      target: { host: 'db-1', password: '[redacted]' },
      at: at.toJSON(),
    });
  });

  it('cuts off what is nested too deep to walk, rather than write it unread', () => {
    let deep: Record<string, unknown> = { password: 'deep7' };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    expect(JSON.stringify(scrub(deep))).not.toContain('deep7');
    expect(JSON.stringify(scrub(deep))).toContain('[nested too deep]');
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
