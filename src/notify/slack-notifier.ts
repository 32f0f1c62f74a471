// Slack incoming webhook: {"text": ...}; Slack answers 200 "ok", or 4xx
// with a reason such as "invalid_payload" or "no_service".
import type { Notification, Notifier, SendOptions } from './notifier.ts';
import { postJson } from './notifier.ts';

const emoji: Record<Notification['kind'], string> = {
  approval_needed: ':raised_hand:',
  escalated: ':rotating_light:',
  resolved: ':white_check_mark:',
  info: ':information_source:',
};

// Slack's mrkdwn treats &, < and > as control characters.
const escape = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export class SlackNotifier implements Notifier {
  readonly channel = 'slack';
  constructor(private readonly options: { webhookUrl: string }) {}

  async send(n: Notification, options?: SendOptions): Promise<void> {
    const link = n.url ? `\n<${n.url}|Open in Warden>` : '';
    await postJson(
      this.channel,
      this.options.webhookUrl,
      { text: `${emoji[n.kind]} *${escape(n.title)}*\n${escape(n.text)}${link}` },
      options,
    );
  }
}
