// The Redis watchdog on a private redis-server: a server that stops
// answering (SIGSTOP: the connection stays open, as a half-open one does)
// makes the queue not ready; when it answers again, ready again.
import { afterAll, expect, it } from 'vitest';

import { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import { killAll, startPrivateRedis } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

afterAll(killAll);

it('reports an unresponsive Redis as not ready and recovers when it answers', async () => {
  const redis = await startPrivateRedis();
  const queue = new BullmqQueue({
    url: redis.url,
    name: 'watchdog',
    prefix: 'warden-test',
    pingIntervalMs: 100,
    pingTimeoutMs: 200,
  });
  try {
    await queue.consume(async () => {}, { concurrency: 1 });
    await waitFor(async () => (await queue.check()).ok, 'ready at first');
    const pid = await findPid(redis.port);
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(async () => !(await queue.check()).ok, 'not ready while Redis is frozen');
      expect((await queue.check()).detail).toMatch(/did not answer PING/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await queue.check()).ok, 'ready again');
    await queue.enqueue('after-recovery');
  } finally {
    await queue.close();
    await redis.stop();
  }
});

async function findPid(port: number): Promise<number> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('redis-cli', ['-p', String(port), 'INFO', 'server']).toString();
  return Number(/process_id:(\d+)/.exec(out)![1]);
}
