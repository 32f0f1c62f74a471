// Every notification channel against a server that speaks its protocol:
// HTTP for the webhook and Slack, the Bot API for Telegram, SMTP for email.
import { createHmac } from 'node:crypto';

import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '../src/log.ts';
import { EmailNotifier } from '../src/notify/email-notifier.ts';
import { NotificationService } from '../src/notify/notification-service.ts';
import type { Notification, Notifier } from '../src/notify/notifier.ts';
import { SlackNotifier } from '../src/notify/slack-notifier.ts';
import { TelegramNotifier } from '../src/notify/telegram-notifier.ts';
import { WebhookNotifier } from '../src/notify/webhook-notifier.ts';
import type { HttpSink } from './helpers/http-sink.ts';
import { startHttpSink } from './helpers/http-sink.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';
import type { TelegramTestServer } from './helpers/telegram-test-server.ts';
import { startTelegramTestServer } from './helpers/telegram-test-server.ts';

const sample: Notification = {
  kind: 'escalated',
  title: 'nginx is down on web-1',
  text: 'Restart failed twice. Evidence: connect() failed (111: Connection refused) <upstream>',
  dedupKey: 'incident:7:escalated',
  incidentId: 7,
  url: 'http://localhost:5678/incidents/7',
};

type Received = { text: string };
type Harness = {
  notifier: Notifier;
  received(): Promise<Received[]>;
  breakIt(): void;
  close(): Promise<void>;
};

async function smtpHarness(): Promise<Harness> {
  const mails: Received[] = [];
  let fail = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, cb) {
      if (fail) {
        stream.resume();
        stream.on('end', () =>
          cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 })),
        );
        return;
      }
      simpleParser(stream)
        .then((mail) => {
          mails.push({
            text: `${mail.subject}\n${mail.text}\nkind=${String(mail.headers.get('x-warden-kind'))}`,
          });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.server.address() as { port: number };
  const notifier = new EmailNotifier({
    smtpUrl: `smtp://127.0.0.1:${port}`,
    from: 'warden@test',
    to: ['ops@test'],
  });
  return {
    notifier,
    received: async () => mails,
    breakIt: () => (fail = true),
    close: async () => {
      notifier.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function sinkHarness(
  make: (sink: HttpSink) => Notifier,
  read: (body: string) => string,
): Promise<Harness> {
  const sink = await startHttpSink();
  return {
    notifier: make(sink),
    received: async () =>
      sink.requests.filter((r) => r.method === 'POST').map((r) => ({ text: read(r.body) })),
    breakIt: () => sink.reply(() => ({ status: 404, body: 'no_service' })),
    close: () => sink.close(),
  };
}

async function telegramHarness(): Promise<Harness> {
  const tg: TelegramTestServer = await startTelegramTestServer();
  return {
    notifier: new TelegramNotifier({ botToken: tg.token, chatId: '-1001234', apiUrl: tg.url }),
    received: async () => tg.messages().map((m) => ({ text: `${m.chat_id}\n${m.text}` })),
    breakIt: () => tg.failWith(400, 'Bad Request: chat not found'),
    close: () => tg.close(),
  };
}

const harnesses: [string, () => Promise<Harness>][] = [
  [
    'webhook',
    () =>
      sinkHarness(
        (s) => new WebhookNotifier({ url: `${s.url}/hook` }),
        (b) => {
          const j = JSON.parse(b) as Notification;
          return `${j.title}\n${j.text}\n${j.url}`;
        },
      ),
  ],
  [
    'slack',
    () =>
      sinkHarness(
        (s) => new SlackNotifier({ webhookUrl: `${s.url}/services/T0/B0/x` }),
        (b) => (JSON.parse(b) as { text: string }).text,
      ),
  ],
  ['telegram', telegramHarness],
  ['email', smtpHarness],
];

for (const [name, make] of harnesses) {
  describe(`Notifier contract: ${name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(() => h.close());

    it('delivers the title and the text', async () => {
      await h.notifier.send(sample);
      const got = await h.received();
      expect(got).toHaveLength(1);
      expect(got[0]!.text).toContain('nginx is down on web-1');
      expect(got[0]!.text).toMatch(/Connection refused/);
    });

    it('reports a refused delivery as an operational error naming the channel', async () => {
      h.breakIt();
      await expect(h.notifier.send(sample)).rejects.toMatchObject({
        code: 'notify_failed',
        message: expect.stringContaining(name),
      });
    });
  });
}

describe('webhook signing and Telegram secrecy', () => {
  it('signs the exact body with HMAC-SHA256', async () => {
    const sink = await startHttpSink();
    try {
      await new WebhookNotifier({ url: sink.url, secret: 'a-shared-secret-value' }).send(sample);
      const [req] = sink.requests;
      const expected = `sha256=${createHmac('sha256', 'a-shared-secret-value').update(req!.body).digest('hex')}`;
      expect(req!.headers['x-warden-signature']).toBe(expected);
    } finally {
      await sink.close();
    }
  });

  it('never puts the bot token in an error message', async () => {
    const n = new TelegramNotifier({
      botToken: '999:SECRET_TOKEN',
      chatId: '1',
      apiUrl: 'http://127.0.0.1:1',
    });
    const err = await n.send(sample).catch((e: Error) => e);
    expect(String((err as Error).message)).not.toContain('SECRET_TOKEN');
  });
});

describe('NotificationService', () => {
  let s: TestServices;
  let tg: TelegramTestServer;
  let sink: HttpSink;
  beforeAll(async () => {
    s = await makeTestServices('postgres');
    tg = await startTelegramTestServer();
    sink = await startHttpSink();
  });
  afterAll(async () => {
    await tg.close();
    await sink.close();
    await s.dispose();
  });

  const make = () =>
    new NotificationService(
      s.db,
      [
        new TelegramNotifier({ botToken: tg.token, chatId: '42', apiUrl: tg.url }),
        new WebhookNotifier({ url: sink.url }),
      ],
      createLogger({ level: 'silent' }),
      { backoffMs: 1 },
    );

  it('sends a notification once per channel, even when three services sharing the database send it at once', async () => {
    const n = { ...sample, dedupKey: `dedup-${Date.now()}` };
    const results = await Promise.all([make().notify(n), make().notify(n), make().notify(n)]);
    const sent = results.flat().filter((r) => r.status === 'sent');
    expect(sent.map((r) => r.channel).sort()).toEqual(['telegram', 'webhook']);
    expect(tg.messages().filter((m) => m.text.includes(sample.title))).toHaveLength(1);
  });

  it('retries a failing channel, records the failure and still delivers to the others', async () => {
    const before = sink.requests.length;
    tg.failWith(429, 'Too Many Requests: retry after 1');
    const results = await make().notify({ ...sample, dedupKey: `retry-${Date.now()}` });
    expect(results.find((r) => r.channel === 'telegram')).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('429'),
    });
    expect(results.find((r) => r.channel === 'webhook')).toMatchObject({ status: 'sent' });
    expect(sink.requests.length).toBe(before + 1);
    const { rows } = await s.db.query<{ attempts: number; status: string }>(
      `SELECT attempts, status FROM notifications WHERE channel = 'telegram' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]).toEqual({ attempts: 3, status: 'failed' });
  });
});
