// The Redis response bus: one pub/sub channel that every main process
// listens to; each keeps only the answers it waits for. Pub/sub forgets what
// nobody hears: an answer whose publish failed, or reached no subscriber
// (Redis blinked), is written to the database, and waiting main processes
// look there every second. Answers sent in one turn of the event loop share
// one PUBLISH (a JSON array), so a busy worker does not pay a round trip each.
// Its own file so the embedded mode never loads ioredis.
import { CountedRedis as Redis } from '../queue/counted-redis.ts';

import type { Db } from '../db/db.ts';
import { MicroBatcher } from '../db/micro-batcher.ts';
import type { Logger } from '../log.ts';

import type { WebhookResponse } from './node-types.ts';
import type { ResponseBus, ResponseWaiter } from './response-bus.ts';
import { LocalResponseBus } from './response-bus.ts';

type Answer = { id: string; response: WebhookResponse };

export type RedisResponseBusOptions = {
  url: string;
  channel: string;
  /** Where undelivered answers are kept. */
  db: Db;
  logger?: Logger;
  /** How often waiters look for kept answers. @default 1000 */
  pollMs?: number;
};

export class RedisResponseBus implements ResponseBus {
  private readonly local = new LocalResponseBus();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly waiting = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;
  private lastPurge = 0;

  constructor(private readonly o: RedisResponseBusOptions) {
    this.pub = new Redis(o.url, { maxRetriesPerRequest: 1 });
    this.sub = new Redis(o.url, { maxRetriesPerRequest: null });
    this.pub.on('error', () => {});
    this.sub.on('error', () => {});
    void this.sub.subscribe(o.channel).catch(() => {});
    this.sub.on('message', (_channel, message: string) => {
      try {
        const parsed = JSON.parse(message) as Answer | Answer[];
        for (const a of Array.isArray(parsed) ? parsed : [parsed]) this.deliver(a.id, a.response);
      } catch {
        // not ours
      }
    });
    this.timer = setInterval(() => void this.poll(), o.pollMs ?? 1000);
    this.timer.unref();
  }

  private deliver(id: string, response: WebhookResponse): boolean {
    if (!this.local.deliver(id, response)) return false;
    this.waiting.delete(id);
    return true;
  }

  publish(executionId: string, response: WebhookResponse): void {
    if (this.deliver(executionId, response)) return;
    void this.send(executionId, response);
  }

  // Never rejects: an answer that could not be kept is logged.
  private readonly sends = new MicroBatcher<Answer, void>(
    async (answers) => {
      const heard = await this.pub.publish(this.o.channel, JSON.stringify(answers)).catch(() => 0);
      if (heard === 0)
        await this.o.db
          .query(
            `INSERT INTO execution_responses (execution_id, response)
             SELECT x.id, x.response FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, response jsonb)
             ON CONFLICT (execution_id) DO NOTHING`,
            [JSON.stringify(answers)],
          )
          .catch((err: unknown) =>
            this.o.logger?.warn(
              { err, executionIds: answers.map((a) => a.id) },
              'webhook answers could not be kept',
            ),
          );
      return answers.map(() => undefined);
    },
    200,
    4,
  );

  /** Publishes; an answer no subscriber heard is kept in the database. */
  send(executionId: string, response: WebhookResponse): Promise<void> {
    return this.sends.submit({ id: executionId, response });
  }

  /** Delivers kept answers to this process's waiters; exposed for tests. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (this.waiting.size > 0) {
        const { rows } = await this.o.db.query<{ execution_id: string; response: WebhookResponse }>(
          `DELETE FROM execution_responses WHERE execution_id = ANY($1::uuid[])
           RETURNING execution_id, response`,
          [[...this.waiting]],
        );
        for (const r of rows) this.deliver(r.execution_id, r.response);
      }
      if (Date.now() - this.lastPurge > 60_000) {
        this.lastPurge = Date.now();
        // Nobody waits longer than the webhook timeout for an answer.
        await this.o.db.query(
          "DELETE FROM execution_responses WHERE created_at < now() - interval '1 hour'",
        );
      }
    } catch (err) {
      this.o.logger?.debug({ err }, 'could not read kept webhook answers');
    } finally {
      this.polling = false;
    }
  }

  waitFor(executionId: string, timeoutMs: number): ResponseWaiter {
    this.waiting.add(executionId);
    const w = this.local.waitFor(executionId, timeoutMs);
    void w.promise.then(() => this.waiting.delete(executionId));
    return {
      promise: w.promise,
      cancel: () => {
        this.waiting.delete(executionId);
        w.cancel();
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.local.close();
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
