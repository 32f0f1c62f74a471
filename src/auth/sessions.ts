// Browser sessions: an opaque cookie value (stored hashed) and a CSRF token
// that unsafe requests must echo in a header.
import type { Db } from '../db/db.ts';
import { newToken, sha256 } from './tokens.ts';
import type { User } from './users.ts';

export type Session = { userId: number; csrfToken: string; expiresAt: Date; user: User };

export class SessionService {
  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
  ) {}

  async create(userId: number): Promise<{ id: string; csrfToken: string; expiresAt: Date }> {
    const id = newToken('', 32);
    const csrfToken = newToken('', 24);
    const expiresAt = new Date(Date.now() + this.ttlMs);
    await this.db.query(
      'INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)',
      [sha256(id), userId, csrfToken, expiresAt],
    );
    return { id, csrfToken, expiresAt };
  }

  async get(id: string): Promise<Session | undefined> {
    const { rows } = await this.db.query<{
      user_id: number;
      csrf_token: string;
      expires_at: Date;
      username: string;
      role: User['role'];
      created_at: Date;
    }>(
      `SELECT s.user_id, s.csrf_token, s.expires_at, u.username, u.role, u.created_at
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL`,
      [sha256(id)],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      userId: r.user_id,
      csrfToken: r.csrf_token,
      expiresAt: r.expires_at,
      user: {
        id: r.user_id,
        username: r.username,
        role: r.role,
        createdAt: r.created_at,
        disabledAt: null,
      },
    };
  }

  async destroy(id: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE id_hash = $1', [sha256(id)]);
  }

  async purgeExpired(): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM sessions WHERE expires_at <= now()');
    return rowCount;
  }
}
