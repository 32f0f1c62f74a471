// `warden harden` on a system tree in a temporary directory, checked by the
// real sshd (-T, -t), fail2ban-client (--test) and nft (-c): the plan changes
// nothing, apply writes files that pass their readers' checks, password
// logins stay on until a key exists, a file that fails its check is put
// back, and a second run finds nothing to do.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, expect, it } from 'vitest';

import type { HardenOptions } from '../src/ops/harden.ts';
import { applyHardening, hardenFiles, planHardening } from '../src/ops/harden.ts';
import { runWarden } from './helpers/cli.ts';
import { describeUnless, findProgram, missingPrograms, programs } from './helpers/programs.ts';

const sshd = findProgram('sshd');
const needs = missingPrograms([programs.sshd, programs.fail2banClient, programs.nft], {
  files: [{ path: '/etc/fail2ban/jail.conf', apt: 'fail2ban' }],
});

let root: string;

/** A small system: an sshd that allows everything, and the host's Fail2Ban configuration. */
function makeRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'warden-harden-'));
  mkdirSync(join(r, 'etc/ssh/sshd_config.d'), { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(r, 'etc/ssh/host_key')]);
  writeFileSync(
    join(r, 'etc/ssh/sshd_config'),
    [
      `Include ${r}/etc/ssh/sshd_config.d/*.conf`,
      `HostKey ${r}/etc/ssh/host_key`,
      'Port 2222',
      'PermitRootLogin yes',
      'PasswordAuthentication yes',
      'X11Forwarding yes',
      '',
    ].join('\n'),
  );
  cpSync('/etc/fail2ban', join(r, 'etc/fail2ban'), { recursive: true });
  return r;
}

const effective = (r: string) => {
  const out = execFileSync(sshd!, ['-T', '-f', join(r, 'etc/ssh/sshd_config')], {
    encoding: 'utf8',
  });
  return new Map(out.split('\n').map((l) => [l.split(' ')[0]!, l.split(' ').slice(1).join(' ')]));
};

const options = (r: string, extra: Partial<HardenOptions> = {}): HardenOptions => ({
  root: r,
  wardenPort: 5678,
  wardenFrom: [],
  ...extra,
});

describeUnless(needs, 'warden harden', () => {
  beforeEach(() => {
    root = makeRoot();
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('plans without changing anything, then applies; passwords stay on until a key exists', async () => {
    const plan = await planHardening(options(root));
    expect(plan.findings.filter((f) => !f.ok).map((f) => f.message)).toEqual(
      expect.arrayContaining([
        'root may log in with a password (permitrootlogin yes)',
        'password logins are allowed (passwordauthentication yes)',
        'X11 forwarding is on (x11forwarding yes)',
        expect.stringContaining('no authorized_keys'),
      ]),
    );
    expect(existsSync(join(root, hardenFiles.sshDropIn))).toBe(false);

    await applyHardening(options(root), plan);
    let ssh = effective(root);
    expect(ssh.get('permitrootlogin')).toBe('without-password');
    expect(ssh.get('x11forwarding')).toBe('no');
    expect(ssh.get('maxauthtries')).toBe('3');
    // Nobody has a key yet: turning passwords off would lock everyone out.
    expect(ssh.get('passwordauthentication')).toBe('yes');

    mkdirSync(join(root, 'root/.ssh'), { recursive: true });
    writeFileSync(
      join(root, 'root/.ssh/authorized_keys'),
      `${readFileSync(join(root, 'etc/ssh/host_key.pub'), 'utf8')}`,
    );
    const withKey = await planHardening(options(root));
    expect(withKey.files.find((f) => f.path === hardenFiles.sshDropIn)?.unchanged).toBe(false);
    await applyHardening(options(root), withKey);
    ssh = effective(root);
    expect(ssh.get('passwordauthentication')).toBe('no');
    expect(ssh.get('kbdinteractiveauthentication')).toBe('no');

    const again = await planHardening(options(root));
    expect(again.files.every((f) => f.unchanged)).toBe(true);
    expect(again.findings.filter((f) => f.area === 'ssh').every((f) => f.ok)).toBe(true);
  });

  it('writes jails Fail2Ban accepts and a firewall nft accepts that always lets SSH in', async () => {
    const o = options(root, { wardenFrom: ['10.0.0.0/8', '2001:db8::/32'] });
    const result = await applyHardening(o, await planHardening(o));
    expect(result.written).toEqual(
      expect.arrayContaining([
        hardenFiles.jailFile,
        hardenFiles.filterFile,
        hardenFiles.firewallFile,
      ]),
    );
    const jail = readFileSync(join(root, hardenFiles.jailFile), 'utf8');
    expect(jail).toMatch(/^\[sshd\]\nenabled = true$/m);
    expect(jail).toMatch(/^\[warden\]$/m);
    const rules = readFileSync(join(root, hardenFiles.firewallFile), 'utf8');
    // sshd's own port, read from its configuration.
    expect(rules).toContain('tcp dport 2222 accept');
    expect(rules).toContain('ip saddr { 10.0.0.0/8 } tcp dport 5678 accept');
    expect(rules).toContain('ip6 saddr { 2001:db8::/32 } tcp dport 5678 accept');
    expect(rules).toContain('policy drop;');
    await expect(
      planHardening(options(root, { wardenFrom: ['10.0.0.0/8; drop'] })),
    ).rejects.toThrow('"10.0.0.0/8; drop" is not an IPv4 or IPv6 address or CIDR');
  });

  it('puts a file back as it was when it fails its check, and names the problem', async () => {
    const jailPath = join(root, hardenFiles.jailFile);
    mkdirSync(join(root, 'etc/fail2ban/jail.d'), { recursive: true });
    writeFileSync(jailPath, "# the operator's own\n");
    const o = options(root, { programs: { fail2banClient: '/bin/false' } });
    await expect(applyHardening(o, await planHardening(o))).rejects.toThrow(
      `${hardenFiles.jailFile} did not pass its check, so it was put back as it was`,
    );
    expect(readFileSync(jailPath, 'utf8')).toBe("# the operator's own\n");
  });

  it('leaves a broken sshd configuration alone and says so', async () => {
    writeFileSync(join(root, 'etc/ssh/sshd_config'), 'NoSuchKeyword yes\n');
    const plan = await planHardening(options(root));
    expect(plan.findings[0]).toMatchObject({ area: 'ssh', ok: false });
    expect(plan.findings[0]!.message).toContain("sshd's configuration does not check out");
    expect(plan.files.map((f) => f.path)).not.toContain(hardenFiles.sshDropIn);
  });

  it('shows the plan from the command line, and applies it with --apply', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'warden-harden-cli-'));
    try {
      const shown = await runWarden(['harden', '--root', root], { cwd });
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^FIX\s+ssh\s+password logins are allowed/m);
      expect(shown.stdout).toContain(`would write  ${hardenFiles.firewallFile}`);
      expect(existsSync(join(root, hardenFiles.firewallFile))).toBe(false);
      const applied = await runWarden(['harden', '--root', root, '--apply', '--json'], { cwd });
      expect(applied.code).toBe(0);
      expect(JSON.parse(applied.stdout).written).toContain(hardenFiles.firewallFile);
      const bad = await runWarden(['harden', '--root', root, '--load-firewall'], { cwd });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('--load-firewall needs --apply');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
