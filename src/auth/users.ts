// Users and their roles. The first admin comes from a one-time setup link
// or `warden users create --role admin`.
import type { Db } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import { dummyPasswordHash, hashPassword, minPasswordLength, verifyPassword } from './passwords.ts';
import type { Role } from './roles.ts';
import { isRole } from './roles.ts';
import { newToken, sha256 } from './tokens.ts';

export type User = {
  id: number;
  username: string;
  role: Role;
  createdAt: Date;
  disabledAt: Date | null;
};

type UserRow = {
  id: number;
  username: string;
  role: Role;
  created_at: Date;
  disabled_at: Date | null;
  password_hash: string;
};

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  role: r.role,
  createdAt: r.created_at,
  disabledAt: r.disabled_at,
});

const usernamePattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

const setupKey = 'setup_token';

export class UserService {
  constructor(private readonly db: Db) {}

  async create(input: { username: string; password: string; role: Role }): Promise<User> {
    if (!usernamePattern.test(input.username)) {
      throw new UserError(
        'invalid_username',
        'username must be 1-64 characters: letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
      );
    }
    if (!isRole(input.role)) {
      throw new UserError(
        'invalid_role',
        `role must be admin, operator or viewer; got "${String(input.role)}"`,
      );
    }
    if (input.password.length < minPasswordLength) {
      throw new UserError(
        'weak_password',
        `password must be at least ${minPasswordLength} characters`,
      );
    }
    const hash = await hashPassword(input.password);
    try {
      const { rows } = await this.db.query<UserRow>(
        `INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) RETURNING *`,
        [input.username, hash, input.role],
      );
      return toUser(rows[0]!);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new UserError('user_exists', `a user named "${input.username}" already exists`, {
          status: 409,
        });
      }
      throw err;
    }
  }

  async list(): Promise<User[]> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users ORDER BY id');
    return rows.map(toUser);
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    return rows[0]!.n;
  }

  async get(id: number): Promise<User | undefined> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async disable(username: string): Promise<User> {
    const { rows } = await this.db.query<UserRow>(
      `UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE lower(username) = lower($1) RETURNING *`,
      [username],
    );
    if (!rows[0]) throw notFound('user', username);
    // A disabled user's sessions end now.
    await this.db.query('DELETE FROM sessions WHERE user_id = $1', [rows[0].id]);
    return toUser(rows[0]);
  }

  /** The user when the password matches an enabled account; undefined otherwise (same timing). */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const { rows } = await this.db.query<UserRow>(
      'SELECT * FROM users WHERE lower(username) = lower($1)',
      [username],
    );
    const row = rows[0];
    const ok = await verifyPassword(password, row?.password_hash ?? (await dummyPasswordHash()));
    if (!row || !ok || row.disabled_at) return undefined;
    return toUser(row);
  }

  /** A one-time token for creating the first admin; none once any user exists. */
  async issueSetupToken(ttlMs = 24 * 3600_000): Promise<string | undefined> {
    if ((await this.count()) > 0) return undefined;
    const token = newToken('', 24);
    await this.db.query(
      `INSERT INTO settings (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [setupKey, JSON.stringify({ hash: sha256(token), expiresAt: Date.now() + ttlMs })],
    );
    return token;
  }

  /** Creates the first admin with a setup token; the token works once. */
  async completeSetup(token: string, username: string, password: string): Promise<User> {
    return this.db.withLock('warden:setup', async () => {
      const { rows } = await this.db.query<{ value: { hash: string; expiresAt: number } }>(
        'SELECT value FROM settings WHERE key = $1',
        [setupKey],
      );
      const stored = rows[0]?.value;
      if (
        !stored ||
        stored.hash !== sha256(token) ||
        stored.expiresAt < Date.now() ||
        (await this.count()) > 0
      ) {
        throw new UserError(
          'invalid_setup_token',
          'the setup link is invalid, expired or already used',
          {
            status: 403,
          },
        );
      }
      const user = await this.create({ username, password, role: 'admin' });
      await this.db.query('DELETE FROM settings WHERE key = $1', [setupKey]);
      return user;
    });
  }
}
