// Telegram Bot API sendMessage. The API answers {"ok": true, "result": ...}
// or {"ok": false, "error_code": 400, "description": "..."}; a 429 carries
// parameters.retry_after.
import { OperationalError } from '../errors.ts';
import type { Notification, Notifier, SendOptions } from './notifier.ts';
import { renderText } from './notifier.ts';

export type TelegramNotifierOptions = {
  botToken: string;
  chatId: string;
  /** @default "https://api.telegram.org" */
  apiUrl?: string;
};

const maxLength = 4096; // Telegram's limit for one message

export class TelegramNotifier implements Notifier {
  readonly channel = 'telegram';
  constructor(private readonly options: TelegramNotifierOptions) {}

  async send(n: Notification, options: SendOptions = {}): Promise<void> {
    const base = (this.options.apiUrl ?? 'https://api.telegram.org').replace(/\/$/, '');
    const text = renderText(n);
    const signals = [AbortSignal.timeout(options.timeoutMs ?? 10_000)];
    if (options.signal) signals.push(options.signal);
    let res: Response;
    try {
      res = await fetch(`${base}/bot${this.options.botToken}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          chat_id: this.options.chatId,
          text: text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text,
          disable_web_page_preview: true,
        }),
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      // The URL holds the bot token: never put it in the message.
      throw new OperationalError(
        'notify_failed',
        `telegram: could not reach ${new URL(base).origin}: ${(err as Error).message}`,
      );
    }
    const body = (await res.json().catch(() => ({}))) as {
      ok?: boolean;
      description?: string;
      error_code?: number;
    };
    if (!res.ok || body.ok !== true) {
      throw new OperationalError(
        'notify_failed',
        `telegram: ${body.error_code ?? res.status} ${body.description ?? 'unexpected answer'}`,
      );
    }
  }
}
