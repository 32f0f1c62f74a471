// The Notifier port: one message to one channel. Adapters: webhook,
// Telegram, email (SMTP) and Slack. Deduplication and fan-out live in
// NotificationService, not in the adapters.
import { maskUrlsInText } from '../config/mask.ts';
import { OperationalError } from '../errors.ts';

export type NotificationKind = 'approval_needed' | 'escalated' | 'resolved' | 'info';

export type Notification = {
  kind: NotificationKind;
  /** One line: what happened. */
  title: string;
  /** Plain text body: evidence, what to do next. */
  text: string;
  /** Same key within the dedup window: sent once per channel. */
  dedupKey: string;
  incidentId?: number;
  severity?: string;
  /** Where a person can act on it (approval page, incident). */
  url?: string;
};

export type SendOptions = {
  signal?: AbortSignal;
  /** @default 10000 */
  timeoutMs?: number;
};

export interface Notifier {
  /** The channel's name as configured and recorded (e.g. "telegram"). */
  readonly channel: string;
  send(notification: Notification, options?: SendOptions): Promise<void>;
}

/** A plain-text rendering shared by the channels that take text. */
export function renderText(n: Notification): string {
  const lines = [n.title, '', n.text];
  if (n.url) lines.push('', n.url);
  return lines.join('\n').trim();
}

/** POSTs JSON and turns a failed delivery into an OperationalError naming the channel. */
export async function postJson(
  channel: string,
  url: string,
  body: unknown,
  options: SendOptions & { headers?: Record<string, string> } = {},
): Promise<Response> {
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 10_000)];
  if (options.signal) signals.push(options.signal);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.any(signals),
    });
  } catch (err) {
    throw new OperationalError(
      'notify_failed',
      // The runtime's message may quote the whole URL, a bot token or webhook secret with it.
      `${channel}: could not reach ${new URL(url).origin}: ${maskUrlsInText((err as Error).message)}`,
      {
        cause: err,
      },
    );
  }
  if (!res.ok) {
    const detail = (await res.text().catch(() => '')).slice(0, 300);
    throw new OperationalError('notify_failed', `${channel}: HTTP ${res.status} ${detail}`.trim());
  }
  return res;
}
