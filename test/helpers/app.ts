// A running Warden HTTP app (not listening) on test services, with helpers
// for credentials.
import type { FastifyInstance } from 'fastify';

import type { Role } from '../../src/auth/roles.ts';
import { buildServer } from '../../src/server/server.ts';
import type { DbKind, TestServices } from './services.ts';
import { makeTestServices } from './services.ts';

export type TestApp = {
  app: FastifyInstance;
  services: TestServices;
  /** A new API key with the role; returns the Authorization header. */
  keyFor(role: Role): Promise<{ authorization: string }>;
  close(): Promise<void>;
};

export async function makeTestApp(
  kind: DbKind = 'pglite',
  env: Record<string, string> = {},
): Promise<TestApp> {
  const services = await makeTestServices(kind, env);
  const app = await buildServer(services);
  await app.ready();
  return {
    app,
    services,
    async keyFor(role) {
      const { secret } = await services.apiKeys.create({ name: `test-${role}`, role });
      return { authorization: `Bearer ${secret}` };
    },
    async close() {
      await app.close();
      await services.dispose();
    },
  };
}
