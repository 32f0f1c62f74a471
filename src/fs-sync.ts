// Flushing files to the disk: what Warden writes outside a database (a
// data directory seeded or restored, a backup, a new encryption key) is on
// the disk before it is renamed (or linked) into place, and the new name is
// flushed after, so that a power loss leaves either the old file or the
// whole new one.
import { closeSync, fsyncSync, openSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Flushes every file and directory under dir, and dir itself, to the disk:
 * for a data directory written outside PostgreSQL (seeded from the
 * template, restored from a backup), as initdb does for its own.
 */
export function syncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) syncTree(path);
    else if (entry.isFile()) syncPath(path);
  }
  syncPath(dir);
}

/** Flushes one file or directory (a directory: the names in it). */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** syncPath off the event loop, for a large file (a backup). */
export async function syncPathAsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
