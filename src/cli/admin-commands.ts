// `warden users ...`, `warden apikeys ...`, `warden db migrate`, `warden config ...`.
import { readFileSync, writeFileSync } from 'node:fs';

import type { Command } from 'commander';

import { isRole } from '../auth/roles.ts';
import { configTableMarkdown, describeConfig } from '../config/load.ts';
import { loadMigrations, migrate } from '../db/migrate.ts';
import { openDb } from '../db/open-db.ts';
import { UserError } from '../errors.ts';
import type { ApiKey } from '../auth/api-keys.ts';
import type { User } from '../auth/users.ts';
import { runningWarden, viaApiOr } from './api-client.ts';
import { cliConfig } from './context.ts';
import { printJson, printLine, printRows } from './output.ts';
import { generatePassword, promptHidden, readStdin } from './password-input.ts';

type JsonFlag = { json?: boolean };

function role(value: string) {
  if (!isRole(value))
    throw new UserError('invalid_role', `--role must be admin, operator or viewer; got "${value}"`);
  return value;
}

export function registerAdminCommands(program: Command): void {
  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('apply pending migrations')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const config = cliConfig();
      // A running Warden migrated its database when it started, and the
      // embedded database is its alone to open.
      const api = config.database.url ? undefined : await runningWarden(config);
      if (api) {
        if (opts.json) printJson({ applied: [], current: loadMigrations().at(-1)?.id ?? 0 });
        else
          printLine(
            `database is up to date (the running Warden, pid ${api.control.pid}, migrated it when it started)`,
          );
        return;
      }
      const opened = await openDb(config);
      try {
        const result = await migrate(opened.db, {
          onApply: (m) => !opts.json && printLine(`applying ${m.name}`),
        });
        if (opts.json) printJson(result);
        else
          printLine(
            result.applied.length
              ? `applied ${result.applied.length} migration(s)`
              : 'database is up to date',
          );
      } finally {
        await opened.close();
      }
    });

  const users = program.command('users').description('manage users');
  users
    .command('create')
    .description('create a user (prompts for the password, or reads it with --password-stdin)')
    .requiredOption('--username <name>', 'login name')
    .option('--role <role>', 'admin, operator or viewer', 'viewer')
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: JsonFlag & { username: string; role: string; passwordStdin?: boolean }) => {
        const r = role(opts.role);
        let password: string;
        let generated = false;
        if (opts.passwordStdin) password = await readStdin();
        else if (process.stdin.isTTY)
          password = await promptHidden('Password (12 characters or more): ');
        else {
          password = generatePassword();
          generated = true;
        }
        const input = { username: opts.username, password, role: r };
        const user = await viaApiOr(
          (api) => api.request<User>('POST', '/api/v1/users', { body: input }),
          (s) => s.users.create(input),
        );
        if (opts.json) printJson(generated ? { user, password } : { user });
        else {
          printLine(`created ${user.role} "${user.username}" (id ${user.id})`);
          if (generated) printLine(`password (shown once): ${password}`);
        }
      },
    );
  users
    .command('list')
    .description('list users')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const rows = await viaApiOr(
        (api) => api.listAll<User>('/api/v1/users', 'users'),
        (s) => s.users.list(),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (u) => u.id },
          { header: 'username', value: (u) => u.username },
          { header: 'role', value: (u) => u.role },
          { header: 'created', value: (u) => u.createdAt },
          { header: 'disabled', value: (u) => u.disabledAt },
        ],
        opts.json,
      );
    });
  users
    .command('disable <username>')
    .description('disable a user and end their sessions')
    .option('--json', 'machine-readable output')
    .action(async (username: string, opts: JsonFlag) => {
      const user = await viaApiOr(
        (api) => api.request<User>('POST', `/api/v1/users/${encodeURIComponent(username)}/disable`),
        (s) => s.users.disable(username),
      );
      if (opts.json) printJson(user);
      else printLine(`disabled "${user.username}"`);
    });

  const keys = program.command('apikeys').description('manage API keys');
  keys
    .command('create')
    .description('create an API key; the key is shown once')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--role <role>', 'admin, operator or viewer', 'viewer')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag & { name: string; role: string }) => {
      const input = { name: opts.name, role: role(opts.role) };
      const { key, secret } = await viaApiOr(
        async (api) => {
          const r = await api.request<{ apiKey: ApiKey; secret: string }>(
            'POST',
            '/api/v1/api-keys',
            { body: input },
          );
          return { key: r.apiKey, secret: r.secret };
        },
        (s) => s.apiKeys.create(input),
      );
      if (opts.json) printJson({ apiKey: key, secret });
      else {
        printLine(
          `created ${key.role} key "${key.name}" (id ${key.id}). Store it now; it is not shown again:`,
        );
        printLine(secret);
      }
    });
  keys
    .command('list')
    .description('list API keys (never their secrets)')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const rows = await viaApiOr(
        (api) => api.listAll<ApiKey>('/api/v1/api-keys', 'apiKeys'),
        (s) => s.apiKeys.list(),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (k) => k.id },
          { header: 'name', value: (k) => k.name },
          { header: 'prefix', value: (k) => `${k.prefix}...` },
          { header: 'role', value: (k) => k.role },
          { header: 'last used', value: (k) => k.lastUsedAt },
          { header: 'revoked', value: (k) => k.revokedAt },
        ],
        opts.json,
      );
    });
  keys
    .command('revoke <id>')
    .description('revoke an API key')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 1)
        throw new UserError('invalid_id', `key id must be a positive integer; got "${id}"`);
      const key = await viaApiOr(
        (api) => api.request<ApiKey>('DELETE', `/api/v1/api-keys/${n}`),
        (s) => s.apiKeys.revoke(n),
      );
      if (opts.json) printJson(key);
      else printLine(`revoked key "${key.name}" (id ${key.id})`);
    });

  const config = program.command('config').description('configuration');
  config
    .command('print')
    .description('show the effective configuration, secrets masked')
    .option('--json', 'machine-readable output')
    .action((opts: JsonFlag) => {
      const rows = describeConfig(cliConfig());
      printRows(
        rows,
        [
          { header: 'setting', value: (r) => r.key },
          { header: 'variable', value: (r) => r.env },
          { header: 'value', value: (r) => r.value },
        ],
        opts.json,
      );
    });
  config
    .command('docs')
    .description(
      "print the configuration table, or rewrite it in a Markdown file between the 'config-table' markers",
    )
    .option('--write <file>', 'Markdown file to update')
    .action((opts: { write?: string }) => {
      const table = configTableMarkdown();
      if (!opts.write) return printLine(table);
      const doc = readFileSync(opts.write, 'utf8');
      const re = /(<!-- config-table:start -->\n)[\s\S]*?(<!-- config-table:end -->)/;
      if (!re.test(doc))
        throw new UserError(
          'no_markers',
          `${opts.write} has no <!-- config-table:start/end --> markers`,
        );
      writeFileSync(opts.write, doc.replace(re, `$1${table}\n$2`));
      printLine(`updated the configuration table in ${opts.write}`);
    });
}
