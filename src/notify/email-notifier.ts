// Email over SMTP (nodemailer). SMTP_URL carries host, port and login:
// smtp://user:pass@host:587 (STARTTLS when offered) or smtps://... (TLS).
// nodemailer is loaded at the first email, not at start: most installations
// send none, and every process would pay for it.
import type { Transporter } from 'nodemailer';

import { OperationalError } from '../errors.ts';
import type { Notification, Notifier, SendOptions } from './notifier.ts';
import { renderText } from './notifier.ts';

export type EmailNotifierOptions = { smtpUrl: string; from: string; to: string[] };

export class EmailNotifier implements Notifier {
  readonly channel = 'email';
  private transport: Promise<Transporter> | undefined;

  constructor(private readonly options: EmailNotifierOptions) {}

  private connect(): Promise<Transporter> {
    this.transport ??= import('nodemailer').then((m) =>
      m.default.createTransport(this.options.smtpUrl),
    );
    return this.transport;
  }

  async send(n: Notification, options: SendOptions = {}): Promise<void> {
    const timeout = options.timeoutMs ?? 10_000;
    const sending = this.connect().then((t) =>
      t.sendMail({
        from: this.options.from,
        to: this.options.to,
        subject: `[Warden] ${n.title}`,
        text: renderText(n),
        headers: {
          'X-Warden-Kind': n.kind,
          ...(n.incidentId ? { 'X-Warden-Incident': String(n.incidentId) } : {}),
        },
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout);
    });
    try {
      await Promise.race([sending, timedOut]);
    } catch (err) {
      throw new OperationalError('notify_failed', `email: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    void this.transport?.then((t) => t.close()).catch(() => {});
  }
}
