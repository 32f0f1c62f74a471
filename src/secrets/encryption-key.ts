// The key for credentials at rest: WARDEN_ENCRYPTION_KEY when set, else a
// key generated once into the data directory with mode 0600.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

import { UserError } from '../errors.ts';
import { syncPath } from '../fs-sync.ts';

export function parseKey(text: string, source: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) {
    throw new UserError(
      'invalid_encryption_key',
      `${source}: the key must be 32 bytes (64 hex digits or base64)`,
    );
  }
  return key;
}

export function loadEncryptionKey(options: { key?: string; dataDir: string }): Buffer {
  if (options.key) return parseKey(options.key, 'WARDEN_ENCRYPTION_KEY');
  const dir = resolve(options.dataDir);
  const path = join(dir, 'encryption.key');
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) chmodSync(path, 0o600);
    return parseKey(readFileSync(path, 'utf8'), path);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // Written whole and flushed under a name of its own, then linked into
  // place: link() fails if another process made the key first (then theirs
  // is used), no process ever reads a key half written, and a power loss
  // cannot leave an empty key beside a database whose secrets need it.
  const incoming = `${path}.${process.pid}.new`;
  writeFileSync(incoming, `${key.toString('hex')}\n`, { mode: 0o600 });
  try {
    syncPath(incoming);
    linkSync(incoming, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return parseKey(readFileSync(path, 'utf8'), path);
  } finally {
    rmSync(incoming, { force: true });
  }
  syncPath(dir);
  return key;
}
