import { randomUUID } from 'node:crypto';

import { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import { EmbeddedQueue } from '../src/queue/embedded-queue.ts';
import { testRedisUrl } from './helpers/servers.ts';
import { defineJobQueueContract } from './job-queue-contract.ts';

defineJobQueueContract('embedded', async () => {
  const queue = new EmbeddedQueue();
  return { queue, dispose: () => queue.close() };
});

defineJobQueueContract('BullMQ', async () => {
  const queue = new BullmqQueue({
    url: testRedisUrl,
    name: `q-${randomUUID()}`,
    prefix: 'warden-test',
  });
  return {
    queue,
    async dispose() {
      await queue.obliterate();
      await queue.close();
    },
  };
});
