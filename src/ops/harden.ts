// `warden harden`: SSH, Fail2Ban and firewall hardening for the host Warden
// runs on, as a plan first and changes only when asked. Every file is
// checked by the program that will read it (sshd -t, fail2ban-client -t,
// nft -c) before it takes effect, a file that fails is put back as it was,
// and nothing is done that could lock the operator out: passwords stay on
// for SSH until someone has a key, and the firewall always lets SSH in.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { UserError } from '../errors.ts';

export type HardenOptions = {
  /** Directory the system's /etc is under: "/" for this host, another for an image. */
  root: string;
  /** SSH port the firewall keeps open. @default sshd's configured port, else 22 */
  sshPort?: number;
  /** Warden's HTTP port. */
  wardenPort: number;
  /** Who may reach Warden's port (addresses or CIDRs); empty: everyone. */
  wardenFrom: string[];
  /** Programs, by name on PATH or path. */
  programs?: { sshd?: string; fail2banClient?: string; nft?: string };
};

export type PlannedFile = {
  /** Path on the system (without the root prefix). */
  path: string;
  content: string;
  /** What it is for. */
  purpose: string;
  /** The file exists with exactly this content already. */
  unchanged: boolean;
};

export type Finding = { area: 'ssh' | 'fail2ban' | 'firewall'; ok: boolean; message: string };

export type HardenPlan = { findings: Finding[]; files: PlannedFile[] };

const sshDropIn = '/etc/ssh/sshd_config.d/50-warden-hardening.conf';
const jailFile = '/etc/fail2ban/jail.d/warden-hardening.local';
const filterFile = '/etc/fail2ban/filter.d/warden.conf';
const firewallFile = '/etc/warden/firewall.nft';

const deployDir = fileURLToPath(new URL('../../deploy/fail2ban/', import.meta.url));

type Ran = { code: number | null; stdout: string; stderr: string };

function run(program: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: null, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const at = (root: string, path: string) => join(root, path);

/** Whether anyone can log in with a key: root's or a home directory's authorized_keys holds one. */
export function authorizedKeysPresent(root: string): string[] {
  const candidates = [at(root, '/root/.ssh/authorized_keys')];
  const home = at(root, '/home');
  if (existsSync(home))
    for (const user of readdirSync(home)) candidates.push(join(home, user, '.ssh/authorized_keys'));
  return candidates.filter((f) => {
    try {
      return (
        statSync(f).isFile() &&
        readFileSync(f, 'utf8')
          .split('\n')
          .some((l) => /^\s*(?:[^#\s]\S*\s+)?(?:ssh-|ecdsa-|sk-)/.test(l))
      );
    } catch {
      return false;
    }
  });
}

/** sshd's effective settings (`sshd -T`), lower-case keys. */
async function sshdSettings(o: HardenOptions): Promise<Map<string, string> | { error: string }> {
  const res = await run(o.programs?.sshd ?? 'sshd', [
    '-T',
    '-f',
    at(o.root, '/etc/ssh/sshd_config'),
  ]);
  if (res.code !== 0)
    return { error: (res.stderr || res.stdout).trim() || `sshd exited with ${res.code}` };
  const m = new Map<string, string>();
  for (const line of res.stdout.split('\n')) {
    const [k, ...v] = line.trim().split(/\s+/);
    if (k && !m.has(k)) m.set(k.toLowerCase(), v.join(' '));
  }
  return m;
}

function sshConfig(keys: boolean): string {
  return [
    '# Written by `warden harden`. sshd takes the first value it reads for',
    '# each keyword, and Debian includes this directory first.',
    'PermitRootLogin prohibit-password',
    ...(keys
      ? ['PasswordAuthentication no', 'KbdInteractiveAuthentication no']
      : [
          '# Passwords stay on: no authorized_keys were found, and turning',
          '# them off would lock everyone out. Add a key, then run warden harden again.',
        ]),
    'PermitEmptyPasswords no',
    'X11Forwarding no',
    'MaxAuthTries 3',
    'LoginGraceTime 30',
    'ClientAliveInterval 300',
    'ClientAliveCountMax 2',
    '',
  ].join('\n');
}

function jailConfig(root: string, wardenPort: number): string {
  // Without an auth.log (journald-only systems) sshd's failures are in the journal.
  const backend = existsSync(at(root, '/var/log/auth.log')) ? [] : ['backend = systemd'];
  return [
    '# Written by `warden harden`: bans addresses that keep failing to log in',
    '# over SSH or to Warden.',
    '[sshd]',
    'enabled = true',
    ...backend,
    'maxretry = 5',
    'findtime = 10m',
    'bantime = 1h',
    '',
    readFileSync(join(deployDir, 'jail.d/warden.local'), 'utf8')
      .replace(/^port = .*$/m, `port = ${wardenPort}`)
      .trimEnd(),
    '',
  ].join('\n');
}

/** IPv4 or IPv6 address, optionally with a prefix length. */
const cidr =
  /^(?:(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?|[0-9a-fA-F:]+:[0-9a-fA-F:.]*(?:\/\d{1,3})?)$/;

function firewallRules(sshPort: number, wardenPort: number, from: string[]): string {
  for (const f of from)
    if (!cidr.test(f))
      throw new UserError('invalid_address', `"${f}" is not an IPv4 or IPv6 address or CIDR`);
  const v4 = from.filter((f) => f.includes('.'));
  const v6 = from.filter((f) => !f.includes('.'));
  const warden = from.length
    ? [
        ...(v4.length ? [`    ip saddr { ${v4.join(', ')} } tcp dport ${wardenPort} accept`] : []),
        ...(v6.length ? [`    ip6 saddr { ${v6.join(', ')} } tcp dport ${wardenPort} accept`] : []),
      ]
    : [`    tcp dport ${wardenPort} accept`];
  return [
    '#!/usr/sbin/nft -f',
    '# Written by `warden harden`: incoming traffic is dropped except replies,',
    '# loopback, ICMP, SSH and Warden. Load it with: nft -f /etc/warden/firewall.nft',
    'table inet warden_filter',
    'delete table inet warden_filter',
    'table inet warden_filter {',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    ct state established,related accept',
    '    ct state invalid drop',
    '    iif lo accept',
    '    meta l4proto { icmp, ipv6-icmp } accept',
    `    tcp dport ${sshPort} accept`,
    ...warden,
    '  }',
    '}',
    '',
  ].join('\n');
}

async function current(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** What hardening finds and would write; changes nothing. */
export async function planHardening(o: HardenOptions): Promise<HardenPlan> {
  const findings: Finding[] = [];
  const keys = authorizedKeysPresent(o.root);
  const ssh = await sshdSettings(o);
  let sshPort = o.sshPort ?? 22;
  if ('error' in ssh) {
    findings.push({
      area: 'ssh',
      ok: false,
      message: `sshd's configuration does not check out, so it is left alone: ${ssh.error}`,
    });
  } else {
    if (!o.sshPort) sshPort = Number(ssh.get('port') ?? 22) || 22;
    const want: [string, string, string][] = [
      ['permitrootlogin', 'without-password', 'root may log in with a password'],
      ['passwordauthentication', 'no', 'password logins are allowed'],
      ['kbdinteractiveauthentication', 'no', 'keyboard-interactive logins are allowed'],
      ['permitemptypasswords', 'no', 'empty passwords are allowed'],
      ['x11forwarding', 'no', 'X11 forwarding is on'],
      ['maxauthtries', '3', 'more than 3 tries per connection are allowed'],
    ];
    for (const [k, v, bad] of want) {
      const have = ssh.get(k);
      const ok =
        have === v ||
        (k === 'maxauthtries' && Number(have) <= 3) ||
        (k === 'permitrootlogin' && have === 'no');
      findings.push({
        area: 'ssh',
        ok,
        message: ok ? `${k} ${have}` : `${bad} (${k} ${have ?? 'unset'})`,
      });
    }
    if (keys.length === 0)
      findings.push({
        area: 'ssh',
        ok: false,
        message:
          'no authorized_keys with a key were found: password logins stay on until one is added',
      });
  }
  const f2b = existsSync(at(o.root, '/etc/fail2ban'));
  findings.push({
    area: 'fail2ban',
    ok: f2b,
    message: f2b
      ? 'Fail2Ban is installed'
      : 'Fail2Ban is not installed (Debian/Ubuntu: apt install fail2ban); its jails are not written',
  });
  const files: Omit<PlannedFile, 'unchanged'>[] = [];
  if (!('error' in ssh))
    files.push({
      path: sshDropIn,
      content: sshConfig(keys.length > 0),
      purpose: 'SSH: keys only (when a key exists), no root password, fewer tries',
    });
  if (f2b) {
    files.push({
      path: filterFile,
      content: readFileSync(join(deployDir, 'filter.d/warden.conf'), 'utf8'),
      purpose: "Fail2Ban: the filter for Warden's failed logins",
    });
    files.push({
      path: jailFile,
      content: jailConfig(o.root, o.wardenPort),
      purpose: 'Fail2Ban: jails for SSH and Warden',
    });
  }
  files.push({
    path: firewallFile,
    content: firewallRules(sshPort, o.wardenPort, o.wardenFrom),
    purpose: `firewall (nftables): drop incoming except SSH (${sshPort}) and Warden (${o.wardenPort}${o.wardenFrom.length ? ` from ${o.wardenFrom.join(', ')}` : ''})`,
  });
  const planned: PlannedFile[] = [];
  for (const f of files)
    planned.push({ ...f, unchanged: (await current(at(o.root, f.path))) === f.content });
  return { findings, files: planned };
}

export type ApplyResult = { written: string[]; unchanged: string[]; firewallLoaded: boolean };

/** Checks a written file with the program that reads it; the error when it fails. */
async function check(o: HardenOptions, path: string): Promise<string | undefined> {
  let res: Ran | undefined;
  if (path === sshDropIn)
    res = await run(o.programs?.sshd ?? 'sshd', ['-t', '-f', at(o.root, '/etc/ssh/sshd_config')]);
  else if (path === jailFile)
    res = await run(o.programs?.fail2banClient ?? 'fail2ban-client', [
      '-c',
      at(o.root, '/etc/fail2ban'),
      '--test',
    ]);
  else if (path === firewallFile)
    res = await run(o.programs?.nft ?? 'nft', ['-c', '-f', at(o.root, path)]);
  if (!res || res.code === 0) return undefined;
  return (
    (res.stderr || res.stdout).trim().split('\n').slice(-5).join('; ') || `exit code ${res.code}`
  );
}

/**
 * Writes the plan's files. Each is checked by its reader once written; one
 * that fails is put back as it was and the run stops, naming the problem.
 * The firewall is loaded only when asked (loadFirewall).
 */
export async function applyHardening(
  o: HardenOptions,
  plan: HardenPlan,
  options: { loadFirewall?: boolean; progress?: (m: string) => void } = {},
): Promise<ApplyResult> {
  const progress = options.progress ?? (() => {});
  const written: string[] = [];
  const unchanged: string[] = [];
  for (const f of plan.files) {
    if (f.unchanged) {
      unchanged.push(f.path);
      continue;
    }
    const target = at(o.root, f.path);
    await mkdir(dirname(target), { recursive: true });
    const before = await current(target);
    const tmp = `${target}.warden-new`;
    await writeFile(tmp, f.content, { mode: 0o644 });
    await rename(tmp, target);
    progress(`wrote ${f.path}; checking it`);
    const error = await check(o, f.path);
    if (error) {
      if (before === undefined) await rm(target, { force: true });
      else await writeFile(target, before);
      throw new UserError(
        'harden_check_failed',
        `${f.path} did not pass its check, so it was put back as it was: ${error}`,
      );
    }
    written.push(f.path);
  }
  let firewallLoaded = false;
  if (options.loadFirewall) {
    const res = await run(o.programs?.nft ?? 'nft', ['-f', at(o.root, firewallFile)]);
    if (res.code !== 0)
      throw new UserError(
        'firewall_load_failed',
        `nft could not load the firewall: ${(res.stderr || res.stdout).trim()}`,
      );
    firewallLoaded = true;
    progress('firewall loaded');
  }
  return { written, unchanged, firewallLoaded };
}

export const hardenFiles = { sshDropIn, jailFile, filterFile, firewallFile };
