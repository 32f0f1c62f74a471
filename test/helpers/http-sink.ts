// A local HTTP server that records what it is sent and answers as told:
// the far end of webhooks, notifications and side-effect counters.
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer } from 'node:http';

export type SinkRequest = {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
};
export type SinkReply = {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  delayMs?: number;
};

export type HttpSink = {
  url: string;
  requests: SinkRequest[];
  /** Sets how the next requests are answered (default 200 "ok"). */
  reply(fn: (req: SinkRequest) => SinkReply): void;
  /** Resolves when at least n requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<SinkRequest[]>;
  close(): Promise<void>;
};

export async function startHttpSink(): Promise<HttpSink> {
  const requests: SinkRequest[] = [];
  let answer: (req: SinkRequest) => SinkReply = () => ({});
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(r);
      for (const w of waiters.splice(0)) w();
      const a = answer(r);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(a.status ?? 200, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? 'ok');
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(fn) {
      answer = fn;
    },
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > deadline) throw new Error(`sink got ${requests.length} of ${n} requests`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
      return requests;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
