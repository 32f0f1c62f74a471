// Credentials (tokens, SMTP passwords, SSH keys) encrypted with AES-256-GCM.
// The credential's name is bound as additional authenticated data, so a
// ciphertext copied onto another row does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import type { Db } from '../db/db.ts';
import { notFound, UnexpectedError, UserError } from '../errors.ts';

export type CredentialInfo = {
  id: number;
  name: string;
  kind: string;
  createdAt: Date;
  updatedAt: Date;
};

const namePattern = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

export class CredentialStore {
  constructor(
    private readonly db: Db,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32)
      throw new UnexpectedError('bad_key', 'the credential key must be 32 bytes');
  }

  encrypt(name: string, plaintext: string) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { iv, ciphertext, authTag: cipher.getAuthTag() };
  }

  decrypt(name: string, box: { iv: Buffer; ciphertext: Buffer; authTag: Buffer }): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, box.iv);
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(box.authTag);
    try {
      return Buffer.concat([decipher.update(box.ciphertext), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new UserError(
        'credential_undecryptable',
        `credential "${name}" cannot be decrypted: the encryption key differs from the one it was stored with, or the data was altered`,
        { status: 500, cause: err },
      );
    }
  }

  async set(name: string, kind: string, value: string): Promise<CredentialInfo> {
    if (!namePattern.test(name)) {
      throw new UserError(
        'invalid_name',
        'credential names are 1-100 letters, digits, ".", "_" or "-"',
      );
    }
    const box = this.encrypt(name, value);
    const { rows } = await this.db.query<{
      id: number;
      name: string;
      kind: string;
      created_at: Date;
      updated_at: Date;
    }>(
      `INSERT INTO credentials (name, kind, ciphertext, iv, auth_tag) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, ciphertext = EXCLUDED.ciphertext,
         iv = EXCLUDED.iv, auth_tag = EXCLUDED.auth_tag, updated_at = now()
       RETURNING id, name, kind, created_at, updated_at`,
      [name, kind, box.ciphertext, box.iv, box.authTag],
    );
    const r = rows[0]!;
    return {
      id: r.id,
      name: r.name,
      kind: r.kind,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  async get(name: string): Promise<string> {
    const { rows } = await this.db.query<{
      ciphertext: Uint8Array;
      iv: Uint8Array;
      auth_tag: Uint8Array;
    }>('SELECT ciphertext, iv, auth_tag FROM credentials WHERE name = $1', [name]);
    const r = rows[0];
    if (!r) throw notFound('credential', name);
    return this.decrypt(name, {
      ciphertext: Buffer.from(r.ciphertext),
      iv: Buffer.from(r.iv),
      authTag: Buffer.from(r.auth_tag),
    });
  }

  async list(): Promise<CredentialInfo[]> {
    const { rows } = await this.db.query<{
      id: number;
      name: string;
      kind: string;
      created_at: Date;
      updated_at: Date;
    }>('SELECT id, name, kind, created_at, updated_at FROM credentials ORDER BY name');
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async delete(name: string): Promise<void> {
    const { rowCount } = await this.db.query('DELETE FROM credentials WHERE name = $1', [name]);
    if (rowCount === 0) throw notFound('credential', name);
  }
}
