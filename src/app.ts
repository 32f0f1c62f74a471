// The composition root: builds Warden's object graph from config. Every
// adapter is chosen here and nowhere else; the CLI and the tests start here.
import { ApiKeyService } from './auth/api-keys.ts';
import { LoginLimiter } from './auth/login-limiter.ts';
import { SessionService } from './auth/sessions.ts';
import { UserService } from './auth/users.ts';
import type { Config } from './config/load.ts';
import type { Db } from './db/db.ts';
import { migrate, pendingMigrations } from './db/migrate.ts';
import { openDb } from './db/open-db.ts';
import { Engine } from './engine/engine.ts';
import type { ResponseBus } from './engine/response-bus.ts';
import { LocalResponseBus, RedisResponseBus } from './engine/response-bus.ts';
import { WebhookService } from './engine/webhooks.ts';
import { HealthChecks } from './health.ts';
import type { Logger } from './log.ts';
import { CredentialStore } from './secrets/credential-store.ts';
import { BullmqQueue } from './queue/bullmq-queue.ts';
import { EmbeddedQueue } from './queue/embedded-queue.ts';
import type { JobQueue } from './queue/job-queue.ts';
import { loadEncryptionKey } from './secrets/encryption-key.ts';

export type Services = {
  config: Config;
  logger: Logger;
  db: Db;
  health: HealthChecks;
  users: UserService;
  apiKeys: ApiKeyService;
  sessions: SessionService;
  loginLimiter: LoginLimiter;
  credentials: CredentialStore;
  /** Embedded, or BullMQ when REDIS_URL is set. */
  queue: JobQueue;
  /** Workflows, executions and the worker, scheduler and sweep roles. */
  engine: Engine;
  webhooks: WebhookService;
  /** Closes everything this graph opened, in reverse order. */
  close(): Promise<void>;
};

export type CreateServicesOptions = {
  /** Apply pending migrations before returning. @default true */
  migrate?: boolean;
};

export async function createServices(
  config: Config,
  logger: Logger,
  options: CreateServicesOptions = {},
): Promise<Services> {
  const opened = await openDb(config);
  const { db } = opened;
  try {
    if (options.migrate !== false) {
      const { applied } = await migrate(db, {
        onApply: (m) => logger.info({ migration: m.name }, 'applying migration'),
      });
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
    }
    const health = new HealthChecks();
    health.register({
      name: 'database',
      async run() {
        await db.query('SELECT 1');
        const pending = await pendingMigrations(db);
        return pending.length === 0
          ? { ok: true, kind: db.kind, pool: db.stats() }
          : { ok: false, detail: `migrations pending: ${pending.join(', ')}` };
      },
    });
    const key = loadEncryptionKey({
      key: config.security.encryptionKey,
      dataDir: config.database.dataDir,
    });
    const credentials = new CredentialStore(db, key);
    const { queue, responses } = openQueue(config, logger);
    health.register({ name: 'queue', run: () => queue.check() });
    const engine = new Engine({
      db,
      logger,
      queue,
      responses,
      settings: config.engine,
    });
    return {
      config,
      logger,
      db,
      health,
      users: new UserService(db),
      apiKeys: new ApiKeyService(db),
      sessions: new SessionService(db, config.security.sessionTtlHours * 3600_000),
      loginLimiter: new LoginLimiter({
        maxFailures: config.security.loginMaxFailures,
        windowMs: config.security.loginWindowSeconds * 1000,
      }),
      credentials,
      queue,
      engine,
      webhooks: new WebhookService(engine, credentials, config.engine.webhookResponseTimeoutMs),
      async close() {
        await engine.shutdown(config.server.shutdownTimeoutMs);
        await queue.close();
        await responses.close();
        await opened.close();
      },
    };
  } catch (err) {
    await opened.close();
    throw err;
  }
}

function openQueue(config: Config, logger: Logger): { queue: JobQueue; responses: ResponseBus } {
  const { redisUrl, name, prefix } = config.queue;
  if (!redisUrl) return { queue: new EmbeddedQueue(logger), responses: new LocalResponseBus() };
  return {
    queue: new BullmqQueue({
      url: redisUrl,
      name,
      prefix,
      enqueueTimeoutMs: config.queue.enqueueTimeoutMs,
      pingIntervalMs: config.queue.pingIntervalMs,
      pingTimeoutMs: config.queue.pingTimeoutMs,
      logger,
    }),
    responses: new RedisResponseBus(redisUrl, `${prefix}:${name}:responses`),
  };
}
