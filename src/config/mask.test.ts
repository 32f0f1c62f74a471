import { describe, expect, it } from 'vitest';

import { hideLocations, maskDeep, maskUrl, maskUrlsInText } from './mask.ts';

describe('maskUrl', () => {
  it.each([
    ['http://admin:hunter2@ollama.lan:11434', 'http://***@ollama.lan:11434/'],
    ['https://token-only@qdrant.lan/', 'https://***@qdrant.lan/'],
    ['postgres://warden:s3cret@db:5432/warden', 'postgres://***@db:5432/warden'],
    ['redis://:redispw@cache:6379/0', 'redis://***@cache:6379/0'],
    [
      'https://hooks.example/notify?token=abc&channel=ops&X-Amz-Signature=zz',
      'https://hooks.example/notify?token=***&channel=ops&X-Amz-Signature=***',
    ],
    [
      'https://h/x?api_key=1&apikey=2&secret=3&password=4',
      'https://h/x?api_key=***&apikey=***&secret=***&password=***',
    ],
    [
      'https://api.telegram.org/bot123456:AAE-secret/sendMessage',
      'https://api.telegram.org/bot***/sendMessage',
    ],
    ['https://hooks.slack.com/services/T0/B0/XYZ', 'https://hooks.slack.com/services/***'],
    ['https://discord.com/api/webhooks/123/tok', 'https://discord.com/api/webhooks/123/***'],
    ['http://127.0.0.1:11434', 'http://127.0.0.1:11434'],
  ])('%s -> %s', (raw, want) => {
    expect(maskUrl(raw)).toBe(want);
  });
});

describe('maskUrlsInText', () => {
  it('masks every URL in a message and leaves the words alone', () => {
    const s = maskUrlsInText(
      'The model server at http://u:p@host:1/ is unreachable (fetch https://x/?token=t).',
    );
    expect(s).toBe(
      'The model server at http://***@host:1/ is unreachable (fetch https://x/?token=***).',
    );
    expect(s).not.toContain(':p@');
  });

  it('hides userinfo even in a URL the parser refuses', () => {
    expect(maskUrlsInText('bad http://u:p@[zz/ here')).not.toContain('u:p');
  });
});

describe('maskDeep', () => {
  it('walks objects and arrays', () => {
    const out = maskDeep({ a: ['redis://:pw@r:6379'], b: { c: 'amqp://u:v@q' }, n: 3 });
    expect(JSON.stringify(out)).not.toMatch(/pw|u:v/);
    expect(out.n).toBe(3);
  });
});

describe('hideLocations', () => {
  it('says which, not where', () => {
    expect(
      hideLocations('connect ECONNREFUSED 10.0.0.5:11434 at http://u:p@h/ or db.lan:5432'),
    ).toBe('connect ECONNREFUSED [address] at [url] or [address]');
  });
});
