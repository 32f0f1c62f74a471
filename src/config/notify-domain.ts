// Where Warden sends notifications (approval needed, escalation, resolution).
// Every channel is off until its settings are present.
import { z } from 'zod';

import { commaList, domain, durationMs, setting } from './setting.ts';

const url = z.string().url();

export const notifyDomain = domain(
  'notify',
  'Notifications: approvals needed, escalations, resolutions.',
  {
    webhookUrl: setting({
      env: 'WARDEN_NOTIFY_WEBHOOK_URL',
      schema: url.optional(),
      doc: 'POST each notification as JSON to this URL.',
    }),
    webhookSecret: setting({
      env: 'WARDEN_NOTIFY_WEBHOOK_SECRET',
      schema: z.string().min(16).optional(),
      secret: true,
      doc: 'Signs webhook bodies: X-Warden-Signature: sha256=<HMAC-SHA256 hex>.',
    }),
    telegramBotToken: setting({
      env: 'TELEGRAM_BOT_TOKEN',
      schema: z
        .string()
        .regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC-DEF...')
        .optional(),
      secret: true,
      doc: 'Telegram bot token; with TELEGRAM_CHAT_ID enables Telegram.',
    }),
    telegramChatId: setting({
      env: 'TELEGRAM_CHAT_ID',
      schema: z
        .string()
        .regex(/^-?\d+$|^@\w+$/, 'must be a numeric chat id or @channelname')
        .optional(),
      doc: 'Telegram chat to post to.',
    }),
    telegramApiUrl: setting({
      env: 'TELEGRAM_API_URL',
      schema: url,
      default: 'https://api.telegram.org',
      doc: 'Telegram Bot API base URL (a local Bot API server, or a test server).',
    }),
    slackWebhookUrl: setting({
      env: 'SLACK_WEBHOOK_URL',
      schema: url.optional(),
      secret: true,
      doc: 'Slack incoming webhook URL.',
    }),
    smtpUrl: setting({
      env: 'SMTP_URL',
      schema: z
        .string()
        .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
        .optional(),
      secret: true,
      doc: 'SMTP server, e.g. smtp://user:pass@mail.example.com:587; with WARDEN_NOTIFY_EMAIL_TO enables email.',
    }),
    emailFrom: setting({
      env: 'WARDEN_NOTIFY_EMAIL_FROM',
      schema: z.string().min(3),
      default: 'warden@localhost',
      doc: 'Sender address of notification emails.',
    }),
    emailTo: setting({
      env: 'WARDEN_NOTIFY_EMAIL_TO',
      schema: commaList(z.string().email(), 1).optional(),
      doc: 'Comma-separated recipients of notification emails.',
    }),
    dedupWindowMs: setting({
      env: 'WARDEN_NOTIFY_DEDUP_WINDOW_MS',
      schema: durationMs,
      default: 3600_000,
      doc: 'The same notification is sent once per channel within this window.',
    }),
  },
);
