// `warden doctor`: what is missing and how to fix it. Each finding is ok,
// warn or fail with a fix; any fail makes the exit code 1. It reports all it
// can whatever the state: beside a running Warden (whose lock keeps the
// embedded database closed to others) it asks that Warden's /readyz, and the
// checks that need no database (models, notifications) always run.
import type { Command } from 'commander';

import type { Services } from '../app.ts';
import type { Config } from '../config/load.ts';
import { maskDeep } from '../config/mask.ts';
import { errorMessage } from '../errors.ts';
import type { LlmGateway } from '../llm/gateway.ts';
import { checkRoleModels } from '../llm/model-check.ts';
import { rolesInUse } from '../llm/model-roles.ts';
import { rawFor } from '../memory/calibration.ts';
import { notifiersFromConfig } from '../notify/notifiers-from-config.ts';
import { runningWarden } from './api-client.ts';
import { cliConfig, cliLogger } from './context.ts';
import { printJson, printLine } from './output.ts';

export type Finding = {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
};

export async function diagnose(s: Services): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { checks } = await s.health.run();
  const dbCheck = checks.database;
  findings.push({
    check: 'database',
    status: dbCheck?.ok ? 'ok' : 'fail',
    detail: dbCheck?.ok ? `${s.db.kind}, migrated` : (dbCheck?.detail ?? 'not checked'),
    ...(dbCheck?.ok ? {} : { fix: 'run `warden db migrate`; check DATABASE_URL' }),
  });

  findings.push(...(await modelFindings(s.llm, s.config)));
  try {
    const m = await s.memory.status();
    findings.push({
      check: 'incident memory',
      status: m.stale > 0 ? 'fail' : 'ok',
      detail: `${m.incidents} incident(s), ${m.embedder} in ${m.store}; a match needs a calibrated score of ${s.memory.threshold} (raw ${rawFor(s.memory.threshold, s.memory.calibration).toFixed(2)}; ${s.memory.calibration.source})`,
      ...(m.stale > 0
        ? {
            fix: `${m.stale} incident(s) were embedded by another embedder: run \`warden memory reindex\``,
          }
        : {}),
    });
    if (m.store === 'postgres-exact' && s.db.kind === 'postgres')
      findings.push({
        check: 'pgvector',
        status: 'warn',
        detail:
          'PostgreSQL has no pgvector: incident memory scans vectors exactly (fine for thousands of incidents)',
        fix: 'install pgvector on the server and run `CREATE EXTENSION vector;` (see docs/models-and-memory.md)',
      });
  } catch (err) {
    findings.push({ check: 'incident memory', status: 'fail', detail: errorMessage(err) });
  }
  findings.push(await backupFinding(s));
  findings.push(notificationFinding(s.config));
  // Findings quote servers (OLLAMA_URL, DATABASE_URL in errors): never their credentials.
  return maskDeep(findings);
}

/** The model server and the role models; needs no database. */
export async function modelFindings(
  llm: LlmGateway,
  config: Pick<Config, 'memory'>,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const s = { llm, config };
  const report = await checkRoleModels(s.llm, rolesInUse(s.config));
  if (!report.reachable) {
    findings.push({
      check: 'model server',
      status: 'fail',
      detail: report.error ?? 'unreachable',
      fix:
        s.llm.kind === 'ollama'
          ? `start Ollama (\`ollama serve\`, or install it from https://ollama.com) or point OLLAMA_URL at it (now ${report.url})`
          : `start the OpenAI-compatible server or fix OLLAMA_URL (now ${report.url})`,
    });
  } else {
    findings.push({
      check: 'model server',
      status: 'ok',
      detail: `${report.kind} ${report.version ?? ''} at ${report.url}`.replace('  ', ' '),
    });
    for (const r of report.roles) {
      // A role nothing uses (the embedding model with the lexical embedder,
      // vision) is not required.
      const needed = r.inUse;
      findings.push({
        check: `model ${r.role}`,
        status: r.present ? 'ok' : needed ? 'fail' : 'warn',
        detail: r.present
          ? r.model
          : `${r.model} is not on the server${needed ? '' : r.role === 'embedding' ? ' (not used: MEMORY_EMBEDDER=lexical)' : ' (nothing uses this role yet)'}`,
        ...(r.present
          ? {}
          : {
              fix:
                s.llm.kind === 'ollama'
                  ? `run \`warden models pull\` (or \`ollama pull ${r.model}\`), or choose another model with ${r.env}`
                  : `load ${r.model} in the server, or choose another model with ${r.env}`,
            }),
      });
    }
  }
  const circuit = s.llm.breaker.snapshot();
  if (circuit.state !== 'closed')
    findings.push({
      check: 'llm circuit',
      status: 'warn',
      detail: `${circuit.state} after ${circuit.consecutiveFailures} failures: ${circuit.lastError}`,
    });

  return findings;
}

/** Escalations and approvals reach a person only through a notification channel. */
export function notificationFinding(config: Config): Finding {
  const channels = notifiersFromConfig(config.notify);
  return channels.length > 0
    ? { check: 'notifications', status: 'ok', detail: `${channels.length} channel(s)` }
    : {
        check: 'notifications',
        status: 'warn',
        detail: 'no notification channel: escalations and approvals needed reach nobody',
        fix: 'set WARDEN_NOTIFY_WEBHOOK_URL, TELEGRAM_BOT_TOKEN + TELEGRAM_CHAT_ID, SLACK_WEBHOOK_URL or SMTP_URL + WARDEN_NOTIFY_EMAIL_TO (docs/configuration.md)',
      };
}

const hoursAgo = (d: Date) => `${((Date.now() - d.getTime()) / 3_600_000).toFixed(1)} h ago`;

async function backupFinding(s: Services): Promise<Finding> {
  const { enabled, everyHours } = s.config.backup;
  try {
    const all = await s.backups.list();
    // Judge only backups of the database in use; others (the embedded
    // database before a move to PostgreSQL) are mentioned, not counted.
    const backups = all.filter((b) => s.backups.isOfThisDatabase(b));
    const others = all.length - backups.length;
    const newest = backups[0];
    if (!newest)
      return {
        check: 'backups',
        status: 'warn',
        detail: `no backup of this database (${s.backups.database}) in ${s.backups.dir} yet${others ? `; ${others} of another database there do not count` : ''}`,
        fix: enabled
          ? `run \`warden backup create\`; the main process takes one every ${everyHours} h`
          : 'run `warden backup create`, or set WARDEN_BACKUP_ENABLED=true',
      };
    const late = Date.now() - newest.createdAt.getTime() > everyHours * 1.5 * 3_600_000;
    const detail = `newest ${newest.file}, ${hoursAgo(newest.createdAt)}; ${backups.length} kept in ${s.backups.dir}`;
    if (!enabled)
      return {
        check: 'backups',
        status: 'warn',
        detail: `${detail}; scheduled backups are off`,
        fix: 'set WARDEN_BACKUP_ENABLED=true, or take them yourself with `warden backup create`',
      };
    if (late)
      return {
        check: 'backups',
        status: 'warn',
        detail: `${detail}; one is due every ${everyHours} h`,
        fix: "check that a main process runs (`warden start`) and its log for 'scheduled backup failed'",
      };
    return { check: 'backups', status: 'ok', detail };
  } catch (err) {
    return { check: 'backups', status: 'fail', detail: errorMessage(err) };
  }
}

/**
 * Every finding that can be had now: through the running Warden when one
 * runs on this data directory, else by opening the database; when that
 * fails (the lock, a bad DATABASE_URL), the checks that need no database.
 */
async function doctorFindings(): Promise<Finding[]> {
  const config = cliConfig();
  const api = await runningWarden(config);
  if (api) {
    const findings: Finding[] = [
      {
        check: 'warden',
        status: 'ok',
        detail: `running (pid ${api.control.pid}) at ${api.control.url}; checked through it`,
      },
    ];
    const res = await fetch(new URL('/readyz', api.control.url));
    const ready = (await res.json()) as {
      checks?: Record<string, { ok: boolean; detail?: string }>;
    };
    for (const [name, c] of Object.entries(ready.checks ?? {}))
      findings.push({
        check: name,
        status: c.ok ? 'ok' : 'fail',
        detail: c.detail ?? (c.ok ? 'ok' : 'failing'),
      });
    return [...findings, ...(await offlineFindings(config))];
  }
  const { createServices } = await import('../app.ts');
  let services: Services | undefined;
  try {
    services = await createServices(config, cliLogger(config, 'error'));
    return await diagnose(services);
  } catch (err) {
    return [
      {
        check: 'database',
        status: 'fail',
        detail: errorMessage(err),
        fix: 'check DATABASE_URL or WARDEN_DATA_DIR',
      },
      ...(await offlineFindings(config)),
    ];
  } finally {
    await services?.close();
  }
}

/** The checks that need no database. */
async function offlineFindings(config: Config): Promise<Finding[]> {
  const { createLlmGateway } = await import('../app.ts');
  return [...(await modelFindings(createLlmGateway(config), config)), notificationFinding(config)];
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the database, the model server, role models, incident memory and backups; say how to fix what is missing',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const findings = maskDeep(await doctorFindings());
      if (opts.json) printJson(findings);
      else {
        const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;
        for (const f of findings) {
          printLine(`${mark[f.status]}  ${f.check}: ${f.detail}`);
          if (f.fix) printLine(`      fix: ${f.fix}`);
        }
      }
      if (findings.some((f) => f.status === 'fail')) process.exitCode = 1;
    });
}
