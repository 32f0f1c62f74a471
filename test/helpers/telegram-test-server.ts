// Speaks the Telegram Bot API's sendMessage as Telegram documents it:
// {"ok":true,"result":Message} or {"ok":false,"error_code":N,"description":...}.
import type { HttpSink } from './http-sink.ts';
import { startHttpSink } from './http-sink.ts';

export type TelegramTestServer = {
  url: string;
  token: string;
  messages(): { chat_id: string; text: string }[];
  /** The next answers: a Telegram error. */
  failWith(code: number, description: string): void;
  sink: HttpSink;
  close(): Promise<void>;
};

export async function startTelegramTestServer(
  token = '123456:TEST-token_abc',
): Promise<TelegramTestServer> {
  const sink = await startHttpSink();
  let failure: { code: number; description: string } | undefined;
  let messageId = 0;
  const delivered: { chat_id: string; text: string }[] = [];
  sink.reply((req) => {
    const json = { 'content-type': 'application/json' };
    if (req.url !== `/bot${token}/sendMessage`) {
      return {
        status: 401,
        headers: json,
        body: JSON.stringify({ ok: false, error_code: 401, description: 'Unauthorized' }),
      };
    }
    if (failure) {
      return {
        status: failure.code,
        headers: json,
        body: JSON.stringify({
          ok: false,
          error_code: failure.code,
          description: failure.description,
        }),
      };
    }
    const m = JSON.parse(req.body) as { chat_id: string; text: string };
    delivered.push(m);
    return {
      headers: json,
      body: JSON.stringify({
        ok: true,
        result: {
          message_id: ++messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(m.chat_id), type: 'private' },
          text: m.text,
        },
      }),
    };
  });
  return {
    url: sink.url,
    token,
    sink,
    messages: () => delivered,
    failWith(code, description) {
      failure = { code, description };
    },
    close: () => sink.close(),
  };
}
