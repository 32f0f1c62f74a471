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
import { UserError } from './errors.ts';
import { HealthChecks } from './health.ts';
import { CircuitBreaker } from './llm/circuit-breaker.ts';
import { LlmGateway } from './llm/gateway.ts';
import { rolesFromConfig } from './llm/model-roles.ts';
import { OllamaProvider } from './llm/ollama-provider.ts';
import { OpenAiProvider } from './llm/openai-provider.ts';
import type { Logger } from './log.ts';
import type { Embedder } from './memory/embedder.ts';
import { ExactScanStore } from './memory/exact-scan-store.ts';
import { IncidentMemory } from './memory/incident-memory.ts';
import { LexicalEmbedder } from './memory/lexical-embedder.ts';
import { OllamaEmbedder } from './memory/ollama-embedder.ts';
import { pgvectorInstallHint, pgvectorStatus } from './memory/pg-collections.ts';
import { PgvectorStore } from './memory/pgvector-store.ts';
import { QdrantStore } from './memory/qdrant-store.ts';
import type { VectorStore } from './memory/vector-store.ts';
import { CredentialStore } from './secrets/credential-store.ts';
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
  /** Every model call goes through it: roles, timeouts, retries, per-model queue, breaker, metrics. */
  llm: LlmGateway;
  embedder: Embedder;
  vectorStore: VectorStore;
  memory: IncidentMemory;
  /** Closes everything this graph opened, in reverse order. */
  close(): Promise<void>;
};

export type CreateServicesOptions = {
  /** Apply pending migrations before returning. @default true */
  migrate?: boolean;
};

/** The LLM gateway for the configured model server; needs no database (`warden models`). */
export function createLlmGateway(config: Pick<Config, 'llm'>): LlmGateway {
  const c = config.llm;
  const provider =
    c.provider === 'openai'
      ? new OpenAiProvider({ url: c.url, apiKey: c.apiKey })
      : new OllamaProvider({ url: c.url });
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
  logger.warn(
    `PostgreSQL has no pgvector extension: incident memory keeps vectors as float8[] and scans them exactly (fine for thousands of incidents). ${pgvectorInstallHint(status.serverMajor)}`,
  );
  return new ExactScanStore(db);
}

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
    const llm = createLlmGateway(config);
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
      store: vectorStore,
      embedder,
      threshold: config.memory.threshold,
    });
    const key = loadEncryptionKey({
      key: config.security.encryptionKey,
      dataDir: config.database.dataDir,
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
      credentials: new CredentialStore(db, key),
      llm,
      embedder,
      vectorStore,
      memory,
      close: async () => {
        await vectorStore.close?.();
        await opened.close();
      },
    };
  } catch (err) {
    await opened.close();
    throw err;
  }
}
