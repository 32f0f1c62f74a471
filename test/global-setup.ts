// Tests talk to the real PostgreSQL and Redis. Fail early, and say how to
// start them, when they are not there.
import { createConnection } from 'node:net';

import { testPostgresUrl, testRedisUrl } from './helpers/servers.ts';

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port) }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export default async function setup() {
  const missing: string[] = [];
  if (!(await reachable(testPostgresUrl)))
    missing.push(`PostgreSQL at ${testPostgresUrl} (TEST_DATABASE_URL)`);
  if (!(await reachable(testRedisUrl))) missing.push(`Redis at ${testRedisUrl} (TEST_REDIS_URL)`);
  if (missing.length > 0) {
    throw new Error(
      `The tests need running servers: ${missing.join(' and ')}. .ci/run starts them; see README.md.`,
    );
  }
}
