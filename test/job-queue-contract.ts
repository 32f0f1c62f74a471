// One contract for every JobQueue adapter: each adapter's test file calls
// defineJobQueueContract with a factory for a fresh, empty queue.
import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import type { JobQueue } from '../src/queue/job-queue.ts';
import { waitFor } from './helpers/wait.ts';

export type JobQueueFactory = () => Promise<{ queue: JobQueue; dispose(): Promise<void> }>;

export function defineJobQueueContract(name: string, factory: JobQueueFactory) {
  describe(`JobQueue contract: ${name}`, () => {
    const withQueue = async (fn: (q: JobQueue) => Promise<void>) => {
      const { queue, dispose } = await factory();
      try {
        await fn(queue);
      } finally {
        await queue.stopConsuming(1000);
        await dispose();
      }
    };

    it('delivers every enqueued execution id, including those enqueued before consuming', () =>
      withQueue(async (q) => {
        const ids = Array.from({ length: 20 }, () => randomUUID());
        await q.enqueue(ids[0]!);
        const seen: string[] = [];
        await q.consume(async (id) => void seen.push(id), { concurrency: 4 });
        for (const id of ids.slice(1)) await q.enqueue(id);
        await waitFor(() => seen.length >= ids.length, 'all jobs delivered');
        expect(new Set(seen)).toEqual(new Set(ids));
      }));

    it('never runs more handlers at once than its concurrency', () =>
      withQueue(async (q) => {
        let inside = 0;
        let most = 0;
        let done = 0;
        await q.consume(
          async () => {
            inside++;
            most = Math.max(most, inside);
            await new Promise((r) => setTimeout(r, 30));
            inside--;
            done++;
          },
          { concurrency: 2 },
        );
        for (let i = 0; i < 8; i++) await q.enqueue(randomUUID());
        await waitFor(() => done === 8, 'eight jobs handled');
        expect(most).toBe(2);
      }));

    it('holds a delayed job back: one enqueued later without delay arrives first', () =>
      withQueue(async (q) => {
        const seen: string[] = [];
        await q.consume(async (id) => void seen.push(id), { concurrency: 2 });
        await q.enqueue('delayed', { delayMs: 1500 });
        await q.enqueue('now');
        await waitFor(() => seen.length === 2, 'both jobs delivered');
        expect(seen).toEqual(['now', 'delayed']);
      }));

    it('keeps consuming after a handler throws', () =>
      withQueue(async (q) => {
        const seen: string[] = [];
        await q.consume(
          async (id) => {
            seen.push(id);
            if (id === 'bad') throw new Error('handler failed');
          },
          { concurrency: 1 },
        );
        await q.enqueue('bad');
        await q.enqueue('good');
        await waitFor(() => seen.includes('good'), 'the next job delivered');
        expect(seen).toEqual(['bad', 'good']);
      }));

    it('stopConsuming waits for the handlers that are running', () =>
      withQueue(async (q) => {
        let started = false;
        let finished = false;
        await q.consume(
          async () => {
            started = true;
            await new Promise((r) => setTimeout(r, 200));
            finished = true;
          },
          { concurrency: 1 },
        );
        await q.enqueue(randomUUID());
        await waitFor(() => started, 'the job started');
        expect(q.active()).toBe(1);
        await q.stopConsuming(10_000);
        expect(finished).toBe(true);
        expect(q.active()).toBe(0);
      }));

    it('reports itself ready', () =>
      withQueue(async (q) => {
        await q.consume(async () => {}, { concurrency: 1 });
        await waitFor(async () => (await q.check()).ok, 'queue ready');
        expect((await q.check()).ok).toBe(true);
      }));
  });
}
