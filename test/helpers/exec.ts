// The exec layer on a fresh PostgreSQL database, with a spawner that counts
// every process it starts (and really starts it).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Config } from '../../src/config/load.ts';
import type { Db } from '../../src/db/db.ts';
import { migrate } from '../../src/db/migrate.ts';
import { PostgresDb } from '../../src/db/postgres-db.ts';
import type { ExecServices } from '../../src/exec/build-exec.ts';
import { buildExec } from '../../src/exec/build-exec.ts';
import type { Spawner } from '../../src/exec/sandbox-runner.ts';
import { createTestDatabase } from './servers.ts';
import { testConfig } from './services.ts';

export type CountingSpawner = Spawner & { calls: { command: string; args: readonly string[] }[] };

export function countingSpawner(): CountingSpawner {
  const calls: CountingSpawner['calls'] = [];
  const fn = ((command: string, args: readonly string[], options) => {
    calls.push({ command, args });
    return spawn(command, [...args], options) as ChildProcess;
  }) as CountingSpawner;
  fn.calls = calls;
  return fn;
}

export type TestExec = ExecServices & {
  db: Db;
  config: Config;
  dir: string;
  spawner: CountingSpawner;
  dbUrl: string;
  dispose(): Promise<void>;
};

export async function makeTestExec(env: Record<string, string> = {}): Promise<TestExec> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-exec-'));
  const t = await createTestDatabase();
  const db = new PostgresDb({ url: t.url, max: 4 });
  await migrate(db);
  const config = testConfig({
    WARDEN_DATA_DIR: dir,
    DATABASE_URL: t.url,
    WARDEN_EXEC_ROOT: join(dir, 'sandbox'),
    WARDEN_AUDIT_FILE: join(dir, 'audit.jsonl'),
    DOCKER_SOCKET: join(dir, 'no-docker.sock'),
    ...env,
  });
  const spawner = countingSpawner();
  const exec = await buildExec(config, db, { spawn: spawner });
  return Object.assign(exec, {
    db,
    config,
    dir,
    spawner,
    dbUrl: t.url,
    async dispose() {
      await db.close();
      await t.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
