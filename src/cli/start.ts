// `warden start [--role all|main]` and `warden worker`: the long-running
// processes. all: HTTP server, scheduler, sweep and an in-process worker;
// main: HTTP server, scheduler and sweep, executions go to Redis; worker:
// consumes Redis (and sweeps), with an optional health port for /readyz and
// its own /metrics (the executions and model calls it ran).
// SIGINT/SIGTERM shut down gracefully; a second signal forces the exit.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../app.ts';
import { createServices } from '../app.ts';
import { installAutoHeal } from '../healing/auto-heal.ts';
import { IdleGc, limitHeapGrowth } from '../idle-gc.ts';
import { UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { installProcessGuard } from '../process-guard.ts';
import { createLogger } from '../log.ts';
import { notifiersFromConfig } from '../notify/notifiers-from-config.ts';
import { loopbackUrl, newControlToken, removeControlFile, writeControlFile } from './api-client.ts';
import { busyNow } from '../loop-use.ts';
import { cliConfig } from './context.ts';

export type StartOptions = { port?: string; host?: string; role?: string };
export type WorkerOptions = { concurrency?: string; healthPort?: string };

/** What a stop closes; filled in as start-up gets that far. */
type Running = { app?: FastifyInstance; stopHousekeeping?: () => Promise<void> };

/**
 * Installed as soon as the services exist, so a signal during start-up
 * (a supervisor stopping a slow start) still closes what is open and exits 0.
 */
function onSignals(logger: Logger, timeoutMs: number, services: Services, running: Running) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs + 5000);
    timer.unref();
    try {
      await running.app?.close();
      await running.stopHousekeeping?.();
      await services.engine.shutdown(timeoutMs);
      await services.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Periodic upkeep of the main process; the timers never hold the process open. */
async function startHousekeeping(services: Services, logger: Logger): Promise<() => Promise<void>> {
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, what: string, fn: () => Promise<unknown>) =>
    timers.push(
      setInterval(() => {
        fn().catch((err: unknown) => logger.warn({ err }, `${what} failed`));
      }, ms).unref(),
    );
  // Expired sessions are refused on read anyway; this keeps the table small.
  every(3600_000, 'session purge', () => services.sessions.purgeExpired());
  // Approvals also expire when read; this tells waiting work in time.
  every(30_000, 'approval expiry', () => services.approvals.expireDue());
  let maintenance: { stop(): Promise<void> } | undefined;
  if (services.db.kind === 'pglite') {
    const { PgliteMaintenance } = await import('../db/pglite-maintenance.ts');
    const m = new PgliteMaintenance({
      db: services.db,
      logger,
      intervalMs: services.config.database.pgliteMaintenanceIntervalMs,
    });
    m.start();
    maintenance = m;
  }
  const idleGc = new IdleGc({ logger });
  idleGc.start();
  return async () => {
    for (const t of timers) clearInterval(t);
    idleGc.stop();
    await maintenance?.stop();
  };
}

export async function startCommand(options: StartOptions): Promise<void> {
  const role = options.role ?? 'all';
  if (role !== 'all' && role !== 'main')
    throw new UserError('invalid_role', `--role must be all or main; got "${role}"`);
  const config = cliConfig({ WARDEN_PORT: options.port, WARDEN_HOST: options.host });
  if (role === 'main' && !config.queue.redisUrl)
    throw new UserError(
      'redis_required',
      '--role main needs REDIS_URL: workers take executions from Redis',
    );
  limitHeapGrowth(config.server.heapGrowthPercent);
  const logger = createLogger({ level: config.log.level });
  const services = await createServices(config, logger, { role });
  installProcessGuard(logger, services.metrics, { role });
  const running: Running = {};
  onSignals(logger, config.server.shutdownTimeoutMs, services, running);
  const controlToken = newControlToken();
  let setupToken: string | undefined;
  const closeAndThrow = async (err: unknown): Promise<never> => {
    await running.app?.close().catch(() => {});
    await running.stopHousekeeping?.().catch(() => {});
    await services.close();
    throw err;
  };
  try {
    const { buildServer } = await import('../server/server.ts');
    running.app = await buildServer(services, { controlToken });
    await services.engine.warmUp();
    if (config.heal.enabled) await installAutoHeal(services.engine);
    running.stopHousekeeping = await startHousekeeping(services, logger);
    setupToken = (await services.users.issueSetupToken()) ?? undefined;
    // The port before any work: a port in use fails here, with nothing run.
    await running.app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    return closeAndThrow(err);
  }
  // From the port opening to the setup link nothing waits: whoever sees the
  // port answer also finds the control file, the "running" line and the link.
  const address = running.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  // The CLI on this machine finds this process through the control file.
  writeControlFile(config, {
    url: loopbackUrl(config.server.host, port),
    token: controlToken,
    pid: process.pid,
  });
  process.once('exit', () => removeControlFile(config, controlToken));
  const base = config.server.publicUrl ?? `http://localhost:${config.server.port}`;
  logger.info(
    { url: base, role, database: services.db.kind, queue: services.queue.kind },
    'Warden is running',
  );

  if (notifiersFromConfig(config.notify).length === 0)
    logger.warn(
      'no notification channel is configured: escalations and approvals needed reach nobody (set WARDEN_NOTIFY_WEBHOOK_URL, TELEGRAM_BOT_TOKEN, SLACK_WEBHOOK_URL or SMTP_URL; see `warden doctor`)',
    );
  if (setupToken) {
    process.stderr.write(
      `\nNo users yet. Open this one-time link to create the administrator (valid 24 h):\n  ${base}/setup?token=${setupToken}\nor run: warden users create --username admin --role admin\n\n`,
    );
  }
  // Work starts once the port is Warden's; a webhook answered before the
  // worker starts waits in the queue for it.
  try {
    if (role === 'all') await services.engine.startWorker(config.engine.concurrency);
    services.engine.startScheduler();
    services.engine.startSweeper();
    services.monitors.start();
    // An embedded backup holds every query for its snapshot: it waits for a quiet moment.
    if (config.backup.enabled)
      services.backups.startSchedule(
        undefined,
        undefined,
        services.db.kind === 'pglite' ? { busy: () => busyNow() } : {},
      );
  } catch (err) {
    await closeAndThrow(err);
  }
}

export async function workerCommand(options: WorkerOptions): Promise<void> {
  const config = cliConfig();
  if (!config.queue.redisUrl)
    throw new UserError('redis_required', 'warden worker needs REDIS_URL (and DATABASE_URL)');
  if (!config.database.url)
    throw new UserError(
      'database_required',
      'warden worker needs DATABASE_URL: the embedded database belongs to one process',
    );
  const concurrency = options.concurrency ? Number(options.concurrency) : config.engine.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UserError('invalid_concurrency', `--concurrency must be a positive integer`);
  limitHeapGrowth(config.server.heapGrowthPercent);
  const logger = createLogger({ level: config.log.level });
  const services = await createServices(config, logger, { role: 'worker' });
  installProcessGuard(logger, services.metrics, { role: 'worker' });
  const idleGc = new IdleGc({ logger });
  const running: Running = { stopHousekeeping: async () => idleGc.stop() };
  onSignals(logger, config.server.shutdownTimeoutMs, services, running);
  try {
    await services.engine.warmUp();
    await services.engine.startWorker(concurrency);
    services.engine.startSweeper();
    if (options.healthPort) {
      // Fastify is loaded only for a health port: a plain worker never serves HTTP.
      const { buildHealthServer } = await import('../server/server.ts');
      running.app = await buildHealthServer(services);
      await running.app.listen({ host: config.server.host, port: Number(options.healthPort) });
    }
  } catch (err) {
    await running.app?.close().catch(() => {});
    await services.close();
    throw err;
  }
  logger.info(
    { concurrency, workerId: services.engine.workerId, healthPort: options.healthPort },
    'worker is consuming',
  );
  idleGc.start();
}
