import { describe, expect, it } from 'vitest';

import { maskLine, maskText, messageOf, mineTemplates, templateFound } from './log-templates.ts';

describe('maskLine', () => {
  it.each([
    ['2026-12-01T03:04:05.123Z ERROR pool exhausted', '<time> error pool exhausted'],
    ['Dec  1 03:04:05 web-01 kernel: Out of memory', '<time> <id> kernel out of memory'],
    ['connect to 10.0.3.17:5432 failed', 'connect to <ip> failed'],
    ['GET https://api.example.com/v1/x?id=3 took 3.2s', 'get <url> took <num>'],
    ['open /var/log/app/app.log: too many open files', 'open <path> too many open files'],
    ['txn 5f2b9c1e-0a4d-4a8e-9b1c-2d3e4f5a6b7c aborted', 'txn <id> aborted'],
    ['segfault at 0x7ffd1 ip 00007f3a9c2b', 'segfault at <hex> ip <hex>'],
    ['resolving db-primary.prod.internal timed out', 'resolving <host> timed out'],
    ['worker_connections=1024 are not enough', 'worker_connections <num> are not enough'],
  ])('%s', (line, masked) => {
    expect(maskLine(line)).toBe(masked);
  });
});

describe('mineTemplates', () => {
  it('merges lines of one message with different values into one template', () => {
    const t = mineTemplates([
      '2026/12/01 10:00:01 [error] 311#311: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.4',
      '2026/12/01 10:00:02 [error] 311#311: *9 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.9',
      '2026/12/01 10:00:03 [alert] 312#312: 1024 worker_connections are not enough',
    ]);
    expect(t).toHaveLength(2);
    expect(t[0]).toContain('connect failed <num> connection refused while connecting to upstream');
    expect(t[1]).toContain('worker_connections are not enough');
  });

  it('keeps apart messages of the same length that share little', () => {
    const t = mineTemplates(['disk quota exceeded for user', 'deleted file still held open']);
    expect(t).toHaveLength(2);
  });

  it('gives back a template mined from its own template', () => {
    const [t] = mineTemplates(['conn 1 failed: pool exhausted', 'conn 2 failed: pool exhausted']);
    expect(mineTemplates([t!])).toEqual([t]);
  });

  it('drops lines that are nothing but values', () => {
    expect(mineTemplates(['12:00:01 10.0.0.1 443', ''])).toEqual([]);
  });
});

describe('messageOf', () => {
  it.each([
    ['Dec  1 03:04:05 web-01 nginx[311]: upstream timed out', 'upstream timed out'],
    ['2026-12-01T03:04:05.120Z ERROR pool exhausted', 'pool exhausted'],
    ['[2026-12-01 03:04:05] [warn] slow query', 'slow query'],
    ['{"ts":"2026-12-01T03:04:05Z","level":"error","msg":"pool exhausted"}', 'pool exhausted'],
    ['plain message', 'plain message'],
    // Regression: the level word after the time was read as a host and the message's first word as a program.
    [
      '2026-12-01T03:04:05Z ERROR restic: Fatal: repository is locked',
      'restic: Fatal: repository is locked',
    ],
  ])('%s', (line, message) => {
    expect(messageOf(line)).toBe(message);
  });

  it('lets a template learnt from syslog lines match the same message logged as JSON', () => {
    const [t] = mineTemplates([
      'Dec  1 03:04:05 web-01 app[77]: worker 3 lost its lease on job 881',
    ]);
    const json = maskText(
      '{"time":"2026-12-02T01:00:00Z","msg":"worker 9 lost its lease on job 12"}',
    );
    expect(templateFound(t!, json)).toBe(true);
  });
});

describe('templateFound', () => {
  const [template] = mineTemplates([
    'Jan  3 04:05:06 db1 postgres[881]: FATAL: remaining connection slots are reserved for superuser',
  ]);

  it('finds the template under another log prefix and other values', () => {
    const text = maskText(
      '{"ts":"2026-12-01T09:00:00Z"} postgres[12]: FATAL: remaining connection slots are reserved for superuser',
    );
    expect(templateFound(template!, text)).toBe(true);
  });

  it('does not find it in a different message', () => {
    const text = maskText('postgres[12]: FATAL: password authentication failed for user "app"');
    expect(templateFound(template!, text)).toBe(false);
  });
});
