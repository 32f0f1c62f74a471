import { Writable } from 'node:stream';

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { LabeledCounter } from './metrics/registry.ts';
import { rejectionHandler } from './process-guard.ts';

describe('rejectionHandler', () => {
  it('logs an unhandled rejection with its error, code and role, and counts it', () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const counts = new LabeledCounter();
    const handle = rejectionHandler(logger, counts, 'main');
    handle(
      Object.assign(new Error('timeout exceeded when trying to connect'), { code: 'ETIMEDOUT' }),
    );
    handle('a bare string');
    expect(counts.samples()).toEqual([{ labels: { kind: 'unhandled_rejection' }, value: 2 }]);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({
      level: 50,
      role: 'main',
      code: 'ETIMEDOUT',
      msg: 'unhandled promise rejection (the process goes on)',
    });
    expect(JSON.stringify(first.err)).toContain('timeout exceeded');
    expect(lines[1]).toContain('a bare string');
  });
});
