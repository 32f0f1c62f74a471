// A local HTTP server that workflows call in tests (distinct from http-sink.ts, which records every request): it counts side effects
// and offers failing, slow, large and verify endpoints.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HttpSink = {
  url: string;
  /** POSTs to /effect, by key (?key=...). */
  effects: Map<string, number>;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  /** Called when a first request to /hold?key arrives; it waits until release(key). */
  onHold?: (key: string) => void;
  release(key: string): void;
  close(): Promise<void>;
};

export async function startHttpSink(): Promise<HttpSink> {
  const effects = new Map<string, number>();
  const hits = new Map<string, number>();
  const held = new Map<string, (() => void)[]>();
  const sink: HttpSink = {
    url: '',
    effects,
    hits,
    release(key) {
      for (const f of held.get(key) ?? []) f();
      held.delete(key);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const k of [...held.keys()]) sink.release(k);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const key = u.searchParams.get('key') ?? '';
    const counted = `${u.pathname}?${key}`;
    hits.set(counted, (hits.get(counted) ?? 0) + 1);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      switch (u.pathname) {
        case '/effect': {
          const n = (effects.get(key) ?? 0) + 1;
          effects.set(key, n);
          return json(200, { key, n });
        }
        case '/verify':
          return effects.has(key) ? json(200, { key, n: effects.get(key) }) : json(404, {});
        case '/flaky': {
          const failures = Number(u.searchParams.get('failures') ?? 2);
          return hits.get(counted)! <= failures
            ? json(503, { retry: true })
            : json(200, { ok: true });
        }
        case '/status':
          return json(Number(u.searchParams.get('code') ?? 200), {
            code: u.searchParams.get('code'),
          });
        case '/slow':
          return void setTimeout(
            () => json(200, { slow: true }),
            Number(u.searchParams.get('ms') ?? 1000),
          ).unref();
        case '/hold': {
          // Only the first request per key is held; a re-run passes straight through.
          if (hits.get(counted)! > 1) return json(200, { held: false });
          const list = held.get(key) ?? [];
          list.push(() => json(200, { held: key }));
          held.set(key, list);
          sink.onHold?.(key);
          return;
        }
        case '/big':
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end('x'.repeat(Number(u.searchParams.get('bytes') ?? 10_000)));
        default:
          return json(200, { path: u.pathname });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return sink;
}
