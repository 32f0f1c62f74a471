// Generic webhook: the notification as JSON, signed with HMAC-SHA256 when a
// secret is set (X-Warden-Signature: sha256=<hex of the raw body>).
import { createHmac } from 'node:crypto';

import type { Notification, Notifier, SendOptions } from './notifier.ts';
import { postJson } from './notifier.ts';

export type WebhookNotifierOptions = { url: string; secret?: string };

export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';
  constructor(private readonly options: WebhookNotifierOptions) {}

  async send(n: Notification, options?: SendOptions): Promise<void> {
    const body = JSON.stringify({ source: 'warden', ...n, sentAt: new Date().toISOString() });
    const headers: Record<string, string> = {};
    if (this.options.secret) {
      headers['x-warden-signature'] =
        `sha256=${createHmac('sha256', this.options.secret).update(body).digest('hex')}`;
    }
    await postJson(this.channel, this.options.url, body, { ...options, headers });
  }
}
