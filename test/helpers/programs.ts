// Tests that need a system program (bubblewrap, supervisord, sshd, pg_dump,
// ...) skip with the reason when it is missing, never fail: a fresh machine
// runs `npm test` green, and CI (.ci/run installs the packages) still runs
// them. WARDEN_TEST_HIDE_PROGRAMS=bwrap,supervisord makes the helper treat
// those programs as missing, to see the skips on a machine that has them.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

import { describe } from 'vitest';

export type ProgramNeed = {
  /** The program's name, looked up on PATH and in the sbin directories. */
  name: string;
  /** The Debian package that provides it, named in the skip reason. */
  apt: string;
};

const hidden = new Set(
  (process.env.WARDEN_TEST_HIDE_PROGRAMS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** Where the program is, or undefined when it is missing (or hidden). */
export function findProgram(name: string): string | undefined {
  if (hidden.has(name)) return undefined;
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/sbin',
    '/sbin',
  ];
  for (const dir of dirs.filter(Boolean)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Why a test cannot run here, or undefined when every program is present.
 * The reason names the programs and the packages that provide them.
 */
export function missingPrograms(
  needs: ProgramNeed[],
  extra: { files?: { path: string; apt: string }[]; root?: boolean } = {},
): string | undefined {
  const missing = needs.filter((n) => !findProgram(n.name));
  const files = (extra.files ?? []).filter((f) => !existsSync(f.path));
  const parts: string[] = [];
  if (missing.length > 0 || files.length > 0) {
    const names = [...missing.map((m) => m.name), ...files.map((f) => f.path)];
    const apt = [...new Set([...missing.map((m) => m.apt), ...files.map((f) => f.apt)])];
    parts.push(`needs ${names.join(', ')} (apt install ${apt.join(' ')})`);
  }
  if (extra.root && process.getuid?.() !== 0) parts.push('needs root');
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * describe() that skips with the reason in its title, and says so once on
 * stderr, when the reason is set.
 */
export function describeUnless(reason: string | undefined, title: string, fn: () => void): void {
  if (reason) process.stderr.write(`skipped "${title}": ${reason}\n`);
  describe.skipIf(reason !== undefined)(reason ? `${title} (skipped: ${reason})` : title, fn);
}

export const programs = {
  bwrap: { name: 'bwrap', apt: 'bubblewrap' },
  supervisord: { name: 'supervisord', apt: 'supervisor' },
  supervisorctl: { name: 'supervisorctl', apt: 'supervisor' },
  sshd: { name: 'sshd', apt: 'openssh-server' },
  ssh: { name: 'ssh', apt: 'openssh-client' },
  fail2banRegex: { name: 'fail2ban-regex', apt: 'fail2ban' },
  fail2banClient: { name: 'fail2ban-client', apt: 'fail2ban' },
  nft: { name: 'nft', apt: 'nftables' },
  pgDump: { name: 'pg_dump', apt: 'postgresql-client' },
  pgRestore: { name: 'pg_restore', apt: 'postgresql-client' },
} satisfies Record<string, ProgramNeed>;
