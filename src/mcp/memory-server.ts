// `warden mcp memory`: a persistent knowledge graph with the tool set of the
// reference MCP memory server, kept in Warden's database instead of a JSON
// file. Errors (a missing entity, a limit) come back as tool results with
// isError; only bugs escape.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

import type { Db } from '../db/db.ts';
import type { Entity, Relation } from './knowledge-graph.ts';
import { graphLimits, KnowledgeGraphStore } from './knowledge-graph.ts';
import { guardTool, readOnly, toolText } from './tool-results.ts';

export type MemoryServerOptions = { db: Db; version: string };

const L = graphLimits;
const name = z.string().min(1).max(L.nameChars);
const observation = z.string().min(1).max(L.observationChars);
const entity = z.object({
  name: name.describe('the entity name, its unique identifier'),
  entityType: z.string().min(1).max(L.typeChars).describe('the type of the entity'),
  observations: z
    .array(observation)
    .max(L.observationsPerItem)
    .describe('observations (facts) about the entity'),
});
const relation = z.object({
  from: name.describe('the entity the relation starts at'),
  to: name.describe('the entity the relation ends at'),
  relationType: z.string().min(1).max(L.typeChars).describe('the relation, in active voice'),
});

const adds = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;
const deletes = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: false,
} as const;

export function createMemoryServer(options: MemoryServerOptions): McpServer {
  const store = new KnowledgeGraphStore(options.db);
  const server = new McpServer(
    { name: 'warden-memory', version: options.version },
    {
      instructions:
        "A persistent knowledge graph: entities (unique name, type, observations) and directed relations between them, kept in Warden's database across sessions. Search or open nodes before creating them.",
    },
  );

  server.registerTool(
    'create_entities',
    {
      title: 'Create entities',
      description: `Create multiple new entities in the knowledge graph. Entities whose name already exists are skipped; answers with the entities created. At most ${L.itemsPerCall} entities per call.`,
      inputSchema: { entities: z.array(entity).max(L.itemsPerCall) },
      annotations: adds,
    },
    guardTool(async ({ entities }: { entities: Entity[] }) =>
      toolText(await store.createEntities(entities)),
    ),
  );

  server.registerTool(
    'create_relations',
    {
      title: 'Create relations',
      description: `Create multiple new relations between existing entities. Relations should be in active voice. Existing relations are skipped; answers with the relations created; a missing entity is an error naming it. At most ${L.itemsPerCall} relations per call.`,
      inputSchema: { relations: z.array(relation).max(L.itemsPerCall) },
      annotations: adds,
    },
    guardTool(async ({ relations }: { relations: Relation[] }) =>
      toolText(await store.createRelations(relations)),
    ),
  );

  server.registerTool(
    'add_observations',
    {
      title: 'Add observations',
      description:
        'Add new observations to existing entities. Observations an entity already has are skipped; answers with what was added to each entity. A missing entity is an error naming it, and nothing is added.',
      inputSchema: {
        observations: z
          .array(
            z.object({
              entityName: name.describe('the entity to add the observations to'),
              contents: z
                .array(observation)
                .max(L.observationsPerItem)
                .describe('the observations to add'),
            }),
          )
          .max(L.itemsPerCall),
      },
      annotations: adds,
    },
    guardTool(
      async ({ observations }: { observations: { entityName: string; contents: string[] }[] }) =>
        toolText(await store.addObservations(observations)),
    ),
  );

  server.registerTool(
    'delete_entities',
    {
      title: 'Delete entities',
      description:
        'Delete entities and, with them, their observations and every relation to or from them. Unknown names are ignored.',
      inputSchema: {
        entityNames: z.array(name).max(L.itemsPerCall).describe('the names of the entities'),
      },
      annotations: deletes,
    },
    guardTool(async ({ entityNames }: { entityNames: string[] }) => {
      await store.deleteEntities(entityNames);
      return toolText('Entities deleted successfully');
    }),
  );

  server.registerTool(
    'delete_observations',
    {
      title: 'Delete observations',
      description:
        'Delete specific observations from entities. Unknown entities and observations are ignored.',
      inputSchema: {
        deletions: z
          .array(
            z.object({
              entityName: name.describe('the entity holding the observations'),
              observations: z
                .array(z.string().max(L.observationChars))
                .max(L.observationsPerItem)
                .describe('the observations to delete'),
            }),
          )
          .max(L.itemsPerCall),
      },
      annotations: deletes,
    },
    guardTool(
      async ({ deletions }: { deletions: { entityName: string; observations: string[] }[] }) => {
        await store.deleteObservations(deletions);
        return toolText('Observations deleted successfully');
      },
    ),
  );

  server.registerTool(
    'delete_relations',
    {
      title: 'Delete relations',
      description: 'Delete relations from the knowledge graph. Unknown relations are ignored.',
      inputSchema: { relations: z.array(relation).max(L.itemsPerCall) },
      annotations: deletes,
    },
    guardTool(async ({ relations }: { relations: Relation[] }) => {
      await store.deleteRelations(relations);
      return toolText('Relations deleted successfully');
    }),
  );

  server.registerTool(
    'read_graph',
    {
      title: 'Read the graph',
      description: 'The entire knowledge graph: every entity and relation.',
      inputSchema: {},
      annotations: readOnly,
    },
    guardTool(async () => toolText(await store.readGraph())),
  );

  server.registerTool(
    'search_nodes',
    {
      title: 'Search nodes',
      description:
        'Entities whose name, type or an observation contains the query (ignoring case), with the relations between them.',
      inputSchema: {
        query: z.string().max(L.queryChars).describe('the text to look for'),
      },
      annotations: readOnly,
    },
    guardTool(async ({ query }: { query: string }) => toolText(await store.searchNodes(query))),
  );

  server.registerTool(
    'open_nodes',
    {
      title: 'Open nodes',
      description: 'The named entities with the relations between them. Unknown names are skipped.',
      inputSchema: {
        names: z.array(name).max(L.itemsPerCall).describe('the entity names'),
      },
      annotations: readOnly,
    },
    guardTool(async ({ names }: { names: string[] }) => toolText(await store.openNodes(names))),
  );

  return server;
}
