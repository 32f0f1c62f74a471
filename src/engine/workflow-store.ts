// Workflows in SQL. Every save writes a new immutable version; activation
// pins one version and publishes its webhook routes. Versions never change,
// so they are cached forever in the process.
import type { Db, Queryable } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import { RefreshingCache } from './refreshing-cache.ts';
import type { WorkflowDefinition } from './workflow-model.ts';

export type Workflow = {
  id: number;
  name: string;
  active: boolean;
  currentVersion: number;
  activeVersion: number | null;
  definition: WorkflowDefinition;
  createdAt: Date;
  updatedAt: Date;
};

export type WorkflowSummary = Omit<Workflow, 'definition'>;

type Row = {
  id: number;
  name: string;
  active: boolean;
  current_version: number;
  active_version: number | null;
  created_at: Date;
  updated_at: Date;
  definition?: WorkflowDefinition;
};

const toSummary = (r: Row): WorkflowSummary => ({
  id: Number(r.id),
  name: r.name,
  active: r.active,
  currentVersion: r.current_version,
  activeVersion: r.active_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type WebhookRoute = { workflowId: number; version: number; nodeName: string };

export type ScheduleEntry = {
  workflowId: number;
  version: number;
  nodeName: string;
  cron: string;
  timezone: string;
};

export class WorkflowStore {
  private readonly versions = new Map<string, WorkflowDefinition>();
  /** Webhook routes by "METHOD path"; cleared by every change made in this process. */
  private readonly routeCache: RefreshingCache<string, WebhookRoute | null>;

  constructor(
    private readonly db: Db,
    /**
     * How long a webhook route lookup is reused in this process; another
     * process's change is seen within twice this (a stale route is answered
     * while it refreshes).
     */
    routeCacheMs = 1000,
  ) {
    this.routeCache = new RefreshingCache((key) => this.loadWebhook(key), {
      ttlMs: routeCacheMs,
    });
  }

  async create(def: WorkflowDefinition): Promise<Workflow> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `INSERT INTO workflows (name, current_version) VALUES ($1, 1) RETURNING *`,
        [def.name],
      );
      const row = rows[0]!;
      await tx.query(
        'INSERT INTO workflow_versions (workflow_id, version, definition) VALUES ($1, 1, $2::jsonb)',
        [row.id, JSON.stringify(def)],
      );
      return { ...toSummary(row), definition: def };
    });
  }

  /**
   * Saves a new version; an active workflow moves to it (and its routes with it).
   * With expectedVersion, refuses (409) when someone saved another version since.
   */
  async update(
    id: number,
    def: WorkflowDefinition,
    options: { expectedVersion?: number } = {},
  ): Promise<Workflow> {
    const expected = options.expectedVersion ?? null;
    const wf = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE workflows SET name = $2, current_version = current_version + 1, updated_at = now(),
           active_version = CASE WHEN active THEN current_version + 1 ELSE active_version END
         WHERE id = $1 AND ($3::int IS NULL OR current_version = $3) RETURNING *`,
        [id, def.name, expected],
      );
      const row = rows[0];
      if (!row && expected !== null) {
        const { rows: now } = await tx.query<{ current_version: number }>(
          'SELECT current_version FROM workflows WHERE id = $1',
          [id],
        );
        if (now[0])
          throw new UserError(
            'version_conflict',
            `workflow ${id} was saved as version ${now[0].current_version} after you loaded version ${expected}; reload it (or export your copy) before saving`,
            {
              status: 409,
              details: { currentVersion: now[0].current_version, expectedVersion: expected },
            },
          );
      }
      if (!row) throw notFound('workflow', id);
      await tx.query(
        'INSERT INTO workflow_versions (workflow_id, version, definition) VALUES ($1, $2, $3::jsonb)',
        [id, row.current_version, JSON.stringify(def)],
      );
      if (row.active) await this.writeRoutes(tx, id, def);
      return { ...toSummary(row), definition: def };
    });
    this.routeCache.clear();
    return wf;
  }

  async get(id: number): Promise<Workflow> {
    const { rows } = await this.db.query<Row>(
      `SELECT w.*, v.definition FROM workflows w
       JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
       WHERE w.id = $1`,
      [id],
    );
    if (!rows[0]) throw notFound('workflow', id);
    return { ...toSummary(rows[0]), definition: rows[0].definition! };
  }

  /** Workflows by id; `afterId` and `limit` page through them. */
  async list(options: { afterId?: number; limit?: number } = {}): Promise<WorkflowSummary[]> {
    const { rows } = await this.db.query<Row>(
      'SELECT * FROM workflows WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2',
      [options.afterId ?? null, options.limit ?? null],
    );
    return rows.map(toSummary);
  }

  async delete(id: number): Promise<void> {
    const { rowCount } = await this.db.query('DELETE FROM workflows WHERE id = $1', [id]);
    if (rowCount === 0) throw notFound('workflow', id);
    this.routeCache.clear();
  }

  /** The saved versions of a workflow, newest first (for the editor's history). */
  async listVersions(
    id: number,
    options: { beforeVersion?: number; limit?: number } = {},
  ): Promise<{ version: number; name: string; nodes: number; createdAt: Date }[]> {
    const { rows } = await this.db.query<{
      version: number;
      name: string;
      nodes: number;
      created_at: Date;
    }>(
      `SELECT version, definition->>'name' AS name,
         jsonb_array_length(definition->'nodes') AS nodes, created_at
       FROM workflow_versions WHERE workflow_id = $1 AND ($2::integer IS NULL OR version < $2)
       ORDER BY version DESC LIMIT $3`,
      [id, options.beforeVersion ?? null, options.limit ?? 200],
    );
    if (rows.length === 0) await this.get(id);
    return rows.map((r) => ({
      version: r.version,
      name: r.name,
      nodes: Number(r.nodes),
      createdAt: r.created_at,
    }));
  }

  /** One version's definition (immutable, cached). */
  async version(id: number, version: number): Promise<WorkflowDefinition> {
    const key = `${id}:${version}`;
    const cached = this.versions.get(key);
    if (cached) return cached;
    const { rows } = await this.db.query<{ definition: WorkflowDefinition }>(
      'SELECT definition FROM workflow_versions WHERE workflow_id = $1 AND version = $2',
      [id, version],
    );
    if (!rows[0]) throw notFound('workflow version', key);
    this.versions.set(key, rows[0].definition);
    return rows[0].definition;
  }

  async setActive(id: number, active: boolean): Promise<Workflow> {
    await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE workflows SET active = $2, updated_at = now(),
           active_version = CASE WHEN $2 THEN current_version ELSE NULL END
         WHERE id = $1 RETURNING *`,
        [id, active],
      );
      if (!rows[0]) throw notFound('workflow', id);
      await tx.query('DELETE FROM webhook_routes WHERE workflow_id = $1', [id]);
      if (active) {
        const { rows: v } = await tx.query<{ definition: WorkflowDefinition }>(
          'SELECT definition FROM workflow_versions WHERE workflow_id = $1 AND version = $2',
          [id, rows[0].current_version],
        );
        await this.writeRoutes(tx, id, v[0]!.definition);
      }
    });
    this.routeCache.clear();
    return this.get(id);
  }

  private async writeRoutes(tx: Queryable, id: number, def: WorkflowDefinition) {
    await tx.query('DELETE FROM webhook_routes WHERE workflow_id = $1', [id]);
    for (const node of def.nodes.filter((n) => n.type === 'webhook')) {
      const method = String(node.parameters.method ?? 'POST');
      const path = String(node.parameters.path);
      const { rows } = await tx.query<{ workflow_id: number }>(
        `INSERT INTO webhook_routes (method, path, workflow_id, node_name) VALUES ($1, $2, $3, $4)
         ON CONFLICT (method, path) DO NOTHING RETURNING workflow_id`,
        [method, path, id, node.name],
      );
      if (rows.length === 0)
        throw new UserError(
          'webhook_path_taken',
          `node "${node.name}": ${method} /webhook/${path} is already used by another active workflow`,
          { status: 409 },
        );
    }
  }

  /** The active workflow answering METHOD /webhook/path, if any. */
  findWebhook(method: string, path: string): Promise<WebhookRoute | null> {
    return this.routeCache.get(`${method} ${path}`);
  }

  private async loadWebhook(key: string): Promise<WebhookRoute | null> {
    const space = key.indexOf(' ');
    const method = key.slice(0, space);
    const path = key.slice(space + 1);
    const { rows } = await this.db.query<{
      workflow_id: number;
      node_name: string;
      active_version: number;
    }>(
      `SELECT r.workflow_id, r.node_name, w.active_version FROM webhook_routes r
       JOIN workflows w ON w.id = r.workflow_id
       WHERE r.method = $1 AND r.path = $2 AND w.active`,
      [method, path],
    );
    const r = rows[0];
    return r
      ? { workflowId: Number(r.workflow_id), version: r.active_version, nodeName: r.node_name }
      : null;
  }

  /** Schedule triggers of every active workflow. */
  async activeSchedules(): Promise<ScheduleEntry[]> {
    const { rows } = await this.db.query<{
      workflow_id: number;
      version: number;
      definition: WorkflowDefinition;
    }>(
      `SELECT w.id AS workflow_id, v.version, v.definition FROM workflows w
       JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.active_version
       WHERE w.active`,
    );
    return rows.flatMap((r) =>
      r.definition.nodes
        .filter((n) => n.type === 'schedule')
        .map((n) => ({
          workflowId: Number(r.workflow_id),
          version: r.version,
          nodeName: n.name,
          cron: String(n.parameters.cron),
          timezone: String(n.parameters.timezone ?? 'UTC'),
        })),
    );
  }
}
