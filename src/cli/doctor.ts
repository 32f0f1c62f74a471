// `warden doctor`: what is missing and how to fix it. Each finding is ok,
// warn or fail with a fix; any fail makes the exit code 1. It reports all it
// can whatever the state: beside a running Warden (whose lock keeps the
// embedded database closed to others) it asks that Warden's /readyz and
// incident memory through its API, and the checks that need no database
// (models, backups, notifications) always run, even when another process
// holds the lock.
import type { Command } from 'commander';

import type { Services } from '../app.ts';
import { BackupService } from '../backup/backup-service.ts';
import type { Config } from '../config/load.ts';
import { maskDeep } from '../config/mask.ts';
import { errorMessage } from '../errors.ts';
import type { LlmGateway } from '../llm/gateway.ts';
import { checkRoleModels } from '../llm/model-check.ts';
import { rolesInUse } from '../llm/model-roles.ts';
import type { Calibration } from '../memory/calibration.ts';
import { calibrationFor, rawFor } from '../memory/calibration.ts';
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
    findings.push(
      ...memoryFindings(await s.memory.status(), {
        threshold: s.memory.threshold,
        calibration: s.memory.calibration,
        dbKind: s.db.kind,
      }),
    );
  } catch (err) {
    findings.push({ check: 'incident memory', status: 'fail', detail: errorMessage(err) });
  }
  findings.push(await backupFinding(s.backups, s.config));
  findings.push(notificationFinding(s.config));
  // Findings quote servers (OLLAMA_URL, DATABASE_URL in errors): never their credentials.
  return maskDeep(findings);
}

type MemoryStatus = {
  embedder: string;
  dimension: number;
  store: string;
  incidents: number;
  stale: number;
};

/** What incident memory holds and whether its vectors match the embedder. */
export function memoryFindings(
  m: MemoryStatus,
  o: { threshold: number; calibration: Calibration; dbKind: string },
): Finding[] {
  const findings: Finding[] = [
    {
      check: 'incident memory',
      status: m.stale > 0 ? 'fail' : 'ok',
      detail: `${m.incidents} incident(s), ${m.embedder} in ${m.store}; a match needs a calibrated score of ${o.threshold} (raw ${rawFor(o.threshold, o.calibration).toFixed(2)}; ${o.calibration.source})`,
      ...(m.stale > 0
        ? {
            fix: `${m.stale} incident(s) were embedded by another embedder: run \`warden memory reindex\``,
          }
        : {}),
    },
  ];
  if (m.store === 'postgres-exact' && o.dbKind === 'postgres')
    findings.push({
      check: 'pgvector',
      status: 'warn',
      detail:
        'PostgreSQL has no pgvector: incident memory scans vectors exactly (fine for thousands of incidents)',
      fix: 'install pgvector on the server and run `CREATE EXTENSION vector;` (see docs/models-and-memory.md)',
    });
  return findings;
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

/** The newest backup of this database and the schedule; reads the backup directory only. */
async function backupFinding(service: BackupService, config: Config): Promise<Finding> {
  const { enabled, everyHours } = config.backup;
  try {
    const all = await service.list();
    // Judge only backups of the database in use; others (the embedded
    // database before a move to PostgreSQL) are mentioned, not counted.
    const backups = all.filter((b) => service.isOfThisDatabase(b));
    const others = all.length - backups.length;
    const newest = backups[0];
    if (!newest)
      return {
        check: 'backups',
        status: 'warn',
        detail: `no backup of this database (${service.database}) in ${service.dir} yet${others ? `; ${others} of another database there do not count` : ''}`,
        fix: enabled
          ? `run \`warden backup create\`; the main process takes one every ${everyHours} h`
          : 'run `warden backup create`, or set WARDEN_BACKUP_ENABLED=true',
      };
    const late = Date.now() - newest.createdAt.getTime() > everyHours * 1.5 * 3_600_000;
    const detail = `newest ${newest.file}, ${hoursAgo(newest.createdAt)}; ${backups.length} kept in ${service.dir}`;
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
    try {
      const res = await fetch(new URL('/readyz', api.control.url), {
        signal: AbortSignal.timeout(10_000),
      });
      const ready = (await res.json()) as {
        checks?: Record<string, { ok: boolean; detail?: string }>;
      };
      for (const [name, c] of Object.entries(ready.checks ?? {}))
        findings.push({
          check: name,
          status: c.ok ? 'ok' : 'fail',
          detail: c.detail ?? (c.ok ? 'ok' : 'failing'),
        });
    } catch (err) {
      findings.push({ check: 'readiness', status: 'fail', detail: errorMessage(err) });
    }
    const { models, rest } = await offlineFindings(config);
    findings.push(...models);
    try {
      const status = await api.request<MemoryStatus>('GET', '/api/v1/memory/status');
      findings.push(
        ...memoryFindings(status, {
          threshold: config.memory.threshold,
          calibration: calibrationFor(status.embedder),
          dbKind: config.database.url ? 'postgres' : 'pglite',
        }),
      );
    } catch (err) {
      findings.push({ check: 'incident memory', status: 'fail', detail: errorMessage(err) });
    }
    return [...findings, ...rest];
  }
  const { createServices } = await import('../app.ts');
  let services: Services | undefined;
  try {
    services = await createServices(config, cliLogger(config, 'error'));
    return await diagnose(services);
  } catch (err) {
    // Another process holds the embedded database (an MCP server, a second
    // CLI), or the server is down: everything that needs no database still.
    const { models, rest } = await offlineFindings(config);
    return [
      {
        check: 'database',
        status: 'fail',
        detail: errorMessage(err),
        fix: 'check DATABASE_URL or WARDEN_DATA_DIR; with the embedded database, stop the process named above or start Warden so commands go through it',
      },
      ...models,
      ...rest,
    ];
  } finally {
    await services?.close();
  }
}

/** The checks that need no database: the models, then backups and notifications. */
async function offlineFindings(config: Config): Promise<{ models: Finding[]; rest: Finding[] }> {
  const { createLlmGateway } = await import('../app.ts');
  const backups = new BackupService(undefined, {
    settings: config.backup,
    database: config.database,
  });
  return {
    models: await modelFindings(createLlmGateway(config), config),
    rest: [await backupFinding(backups, config), notificationFinding(config)],
  };
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
