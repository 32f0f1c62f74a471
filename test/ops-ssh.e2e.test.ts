// End to end, as Claude Desktop reaches Warden: a real sshd on a loopback
// port (generated host and user keys), the authorized_keys line printed by
// `warden mcp ops --authorized-keys-line` (forced command, restrict), and
// the SDK's MCP client speaking through `ssh -T -o BatchMode=yes`. It lists
// the tools, runs system_resources, a catalogue action and an allowed
// execute_command, checks that the key runs nothing else, and verifies the
// audit chain afterwards with `warden audit verify`.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeUnless, missingPrograms, programs } from './helpers/programs.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';

const sshd = '/usr/sbin/sshd';
const needs =
  missingPrograms([programs.sshd, programs.ssh], { root: true }) ??
  (existsSync(sshd) ? undefined : `needs ${sshd} (apt install openssh-server)`);
const warden = fileURLToPath(new URL('../bin/warden.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => {
        c.end();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

describeUnless(needs, 'ops MCP server through a real sshd', () => {
  const dir = mkdtempSync('/tmp/warden-ssh-');
  const app = join(dir, 'app');
  let user = `wdn-e2e-${randomBytes(3).toString('hex')}`;
  let createdUser = false;
  let db: TestDatabase;
  let daemon: ChildProcess | undefined;
  let daemonLog = '';
  let port = 0;
  let sshArgs: string[] = [];

  // sshd refuses locked accounts ("!" or "*"); this hash matches no password,
  // and password logins are off anyway.
  const unusableHash = `$6$${randomBytes(8).toString('hex')}$${randomBytes(32).toString('hex')}`;

  beforeAll(async () => {
    chmodSync(dir, 0o755);
    mkdirSync(app);
    db = await createTestDatabase();
    // A dedicated unprivileged user when useradd works; root otherwise.
    createdUser =
      spawnSync('useradd', [
        '--system',
        '--password',
        unusableHash,
        '--no-create-home',
        '--home-dir',
        app,
        '--shell',
        '/bin/sh',
        user,
      ]).status === 0;
    if (!createdUser) user = 'root';
    writeFileSync(
      join(app, '.env'),
      [
        `DATABASE_URL=${db.url}`,
        `WARDEN_DATA_DIR=${join(app, 'data')}`,
        `WARDEN_EXEC_ROOT=${join(app, 'sandbox')}`,
        `WARDEN_AUDIT_FILE=${join(app, 'audit.jsonl')}`,
        `DOCKER_SOCKET=${join(app, 'no-docker.sock')}`,
        'LOG_LEVEL=warn',
        '',
      ].join('\n'),
    );
    if (createdUser) {
      const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
      const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
      chownSync(app, uid, gid);
      chownSync(join(app, '.env'), uid, gid);
    }

    const keygen = (file: string) =>
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', file]);
    keygen(join(dir, 'host_key'));
    keygen(join(dir, 'user_key'));
    const line = execFileSync(
      process.execPath,
      [warden, 'mcp', 'ops', '--authorized-keys-line', join(dir, 'user_key.pub'), '--cwd', app],
      { encoding: 'utf8' },
    ).trim();
    expect(line).toMatch(
      /^command="cd \/tmp\/warden-ssh-\w+\/app && exec \S+ \S+warden\.js mcp ops",restrict ssh-ed25519 /,
    );
    writeFileSync(join(dir, 'authorized_keys'), `${line}\n`, { mode: 0o644 });

    port = await freePort();
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AllowUsers ${user}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        `PermitRootLogin ${user === 'root' ? 'prohibit-password' : 'no'}`,
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    daemon = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon.stderr?.on('data', (d: Buffer) => (daemonLog += d.toString()));
    await waitForPort(port, daemon, () => daemonLog);

    const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8')
      .split(' ')
      .slice(0, 2)
      .join(' ');
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
    sshArgs = [
      '-T',
      '-o', 'BatchMode=yes',
      '-F', '/dev/null',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
      '-p', String(port),
      '-i', join(dir, 'user_key'),
      `${user}@127.0.0.1`,
    ]; // prettier-ignore
  });

  afterAll(async () => {
    if (daemon?.pid && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon!.once('exit', r));
    }
    if (createdUser) spawnSync('userdel', [user]);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const json = (r: Awaited<ReturnType<Client['callTool']>>) =>
    JSON.parse((r.content as { type: string; text: string }[])[0]!.text) as Record<string, unknown>;

  it('serves the ops tools over ssh and leaves a verifiable audit chain', async () => {
    const transport = new StdioClientTransport({ command: 'ssh', args: sshArgs, stderr: 'pipe' });
    let sshErr = '';
    transport.stderr?.on('data', (d: Buffer) => (sshErr += d.toString()));
    const client = new Client({ name: 'ssh-e2e', version: '1.0.0' });
    try {
      await client.connect(transport);
    } catch (err) {
      throw new Error(`connect failed: ${String(err)}\nssh: ${sshErr}\nsshd: ${daemonLog}`, {
        cause: err,
      });
    }
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining([
          'execute_command',
          'system_resources',
          'run_action',
          'query_postgres',
          'diagnose',
        ]),
      );

      const resources = json(await client.callTool({ name: 'system_resources', arguments: {} }));
      expect(resources.cpus).toBeGreaterThan(0);
      expect(resources.memory).toMatchObject({ totalBytes: expect.any(Number) });

      const disk = await client.callTool({ name: 'run_action', arguments: { name: 'disk.usage' } });
      expect(disk.isError).toBeFalsy();
      expect(json(disk)).toMatchObject({
        exitCode: 0,
        stdout: expect.stringContaining('Filesystem'),
      });

      const uname = json(
        await client.callTool({ name: 'execute_command', arguments: { command: 'uname -s' } }),
      );
      expect(uname).toMatchObject({ exitCode: 0, stdout: 'Linux\n' });

      const who = json(
        await client.callTool({ name: 'execute_command', arguments: { command: 'id -u' } }),
      );
      expect(who).toMatchObject({ exitCode: 0 });
      expect(String(who.stdout).trim()).toBe(
        execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim(),
      );

      const refused = await client.callTool({
        name: 'execute_command',
        arguments: { command: 'uname; id' },
      });
      expect(refused.isError).toBe(true);
      expect(json(refused)).toMatchObject({ refused: true, rule: 'syntax.operator' });
    } finally {
      await client.close();
    }

    const verify = spawnSync(process.execPath, [warden, 'audit', 'verify', '--json'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    expect(JSON.parse(verify.stdout)).toEqual({
      ok: true,
      database: { ok: true, records: 5 },
      file: { ok: true, records: 5 },
    });
    const lines = readFileSync(join(app, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { caller: { id: string } }).caller.id)).toEqual(
      Array(5).fill('ssh:ssh-e2e'),
    );
  });

  it('lets the key start the ops server and nothing else', () => {
    // The forced command replaces what the client asks for; with stdin
    // closed the ops server reads end-of-file and exits.
    const r = spawnSync('ssh', [...sshArgs, 'id; touch /tmp/warden-ssh-pwned'], {
      input: '',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(0); // logged in, and the ops server ended cleanly at end-of-file
    expect(r.stdout).not.toMatch(/uid=/);
    expect(existsSync('/tmp/warden-ssh-pwned')).toBe(false);
    // restrict: no port forwarding either.
    const fwd = spawnSync(
      'ssh',
      [
        ...sshArgs.slice(0, -1),
        '-N',
        '-o',
        'ExitOnForwardFailure=yes',
        '-R',
        '127.0.0.1:0:127.0.0.1:5432',
        sshArgs.at(-1)!,
      ],
      {
        input: '',
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(fwd.status).toBe(255);
    expect(fwd.stderr).toMatch(/forwarding failed/i);
  });
});
