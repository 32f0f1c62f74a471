// API keys: shown once at creation, stored as SHA-256, each with a role.
// A key's role never exceeds its owner's when it has one.
import type { Db } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import type { Role } from './roles.ts';
import { isRole } from './roles.ts';
import { newToken, sha256 } from './tokens.ts';

export type ApiKey = {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  userId: number | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

type Row = {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  user_id: number | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

const toKey = (r: Row): ApiKey => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  role: r.role,
  userId: r.user_id,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export const apiKeyPrefix = 'wdn_';

export class ApiKeyService {
  constructor(private readonly db: Db) {}

  /** Creates a key; the returned secret is never retrievable again. */
  async create(input: {
    name: string;
    role: Role;
    userId?: number;
  }): Promise<{ key: ApiKey; secret: string }> {
    if (!isRole(input.role)) {
      throw new UserError(
        'invalid_role',
        `role must be admin, operator or viewer; got "${String(input.role)}"`,
      );
    }
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) {
      throw new UserError('invalid_name', 'an API key needs a name of 1-100 characters');
    }
    const secret = newToken(apiKeyPrefix);
    const { rows } = await this.db.query<Row>(
      `INSERT INTO api_keys (name, prefix, key_hash, role, user_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [
        name,
        secret.slice(0, apiKeyPrefix.length + 6),
        sha256(secret),
        input.role,
        input.userId ?? null,
      ],
    );
    return { key: toKey(rows[0]!), secret };
  }

  async list(): Promise<ApiKey[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM api_keys ORDER BY id');
    return rows.map(toKey);
  }

  async revoke(id: number): Promise<ApiKey> {
    const { rows } = await this.db.query<Row>(
      'UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING *',
      [id],
    );
    if (!rows[0]) throw notFound('API key', id);
    return toKey(rows[0]);
  }

  /** The key when the secret is known, not revoked and its owner (if any) is enabled. */
  async verify(secret: string): Promise<ApiKey | undefined> {
    if (!secret.startsWith(apiKeyPrefix)) return undefined;
    const { rows } = await this.db.query<Row & { owner_disabled: boolean }>(
      `SELECT k.*, u.disabled_at IS NOT NULL AS owner_disabled
         FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [sha256(secret)],
    );
    const row = rows[0];
    if (!row || row.owner_disabled) return undefined;
    // Recording use at most once a minute keeps authentication off the write path.
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
      await this.db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.id]);
    }
    return toKey(row);
  }
}
