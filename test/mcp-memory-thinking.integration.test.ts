// The memory (knowledge graph) and thinking (sequential thinking) MCP
// servers through the SDK client, on PGlite and PostgreSQL; and
// `warden mcp memory` as a real child process over stdio.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Db } from '../src/db/db.ts';
import { migrate } from '../src/db/migrate.ts';
import { PgliteDb } from '../src/db/pglite-db.ts';
import { PostgresDb } from '../src/db/postgres-db.ts';
import { createMemoryServer } from '../src/mcp/memory-server.ts';
import { createThinkingServer } from '../src/mcp/thinking-server.ts';
import type { DbKind } from './helpers/services.ts';
import { dbKinds } from './helpers/services.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';

const warden = fileURLToPath(new URL('../bin/warden.js', import.meta.url));

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

async function connect(server: McpServer): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const r = (await client.callTool({ name, arguments: args })) as ToolResult;
  const text = r.content[0]!.text;
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // a plain message
  }
  return { isError: r.isError === true, text, value };
}

async function openTestDb(kind: DbKind): Promise<{ db: Db; dispose(): Promise<void> }> {
  if (kind === 'pglite') {
    const db = await PgliteDb.open();
    await migrate(db);
    return { db, dispose: () => db.close() };
  }
  const t = await createTestDatabase();
  const db = new PostgresDb({ url: t.url, max: 4 });
  await migrate(db);
  return {
    db,
    async dispose() {
      await db.close();
      await t.drop();
    },
  };
}

describe.each(dbKinds)('memory MCP server on %s', (kind) => {
  let opened: { db: Db; dispose(): Promise<void> };
  let client: Client;
  beforeAll(async () => {
    opened = await openTestDb(kind);
    client = await connect(createMemoryServer({ db: opened.db, version: 'test' }));
  });
  afterAll(async () => {
    await client?.close();
    await opened?.dispose();
  });

  it('lists the reference tool set with honest annotations', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'add_observations',
      'create_entities',
      'create_relations',
      'delete_entities',
      'delete_observations',
      'delete_relations',
      'open_nodes',
      'read_graph',
      'search_nodes',
    ]);
    const byName = new Map(tools.map((t) => [t.name, t.annotations]));
    expect(byName.get('read_graph')?.readOnlyHint).toBe(true);
    expect(byName.get('delete_entities')?.destructiveHint).toBe(true);
    expect(byName.get('create_entities')?.readOnlyHint).toBe(false);
  });

  it('creates, skips duplicates, reads, searches, opens and deletes', async () => {
    const created = await call(client, 'create_entities', {
      entities: [
        { name: 'nginx', entityType: 'service', observations: ['listens on 80', 'listens on 80'] },
        { name: 'web-1', entityType: 'Host', observations: ['Debian 12'] },
        { name: 'postgres', entityType: 'service', observations: [] },
      ],
    });
    expect(created.isError).toBe(false);
    expect(created.value).toEqual([
      { name: 'nginx', entityType: 'service', observations: ['listens on 80'] },
      { name: 'web-1', entityType: 'Host', observations: ['Debian 12'] },
      { name: 'postgres', entityType: 'service', observations: [] },
    ]);
    // An existing name is skipped, even with another type.
    const again = await call(client, 'create_entities', {
      entities: [
        { name: 'nginx', entityType: 'proxy', observations: ['x'] },
        { name: 'redis', entityType: 'service', observations: [] },
      ],
    });
    expect(again.value).toEqual([{ name: 'redis', entityType: 'service', observations: [] }]);

    const rel = await call(client, 'create_relations', {
      relations: [
        { from: 'nginx', to: 'web-1', relationType: 'runs_on' },
        { from: 'postgres', to: 'web-1', relationType: 'runs_on' },
        { from: 'nginx', to: 'web-1', relationType: 'runs_on' },
      ],
    });
    expect(rel.value).toEqual([
      { from: 'nginx', to: 'web-1', relationType: 'runs_on' },
      { from: 'postgres', to: 'web-1', relationType: 'runs_on' },
    ]);
    expect(
      (
        await call(client, 'create_relations', {
          relations: [{ from: 'nginx', to: 'web-1', relationType: 'runs_on' }],
        })
      ).value,
    ).toEqual([]);

    const added = await call(client, 'add_observations', {
      observations: [{ entityName: 'nginx', contents: ['listens on 80', 'proxies to :3000'] }],
    });
    expect(added.value).toEqual([{ entityName: 'nginx', addedObservations: ['proxies to :3000'] }]);

    const graph = (await call(client, 'read_graph')).value as {
      entities: { name: string; observations: string[] }[];
      relations: unknown[];
    };
    expect(graph.entities.map((e) => e.name)).toEqual(['nginx', 'web-1', 'postgres', 'redis']);
    expect(graph.entities[0]!.observations).toEqual(['listens on 80', 'proxies to :3000']);
    expect(graph.relations).toHaveLength(2);

    // Case-insensitive, in names, types and observations; relations only between matches.
    const byType = (await call(client, 'search_nodes', { query: 'HOST' })).value as {
      entities: { name: string }[];
      relations: unknown[];
    };
    expect(byType.entities.map((e) => e.name)).toEqual(['web-1']);
    expect(byType.relations).toEqual([]);
    const byObservation = (await call(client, 'search_nodes', { query: 'PROXIES' })).value as {
      entities: { name: string }[];
    };
    expect(byObservation.entities.map((e) => e.name)).toEqual(['nginx']);
    const byName = (await call(client, 'search_nodes', { query: 'n' })).value as {
      entities: { name: string }[];
      relations: unknown[];
    };
    expect(byName.entities.map((e) => e.name)).toEqual(['nginx', 'web-1']);
    expect(byName.relations).toEqual([{ from: 'nginx', to: 'web-1', relationType: 'runs_on' }]);

    const nodes = (await call(client, 'open_nodes', { names: ['postgres', 'web-1', 'ghost'] }))
      .value as { entities: { name: string }[]; relations: unknown[] };
    expect(nodes.entities.map((e) => e.name)).toEqual(['web-1', 'postgres']);
    expect(nodes.relations).toEqual([{ from: 'postgres', to: 'web-1', relationType: 'runs_on' }]);

    expect(
      (
        await call(client, 'delete_observations', {
          deletions: [
            { entityName: 'nginx', observations: ['listens on 80'] },
            { entityName: 'ghost', observations: ['x'] },
          ],
        })
      ).text,
    ).toBe('Observations deleted successfully');
    expect(
      (
        await call(client, 'delete_relations', {
          relations: [{ from: 'postgres', to: 'web-1', relationType: 'runs_on' }],
        })
      ).isError,
    ).toBe(false);
    // Deleting an entity takes its observations and relations with it.
    expect((await call(client, 'delete_entities', { entityNames: ['web-1', 'ghost'] })).text).toBe(
      'Entities deleted successfully',
    );
    const after = (await call(client, 'read_graph')).value as {
      entities: { name: string; observations: string[] }[];
      relations: unknown[];
    };
    expect(after.entities).toEqual([
      { name: 'nginx', entityType: 'service', observations: ['proxies to :3000'] },
      { name: 'postgres', entityType: 'service', observations: [] },
      { name: 'redis', entityType: 'service', observations: [] },
    ]);
    expect(after.relations).toEqual([]);
    const { rows } = await opened.db.query<{ observations: number; relations: number }>(
      `SELECT (SELECT count(*)::int FROM kg_observations) AS observations,
              (SELECT count(*)::int FROM kg_relations) AS relations`,
    );
    expect(rows[0]).toEqual({ observations: 1, relations: 0 });
  });

  it('names missing entities, changes nothing on error, and enforces limits', async () => {
    const missing = await call(client, 'add_observations', {
      observations: [
        { entityName: 'nginx', contents: ['should not be added'] },
        { entityName: 'no-such-entity', contents: ['x'] },
      ],
    });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain('no-such-entity');
    const nginx = (await call(client, 'open_nodes', { names: ['nginx'] })).value as {
      entities: { observations: string[] }[];
    };
    expect(nginx.entities[0]!.observations).not.toContain('should not be added');

    const badRelation = await call(client, 'create_relations', {
      relations: [{ from: 'nginx', to: 'nowhere', relationType: 'uses' }],
    });
    expect(badRelation.isError).toBe(true);
    expect(badRelation.text).toContain('nowhere');

    const longName = await call(client, 'create_entities', {
      entities: [{ name: 'x'.repeat(300), entityType: 't', observations: [] }],
    });
    expect(longName.isError).toBe(true);
    const tooMany = await call(client, 'create_entities', {
      entities: Array.from({ length: 101 }, (_, i) => ({
        name: `e${i}`,
        entityType: 't',
        observations: [],
      })),
    });
    expect(tooMany.isError).toBe(true);
    expect((await call(client, 'search_nodes', { query: 'e1' })).value).toMatchObject({
      entities: [],
    });
  });

  it('keeps the graph for a second server on the same database', async () => {
    const second = await connect(createMemoryServer({ db: opened.db, version: 'test' }));
    try {
      const graph = (await call(second, 'open_nodes', { names: ['nginx'] })).value as {
        entities: { name: string; observations: string[] }[];
      };
      expect(graph.entities).toEqual([
        { name: 'nginx', entityType: 'service', observations: ['proxies to :3000'] },
      ]);
    } finally {
      await second.close();
    }
  });
});

describe.each(dbKinds)('thinking MCP server on %s', (kind) => {
  let opened: { db: Db; dispose(): Promise<void> };
  beforeAll(async () => {
    opened = await openTestDb(kind);
  });
  afterAll(async () => {
    await opened?.dispose();
  });

  const thought = (n: number, total: number, extra: Record<string, unknown> = {}) => ({
    thought: `thought ${n}`,
    thoughtNumber: n,
    totalThoughts: total,
    nextThoughtNeeded: true,
    ...extra,
  });

  it('records a chain, raises totalThoughts, checks revisions and branches', async () => {
    const client = await connect(createThinkingServer({ db: opened.db, version: 'test' }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['sequentialthinking']);

      // Nothing to revise or branch from yet.
      const early = await call(client, 'sequentialthinking', thought(1, 3, { revisesThought: 1 }));
      expect(early.isError).toBe(true);
      expect(early.value).toMatchObject({ status: 'failed' });

      expect((await call(client, 'sequentialthinking', thought(1, 3))).value).toEqual({
        thoughtNumber: 1,
        totalThoughts: 3,
        nextThoughtNeeded: true,
        branches: [],
        thoughtHistoryLength: 1,
      });
      expect((await call(client, 'sequentialthinking', thought(2, 3))).value).toMatchObject({
        thoughtHistoryLength: 2,
      });
      // totalThoughts is raised to the thought's number.
      expect((await call(client, 'sequentialthinking', thought(5, 3))).value).toMatchObject({
        thoughtNumber: 5,
        totalThoughts: 5,
        thoughtHistoryLength: 3,
      });

      const badRevision = await call(
        client,
        'sequentialthinking',
        thought(6, 6, { isRevision: true, revisesThought: 4 }),
      );
      expect(badRevision.isError).toBe(true);
      expect(badRevision.text).toContain('revisesThought 4');
      const revision = await call(
        client,
        'sequentialthinking',
        thought(6, 6, { isRevision: true, revisesThought: 2 }),
      );
      expect(revision.value).toMatchObject({ thoughtHistoryLength: 4 });

      const badBranch = await call(
        client,
        'sequentialthinking',
        thought(7, 8, { branchFromThought: 9, branchId: 'alt' }),
      );
      expect(badBranch.isError).toBe(true);
      expect(badBranch.text).toContain('branchFromThought 9');
      await call(
        client,
        'sequentialthinking',
        thought(7, 8, { branchFromThought: 2, branchId: 'b' }),
      );
      const last = await call(client, 'sequentialthinking', {
        ...thought(8, 8, { branchFromThought: 1, branchId: 'a' }),
        nextThoughtNeeded: false,
      });
      expect(last.value).toEqual({
        thoughtNumber: 8,
        totalThoughts: 8,
        nextThoughtNeeded: false,
        branches: ['b', 'a'],
        thoughtHistoryLength: 6,
      });

      // Numbers must be positive integers (the schema refuses them).
      const zero = await call(client, 'sequentialthinking', thought(0, 3));
      expect(zero.isError).toBe(true);
    } finally {
      await client.close();
    }

    // The chain is kept; a new server starts a new chain.
    const { rows } = await opened.db.query<{ chains: number; thoughts: number }>(
      `SELECT (SELECT count(*)::int FROM thought_chains) AS chains,
              (SELECT count(*)::int FROM thoughts) AS thoughts`,
    );
    expect(rows[0]).toEqual({ chains: 1, thoughts: 6 });
    const second = await connect(createThinkingServer({ db: opened.db, version: 'test' }));
    try {
      expect((await call(second, 'sequentialthinking', thought(1, 1))).value).toMatchObject({
        thoughtHistoryLength: 1,
        branches: [],
      });
    } finally {
      await second.close();
    }
    const chains = await opened.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM thought_chains',
    );
    expect(chains.rows[0]!.n).toBe(2);
  });
});

describe('warden mcp memory over stdio', () => {
  let db: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'warden-mcp-memory-'));
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists its tools and keeps an entity', { timeout: 60_000 }, async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [warden, 'mcp', 'memory'],
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        DATABASE_URL: db.url,
        WARDEN_DATA_DIR: join(dir, 'data'),
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-test', version: '1' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('create_entities');
      const created = await call(client, 'create_entities', {
        entities: [{ name: 'backup-job', entityType: 'job', observations: ['runs at 03:00'] }],
      });
      expect(created.isError).toBe(false);
      expect((await call(client, 'open_nodes', { names: ['backup-job'] })).value).toEqual({
        entities: [{ name: 'backup-job', entityType: 'job', observations: ['runs at 03:00'] }],
        relations: [],
      });
    } finally {
      await client.close();
    }
  });
});
