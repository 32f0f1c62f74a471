// The composition root: builds Warden's object graph from config. Every
// adapter is chosen here and nowhere else; the CLI and the tests start here.
import { ApprovalService } from './approvals/approval-service.ts';
import { ApiKeyService } from './auth/api-keys.ts';
import { LoginLimiter } from './auth/login-limiter.ts';
import { BackupService } from './backup/backup-service.ts';
import { SessionService } from './auth/sessions.ts';
import { UserService } from './auth/users.ts';
import type { Config } from './config/load.ts';
import type { Db } from './db/db.ts';
import { migrate, pendingMigrations } from './db/migrate.ts';
import { openDb } from './db/open-db.ts';
import type { BuildExecOptions, ExecServices } from './exec/build-exec.ts';
import { buildExec } from './exec/build-exec.ts';
import { outcomeText } from './exec/executor.ts';
import { Engine } from './engine/engine.ts';
import type { ResponseBus } from './engine/response-bus.ts';
import { LocalResponseBus } from './engine/response-bus.ts';
import { needsAttentionCollector } from './engine/needs-attention.ts';
import { WebhookService } from './engine/webhooks.ts';
import { HealthChecks } from './health.ts';
import { AlertEndpointService } from './incidents/alert-endpoints.ts';
import { wireAutoHeal } from './healing/auto-heal.ts';
import { healingNodes } from './healing/healing-nodes.ts';
import { HealingService } from './healing/healing-service.ts';
import { IncidentService } from './incidents/incident-service.ts';
import { reportNeedsAttention } from './incidents/needs-attention.ts';
import { StormGuard } from './incidents/storm.ts';
import { MaintenanceService } from './incidents/maintenance.ts';
import type { Logger } from './log.ts';
import {
  notificationCounter,
  registerDbPoolMetrics,
  registerRoundTripMetrics,
  registerQueueWideMetrics,
} from './metrics/core-collectors.ts';
import {
  executionObserver,
  healingOutcomeObserver,
  instrumentEmbedder,
  instrumentVectorStore,
  registerLlmMetrics,
  registerWorkerMetrics,
} from './metrics/service-collectors.ts';
import type { ProcessRole } from './metrics/registry.ts';
import { MetricsRegistry } from './metrics/registry.ts';
import type { ActionRunner } from './monitors/checks.ts';
import { MonitorService } from './monitors/monitor-service.ts';
import { UserError } from './errors.ts';
import { NotificationService } from './notify/notification-service.ts';
import { notifiersFromConfig } from './notify/notifiers-from-config.ts';
import { CircuitBreaker } from './llm/circuit-breaker.ts';
import { LlmGateway } from './llm/gateway.ts';
import { rolesFromConfig } from './llm/model-roles.ts';
import { OllamaProvider } from './llm/ollama-provider.ts';
import { OpenAiProvider } from './llm/openai-provider.ts';
import type { Embedder } from './memory/embedder.ts';
import { ExactScanStore } from './memory/exact-scan-store.ts';
import { IncidentMemory } from './memory/incident-memory.ts';
import { LexicalEmbedder } from './memory/lexical-embedder.ts';
import { OllamaEmbedder } from './memory/ollama-embedder.ts';
import { pgvectorInstallHint, pgvectorStatus } from './memory/pg-collections.ts';
import { PgvectorStore } from './memory/pgvector-store.ts';
import type { VectorStore } from './memory/vector-store.ts';
import { CredentialStore } from './secrets/credential-store.ts';
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
  notifications: NotificationService;
  monitors: MonitorService;
  approvals: ApprovalService;
  /** The auto-healing steps; the auto-heal workflow's nodes call them. */
  healing: HealingService;
  metrics: MetricsRegistry;
  /** Database backups: taken on schedule by the main process, rotated, restorable. */
  backups: BackupService;
  alertEndpoints: AlertEndpointService;
  incidents: IncidentService;
  maintenance: MaintenanceService;
  /** Safe execution: policy, runner, action catalogue, audit log. */
  exec: ExecServices;
  /** Every model call goes through it: roles, timeouts, retries, per-model queue, breaker, metrics. */
  llm: LlmGateway;
  embedder: Embedder;
  vectorStore: VectorStore;
  memory: IncidentMemory;
  /** Embedded, or BullMQ when REDIS_URL is set. */
  queue: JobQueue;
  /** Workflows, executions and the worker, scheduler and sweep roles. */
  engine: Engine;
  webhooks: WebhookService;
  /** Closes everything this graph opened, in reverse order. */
  close(): Promise<void>;
};

/** Action checks run catalogue actions, and only those that change nothing. */
function readActionRunner(exec: ExecServices): ActionRunner {
  return async (name, params, signal) => {
    const action = await exec.catalogue.get(name);
    if (action.risk !== 'read') {
      throw new UserError(
        'not_read_only',
        `a monitor may only run read actions; ${name} is ${action.risk}`,
      );
    }
    const out = await exec.executor.runAction(name, params, { kind: 'monitor' }, signal);
    if (out.status === 'refused')
      throw new UserError('action_refused', `${out.rule}: ${out.reason}`);
    const { exitCode, output } = outcomeText(out);
    return { exitCode, output };
  };
}

export type CreateServicesOptions = {
  /** Apply pending migrations before returning. @default true */
  migrate?: boolean;
  /** Starts processes for the exec layer; tests inject a counting one. */
  spawn?: BuildExecOptions['spawn'];
  /**
   * What this process is, for /metrics: installation-wide figures (queue
   * depth, executions by status) are collected only by `all` and `main`.
   * @default 'all'
   */
  role?: ProcessRole;
};

/** The LLM gateway for the configured model server; needs no database (`warden models`). */
export function createLlmGateway(config: Pick<Config, 'llm'>): LlmGateway {
  const c = config.llm;
  const provider =
    c.provider === 'openai'
      ? new OpenAiProvider({ url: c.url, apiKey: c.apiKey })
      : new OllamaProvider({ url: c.url, numCtx: c.numCtx, keepAlive: c.keepAlive });
  return new LlmGateway(provider, {
    roles: rolesFromConfig(c),
    timeoutMs: c.timeoutMs,
    shortTimeoutMs: c.connectTimeoutMs,
    retries: c.retries,
    concurrencyPerModel: c.concurrencyPerModel,
    breaker: new CircuitBreaker({
      failureThreshold: c.breakerFailures,
      cooldownMs: c.breakerCooldownMs,
    }),
  });
}

export function createEmbedder(config: Pick<Config, 'memory' | 'llm'>, llm: LlmGateway): Embedder {
  return config.memory.embedder === 'ollama'
    ? new OllamaEmbedder({ llm, model: config.llm.embeddingModel })
    : new LexicalEmbedder();
}

/**
 * MEMORY_STORE=auto: Qdrant when QDRANT_URL is set; else pgvector (always in
 * PGlite; in PostgreSQL when the extension is there); else an exact scan in
 * PostgreSQL, with a warning that says how to install pgvector.
 */
export async function openVectorStore(
  config: Pick<Config, 'memory'>,
  db: Db,
  logger: Logger,
): Promise<VectorStore> {
  const m = config.memory;
  const want = m.store === 'auto' ? (m.qdrantUrl ? 'qdrant' : 'pgvector-or-exact') : m.store;
  if (want === 'qdrant') {
    if (!m.qdrantUrl)
      throw new UserError('qdrant_url_missing', 'MEMORY_STORE=qdrant needs QDRANT_URL');
    // Imported when chosen: its HTTP client costs start time and memory for nothing otherwise.
    const { QdrantStore } = await import('./memory/qdrant-store.ts');
    return new QdrantStore({
      url: m.qdrantUrl,
      apiKey: m.qdrantApiKey,
      prefix: m.qdrantCollection,
    });
  }
  if (want === 'postgres-exact') return new ExactScanStore(db);
  if (want === 'pgvector' || db.kind === 'pglite') return PgvectorStore.open(db);
  const status = await pgvectorStatus(db);
  if (status.available) {
    try {
      return await PgvectorStore.open(db);
    } catch (err) {
      logger.warn({ err }, 'pgvector could not be enabled; incident memory uses an exact scan');
      return new ExactScanStore(db);
    }
  }
  // The automatic fallback is expected on a stock PostgreSQL: note it at start
  // (info), and let `warden doctor` explain it, rather than warn on every command.
  logger.info(
    `PostgreSQL has no pgvector extension: incident memory keeps vectors as float8[] and scans them exactly (fine for thousands of incidents). ${pgvectorInstallHint(status.serverMajor)}`,
  );
  return new ExactScanStore(db);
}

export async function createServices(
  config: Config,
  logger: Logger,
  options: CreateServicesOptions = {},
): Promise<Services> {
  const opened = await openDb(config, {
    onTemplateSkipped: (reason) =>
      logger.info(`new embedded database made by initdb, not the prepared template: ${reason}`),
  });
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
    const metrics = new MetricsRegistry({ role: options.role ?? 'all' });
    registerDbPoolMetrics(metrics, db);
    registerRoundTripMetrics(metrics, db);
    const llm = createLlmGateway(config);
    registerLlmMetrics(metrics, llm.metrics, rolesFromConfig(config.llm));
    health.register({
      name: 'llm',
      // Warden runs without a model server: LLM steps fail and incidents escalate to a human.
      required: false,
      async run() {
        const h = await llm.health();
        return {
          ok: h.ok,
          url: h.url,
          kind: h.kind,
          version: h.version,
          circuit: h.circuit,
          detail: h.detail,
        };
      },
    });
    const embedder = createEmbedder(config, llm);
    const vectorStore = await openVectorStore(config, db, logger);
    const memory = new IncidentMemory({
      db,
      store: instrumentVectorStore(metrics, vectorStore),
      embedder: instrumentEmbedder(metrics, embedder),
      threshold: config.memory.threshold,
    });
    const key = loadEncryptionKey({
      key: config.security.encryptionKey,
      dataDir: config.database.dataDir,
    });
    const credentials = new CredentialStore(db, key);
    const { queue, responses } = await openQueue(config, logger, db);
    health.register({ name: 'queue', run: () => queue.check() });
    const engine = new Engine({
      db,
      logger,
      queue,
      responses,
      settings: config.engine,
      observer: executionObserver(metrics),
      // Healing runs share a cluster-wide cap, so a storm leaves workers to the rest.
      group: { name: 'healing', modes: ['incident', 'approval'], limit: config.heal.concurrency },
    });
    registerWorkerMetrics(metrics, engine);
    const exec = await buildExec(config, db, {
      spawn: options.spawn,
      syncCatalogue: options.migrate !== false,
    });
    const { alerts } = config;
    const incidents = new IncidentService(db, {
      logger,
      idempotencyWindowMs: alerts.idempotencyWindowSeconds * 1000,
      settings: {
        groupWindowMs: alerts.groupWindowSeconds * 1000,
        openAfter: alerts.openAfter,
        flappingTransitions: alerts.flappingTransitions,
        flappingWindowMs: alerts.flappingWindowSeconds * 1000,
      },
    });
    const notifications = new NotificationService(db, notifiersFromConfig(config.notify), logger, {
      dedupWindowMs: config.notify.dedupWindowMs,
      onDelivered: notificationCounter(metrics),
    });
    const monitors = new MonitorService(db, logger, { actions: readActionRunner(exec) });
    // Monitors feed incidents exactly as alert webhooks do.
    monitors.onAlert(async (alert) => {
      await incidents.ingest([alert]);
    });
    const backups = new BackupService(db, {
      settings: config.backup,
      database: config.database,
      logger,
    });
    if (metrics.queueWide)
      registerQueueWideMetrics(metrics, {
        db,
        backups,
        llm,
        backupEveryHours: config.backup.enabled ? config.backup.everyHours : undefined,
      });
    // Read from the database, so counted once: by the process that reports queue-wide figures.
    if (metrics.queueWide) metrics.register(needsAttentionCollector(db));
    engine.onNeedsAttention((ex, error) =>
      reportNeedsAttention({ incidents, notifications }, ex, error),
    );
    const approvals = new ApprovalService(db, incidents, notifications, {
      ttlMs: config.alerts.approvalTtlSeconds * 1000,
      ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
    });
    const healing = new HealingService({
      incidents,
      memory,
      llm,
      executor: exec.executor,
      catalogue: exec.catalogue,
      approvals,
      monitors,
      notifications,
      logger,
      settings: config.heal,
      onOutcome: healingOutcomeObserver(metrics),
    });
    for (const type of healingNodes(healing)) engine.registry.register(type);
    const storm = new StormGuard({
      db,
      incidents,
      notifications,
      logger,
      settings: {
        windowMs: config.heal.stormWindowSeconds * 1000,
        groupAfter: config.heal.stormGroupAfter,
        pauseAfter: config.heal.stormPauseAfter,
      },
    });
    if (config.heal.enabled) wireAutoHeal({ engine, incidents, approvals, logger, storm });
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
      exec,
      alertEndpoints: new AlertEndpointService(db, credentials),
      incidents,
      maintenance: new MaintenanceService(db),
      notifications,
      monitors,
      approvals,
      healing,
      llm,
      embedder,
      vectorStore,
      memory,
      queue,
      engine,
      webhooks: new WebhookService(engine, credentials, config.engine.webhookResponseTimeoutMs),
      metrics,
      backups,
      async close() {
        await backups.stop();
        await monitors.stop();
        await engine.shutdown(config.server.shutdownTimeoutMs);
        await queue.close();
        await responses.close();
        await vectorStore.close?.();
        await opened.close();
      },
    };
  } catch (err) {
    await opened.close();
    throw err;
  }
}

/** The embedded queue, or BullMQ; BullMQ and ioredis are imported only in queue mode. */
async function openQueue(
  config: Config,
  logger: Logger,
  db: Db,
): Promise<{ queue: JobQueue; responses: ResponseBus }> {
  const { redisUrl, name, prefix } = config.queue;
  if (!redisUrl) return { queue: new EmbeddedQueue(logger), responses: new LocalResponseBus() };
  const [{ BullmqQueue }, { RedisResponseBus }] = await Promise.all([
    import('./queue/bullmq-queue.ts'),
    import('./engine/redis-response-bus.ts'),
  ]);
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
    responses: new RedisResponseBus({
      url: redisUrl,
      channel: `${prefix}:${name}:responses`,
      db,
      logger,
    }),
  };
}
