// `warden harden`: shows what SSH, Fail2Ban and firewall hardening would
// change (the default), and with --apply writes it, each file checked by the
// program that reads it.
import type { Command } from 'commander';

import { UserError } from '../errors.ts';
import type { HardenOptions } from '../ops/harden.ts';
import { applyHardening, planHardening } from '../ops/harden.ts';
import { cliConfig } from './context.ts';
import { printJson, printLine } from './output.ts';

type Opts = {
  apply?: boolean;
  loadFirewall?: boolean;
  sshPort?: string;
  wardenFrom?: string;
  root: string;
  json?: boolean;
};

export function registerHardenCommand(program: Command): void {
  program
    .command('harden')
    .description('SSH, Fail2Ban and firewall hardening: shows the plan; --apply writes it')
    .option('--apply', 'write the files (each is checked by sshd, fail2ban-client or nft first)')
    .option('--load-firewall', 'with --apply: also load the firewall now (nft -f)')
    .option('--ssh-port <port>', "SSH port the firewall keeps open (default: sshd's own)")
    .option(
      '--warden-from <addresses>',
      "comma-separated addresses or CIDRs that may reach Warden's port (default: all)",
    )
    .option('--root <dir>', 'the system to harden, for a mounted image', '/')
    .option('--json', 'machine-readable output')
    .action(async (opts: Opts) => {
      const config = cliConfig();
      const sshPort = opts.sshPort === undefined ? undefined : Number(opts.sshPort);
      if (sshPort !== undefined && !(Number.isInteger(sshPort) && sshPort >= 1 && sshPort <= 65535))
        throw new UserError(
          'invalid_option',
          `--ssh-port must be a port number, not "${opts.sshPort}"`,
        );
      if (opts.loadFirewall && !opts.apply)
        throw new UserError('invalid_option', '--load-firewall needs --apply');
      const o: HardenOptions = {
        root: opts.root,
        wardenPort: config.server.port,
        wardenFrom: (opts.wardenFrom ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        ...(sshPort ? { sshPort } : {}),
      };
      const plan = await planHardening(o);
      if (!opts.apply) {
        if (opts.json) return printJson(plan);
        for (const f of plan.findings)
          printLine(`${f.ok ? 'ok ' : 'FIX'}  ${f.area.padEnd(8)}  ${f.message}`);
        printLine();
        for (const f of plan.files)
          printLine(`${f.unchanged ? 'unchanged  ' : 'would write'}  ${f.path}  (${f.purpose})`);
        printLine('\nRun `warden harden --apply` to write them.');
        return;
      }
      const result = await applyHardening(o, plan, {
        loadFirewall: opts.loadFirewall,
        progress: (m) => process.stderr.write(`${m}\n`),
      });
      if (opts.json) return printJson({ findings: plan.findings, ...result });
      for (const p of result.written) printLine(`wrote ${p}`);
      for (const p of result.unchanged) printLine(`unchanged ${p}`);
      printLine(
        [
          '',
          'To take effect: systemctl reload ssh; fail2ban-client reload',
          result.firewallLoaded
            ? 'The firewall is loaded. To keep it across reboots, include /etc/warden/firewall.nft from /etc/nftables.conf.'
            : 'The firewall is written, not loaded: nft -f /etc/warden/firewall.nft (or --apply --load-firewall).',
        ].join('\n'),
      );
    });
}
