// Warden's object graph for tests: on embedded PGlite (in a temp data
// directory) or on a fresh PostgreSQL database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Services } from '../../src/app.ts';
import { createServices } from '../../src/app.ts';
import type { Config } from '../../src/config/load.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase } from './servers.ts';

export type DbKind = 'pglite' | 'postgres';
export const dbKinds: DbKind[] = ['pglite', 'postgres'];

export type TestServices = Services & { dataDir: string; dispose(): Promise<void> };

export function testConfig(env: Record<string, string | undefined>): Config {
  // Test servers (sinks, model stubs) listen on loopback, which workflows may not reach by default.
  return loadConfig({
    env: { LOG_LEVEL: 'silent', WARDEN_HTTP_ALLOW_HOSTS: '127.0.0.1,localhost', ...env },
    cwd: tmpdir(),
  });
}

export async function makeTestServices(
  kind: DbKind,
  env: Record<string, string | undefined> = {},
): Promise<TestServices> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-test-'));
  const pgDb = kind === 'postgres' ? await createTestDatabase() : undefined;
  const config = testConfig({ WARDEN_DATA_DIR: dataDir, DATABASE_URL: pgDb?.url, ...env });
  const services = await createServices(config, createLogger({ level: 'silent' }));
  return Object.assign(services, {
    dataDir,
    async dispose() {
      await services.close();
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
