// Builds the configured channels; a channel missing a required setting is
// reported, not silently skipped.
import type { Config } from '../config/load.ts';
import { UserError } from '../errors.ts';
import { EmailNotifier } from './email-notifier.ts';
import type { Notifier } from './notifier.ts';
import { SlackNotifier } from './slack-notifier.ts';
import { TelegramNotifier } from './telegram-notifier.ts';
import { WebhookNotifier } from './webhook-notifier.ts';

export function notifiersFromConfig(c: Config['notify']): Notifier[] {
  const out: Notifier[] = [];
  if (c.webhookUrl)
    out.push(
      new WebhookNotifier({
        url: c.webhookUrl,
        ...(c.webhookSecret ? { secret: c.webhookSecret } : {}),
      }),
    );
  if (c.telegramBotToken || c.telegramChatId) {
    if (!c.telegramBotToken || !c.telegramChatId) {
      throw new UserError(
        'invalid_config',
        'Telegram needs both TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID',
      );
    }
    out.push(
      new TelegramNotifier({
        botToken: c.telegramBotToken,
        chatId: c.telegramChatId,
        apiUrl: c.telegramApiUrl,
      }),
    );
  }
  if (c.slackWebhookUrl) out.push(new SlackNotifier({ webhookUrl: c.slackWebhookUrl }));
  if (c.smtpUrl || c.emailTo) {
    if (!c.smtpUrl || !c.emailTo)
      throw new UserError('invalid_config', 'email needs both SMTP_URL and WARDEN_NOTIFY_EMAIL_TO');
    out.push(new EmailNotifier({ smtpUrl: c.smtpUrl, from: c.emailFrom, to: c.emailTo }));
  }
  return out;
}
