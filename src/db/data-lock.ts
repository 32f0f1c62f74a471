// One process per embedded data directory. The lock file holds the owner's
// pid; a lock left by a process that no longer runs is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { UserError } from '../errors.ts';

export type DataLock = { path: string; release(): void };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDataLock(dataDir: string): DataLock {
  const path = join(dataDir, 'warden.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
        throw new UserError(
          'data_dir_locked',
          `Another Warden process (pid ${pid}) is using the data directory ${dataDir}. ` +
            'Stop it first, or give this one its own WARDEN_DATA_DIR, or use PostgreSQL (DATABASE_URL) to run several processes.',
          { status: 409 },
        );
      }
      // Stale lock from a process that died: take it over.
      try {
        unlinkSync(path);
      } catch {
        // someone else removed it first; retry
      }
    }
  }
  throw new UserError('data_dir_locked', `Could not take the lock ${path}`, { status: 409 });
}
