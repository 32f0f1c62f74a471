// Live updates for the console: GET /api/v1/events is a Server-Sent Events
// stream of incident and execution changes (see change-feed.ts for why they
// come from the database). Authenticated like every route; a browser session
// that ends while the stream is open gets an `expired` event and the stream
// closes, so a page never keeps watching after logout.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { ChangeEvent } from '../change-feed.ts';
import { ChangeFeed } from '../change-feed.ts';
import { sessionCookie } from './auth.ts';

export type EventsPluginOptions = {
  services: Services;
  /** Time between database polls. @default 1000 */
  pollMs?: number;
  /** Time between keep-alive comments and session re-checks. @default 15000 */
  keepAliveMs?: number;
};

export default async function eventsPlugin(app: FastifyInstance, opts: EventsPluginOptions) {
  const { sessions, db, logger } = opts.services;
  const feed = new ChangeFeed(db, { intervalMs: opts.pollMs ?? 1000, logger });
  const open = new Set<() => void>();
  // Before the server stops listening: an open stream is not an idle
  // connection, and shutdown would otherwise wait for every browser to leave.
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
    feed.stop();
  });

  const noQuery = { type: 'object', properties: {}, additionalProperties: false } as const;

  app.get('/api/v1/events', { schema: { querystring: noQuery } }, async (request, reply) => {
    const sid = request.principal?.kind === 'session' ? request.cookies[sessionCookie] : undefined;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
      'x-request-id': String(request.id),
    });
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    // Reconnect after 2 s if the connection drops.
    res.write('retry: 2000\n\n');
    send('ready', { at: new Date().toISOString() });

    const unsubscribe = feed.subscribe((change: ChangeEvent) => send(change.type, change));
    const keepAlive = setInterval(() => {
      res.write(': keep-alive\n\n');
      if (sid)
        void sessions.get(sid).then(
          (s) => {
            if (!s) {
              send('expired', { message: 'the session has expired; log in again' });
              close();
            }
          },
          () => {},
        );
    }, opts.keepAliveMs ?? 15_000);
    keepAlive.unref();
    let closed = false;
    function close() {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      unsubscribe();
      open.delete(close);
      res.end();
    }
    open.add(close);
    request.raw.on('close', close);
  });
}
