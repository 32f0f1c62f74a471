import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrate } from '../db/migrate.ts';
import { PgliteDb } from '../db/pglite-db.ts';
import { CredentialStore } from './credential-store.ts';
import { loadEncryptionKey } from './encryption-key.ts';

let db: PgliteDb;
beforeAll(async () => {
  db = await PgliteDb.open();
  await migrate(db);
});
afterAll(() => db.close());

describe('CredentialStore', () => {
  it('round-trips a value and stores only ciphertext', async () => {
    const store = new CredentialStore(db, randomBytes(32));
    await store.set('telegram', 'token', 'bot123:secret-value');
    expect(await store.get('telegram')).toBe('bot123:secret-value');
    const { rows } = await db.query<{ ciphertext: Uint8Array }>(
      'SELECT ciphertext FROM credentials WHERE name = $1',
      ['telegram'],
    );
    expect(Buffer.from(rows[0]!.ciphertext).toString('utf8')).not.toContain('secret-value');
  });

  it('refuses to decrypt with another key, saying why', async () => {
    await new CredentialStore(db, randomBytes(32)).set('smtp', 'password', 'hunter2hunter2');
    await expect(new CredentialStore(db, randomBytes(32)).get('smtp')).rejects.toThrow(
      /encryption key differs/,
    );
  });

  it('binds the ciphertext to its name, so a copied row does not decrypt', async () => {
    const store = new CredentialStore(db, randomBytes(32));
    await store.set('a', 'token', 'value-a');
    await store.set('b', 'token', 'value-b');
    await db.query(
      `UPDATE credentials SET ciphertext = src.ciphertext, iv = src.iv, auth_tag = src.auth_tag
         FROM (SELECT ciphertext, iv, auth_tag FROM credentials WHERE name = 'a') src WHERE name = 'b'`,
    );
    await expect(store.get('b')).rejects.toThrow(/cannot be decrypted/);
  });
});

describe('loadEncryptionKey', () => {
  it('generates a key once with mode 0600 and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-key-'));
    const first = loadEncryptionKey({ dataDir: dir });
    const path = join(dir, 'encryption.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadEncryptionKey({ dataDir: dir }).equals(first)).toBe(true);
    expect(readFileSync(path, 'utf8').trim()).toHaveLength(64);
    // Nothing left beside it from the making.
    expect(readdirSync(dir)).toEqual(['encryption.key']);
  });

  it('gives processes that start together one key, whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-key-'));
    const module = fileURLToPath(new URL('./encryption-key.ts', import.meta.url));
    const one = () =>
      new Promise<string>((resolvePromise, reject) => {
        execFile(
          process.execPath,
          [
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            `const { loadEncryptionKey } = await import(${JSON.stringify(module)});
             process.stdout.write(loadEncryptionKey({ dataDir: ${JSON.stringify(dir)} }).toString('hex'));`,
          ],
          (err, stdout) => (err ? reject(err) : resolvePromise(stdout)),
        );
      });
    const keys = await Promise.all([one(), one(), one(), one()]);
    expect(new Set(keys).size).toBe(1);
    expect(readFileSync(join(dir, 'encryption.key'), 'utf8')).toBe(`${keys[0]}\n`);
    expect(readdirSync(dir)).toEqual(['encryption.key']);
  }, 30_000);

  it('prefers WARDEN_ENCRYPTION_KEY and rejects a key of the wrong size', () => {
    const hex = randomBytes(32).toString('hex');
    expect(loadEncryptionKey({ key: hex, dataDir: '/nonexistent' }).toString('hex')).toBe(hex);
    expect(() => loadEncryptionKey({ key: 'abcd', dataDir: '/nonexistent' })).toThrow(/32 bytes/);
  });
});
