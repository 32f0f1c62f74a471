// The SQL that makes the PostgreSQL role query_postgres should connect as:
// it logs in, reads every table (pg_read_all_data, PostgreSQL 14+) and
// nothing more; no superuser, no CREATE rights of its own, read-only by
// default, with a statement timeout. Printed by `warden mcp ops
// --pg-role-sql` for a person to review and run as a superuser.
import { randomBytes } from 'node:crypto';

import { UserError } from '../errors.ts';

export type QueryRoleOptions = {
  /** Role name: lower-case letters, digits and underscores. @default warden_query */
  role?: string;
  /** @default 24 random bytes, base64url */
  password?: string;
  /** Server-side statement timeout of the role. @default 5000 */
  timeoutMs?: number;
};

export function queryRoleSql(options: QueryRoleOptions = {}): string {
  const role = options.role ?? 'warden_query';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role))
    throw new UserError(
      'invalid_role_name',
      `${JSON.stringify(role)}: a role name here is lower-case letters, digits and underscores (at most 63)`,
    );
  const password = options.password ?? randomBytes(24).toString('base64url');
  const literal = `'${password.replace(/'/g, "''")}'`;
  const timeout = Math.max(100, Math.trunc(options.timeoutMs ?? 5000));
  return [
    `-- A role for Warden's query_postgres: it reads, never writes, and is no superuser.`,
    `-- Run as a superuser on the server query_postgres reads (not Warden's own database), then set`,
    `--   WARDEN_OPS_PG_URL=postgresql://${role}:<the password below>@<host>:5432/<database>`,
    `CREATE ROLE ${role} LOGIN PASSWORD ${literal}`,
    `  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 4;`,
    `-- Read every table, view and sequence, write none (PostgreSQL 14 and later).`,
    `GRANT pg_read_all_data TO ${role};`,
    `ALTER ROLE ${role} SET default_transaction_read_only = on;`,
    `ALTER ROLE ${role} SET statement_timeout = ${timeout};`,
    `ALTER ROLE ${role} SET lock_timeout = ${timeout};`,
    `ALTER ROLE ${role} SET idle_in_transaction_session_timeout = ${timeout * 2};`,
    `-- Before PostgreSQL 15 every role may create objects in schema public; there, also run`,
    `--   REVOKE CREATE ON SCHEMA public FROM PUBLIC;`,
    '',
  ].join('\n');
}
