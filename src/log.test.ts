import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createLogger } from './log.ts';

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
