// The knowledge graph of `warden mcp memory`, kept in Warden's database
// (kg_entities, kg_observations, kg_relations). Semantics follow the
// reference MCP memory server: existing entities, observations and relations
// are skipped rather than duplicated; adding observations to a missing
// entity fails naming it; deleting what is not there is not an error. One
// difference: a relation's two ends must exist (the database keeps no
// dangling relations), and a missing end is named in the error.
import type { Db, Queryable } from '../db/db.ts';
import { UserError } from '../errors.ts';

export type Entity = { name: string; entityType: string; observations: string[] };
export type Relation = { from: string; to: string; relationType: string };
export type KnowledgeGraph = { entities: Entity[]; relations: Relation[] };

/** Size limits, enforced here and advertised in the MCP input schemas. */
export const graphLimits = {
  nameChars: 256,
  typeChars: 128,
  observationChars: 4096,
  queryChars: 256,
  /** Entities, relations or names per call. */
  itemsPerCall: 100,
  /** Observations per entity per call. */
  observationsPerItem: 100,
} as const;

function check(condition: boolean, code: string, message: string): void {
  if (!condition) throw new UserError(code, message);
}

function checkText(value: string, max: number, what: string): void {
  check(value.length > 0, 'graph_empty_text', `${what} must not be empty`);
  check(
    value.length <= max,
    'graph_text_too_long',
    `${what} has ${value.length} characters; the limit is ${max}`,
  );
}

function checkCount(n: number, max: number, what: string): void {
  check(n <= max, 'graph_too_many', `${n} ${what} in one call; the limit is ${max}`);
}

function checkEntity(e: Entity): void {
  checkText(e.name, graphLimits.nameChars, 'an entity name');
  checkText(e.entityType, graphLimits.typeChars, `the entityType of "${e.name}"`);
  checkObservations(e.name, e.observations);
}

function checkObservations(name: string, observations: readonly string[]): void {
  checkCount(observations.length, graphLimits.observationsPerItem, `observations for "${name}"`);
  for (const o of observations)
    checkText(o, graphLimits.observationChars, `an observation of "${name}"`);
}

function checkRelation(r: Relation): void {
  checkText(r.from, graphLimits.nameChars, 'a relation\'s "from"');
  checkText(r.to, graphLimits.nameChars, 'a relation\'s "to"');
  checkText(r.relationType, graphLimits.typeChars, 'a relationType');
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

type EntityRow = { name: string; entity_type: string };
type ObservationRow = { name: string; content: string };
type RelationRow = { from_name: string; to_name: string; relation_type: string };

export class KnowledgeGraphStore {
  constructor(private readonly db: Db) {}

  /** Creates the entities whose names are new; returns those it created. */
  async createEntities(entities: readonly Entity[]): Promise<Entity[]> {
    checkCount(entities.length, graphLimits.itemsPerCall, 'entities');
    entities.forEach(checkEntity);
    return this.db.transaction(async (tx) => {
      const created: Entity[] = [];
      for (const e of entities) {
        const { rows } = await tx.query<{ id: string }>(
          `INSERT INTO kg_entities (name, entity_type) VALUES ($1, $2)
           ON CONFLICT (name) DO NOTHING RETURNING id::text AS id`,
          [e.name, e.entityType],
        );
        if (rows.length === 0) continue;
        const added = await insertObservations(tx, rows[0]!.id, e.observations);
        created.push({ name: e.name, entityType: e.entityType, observations: added });
      }
      return created;
    });
  }

  /** Creates the relations that are new; both ends must exist. Returns those it created. */
  async createRelations(relations: readonly Relation[]): Promise<Relation[]> {
    checkCount(relations.length, graphLimits.itemsPerCall, 'relations');
    relations.forEach(checkRelation);
    return this.db.transaction(async (tx) => {
      const ids = await entityIds(tx, [...relations.flatMap((r) => [r.from, r.to])]);
      const missing = [
        ...new Set(relations.flatMap((r) => [r.from, r.to]).filter((n) => !ids.has(n))),
      ];
      if (missing.length > 0)
        throw new UserError(
          'entity_not_found',
          `Entity not found: ${quoted(missing)}; create it before relating it`,
        );
      const created: Relation[] = [];
      for (const r of relations) {
        const { rowCount } = await tx.query(
          `INSERT INTO kg_relations (from_entity, to_entity, relation_type) VALUES ($1, $2, $3)
           ON CONFLICT (from_entity, to_entity, relation_type) DO NOTHING`,
          [ids.get(r.from), ids.get(r.to), r.relationType],
        );
        if (rowCount > 0) created.push({ from: r.from, to: r.to, relationType: r.relationType });
      }
      return created;
    });
  }

  /** Adds the new observations of existing entities; all or nothing. */
  async addObservations(
    items: readonly { entityName: string; contents: readonly string[] }[],
  ): Promise<{ entityName: string; addedObservations: string[] }[]> {
    checkCount(items.length, graphLimits.itemsPerCall, 'entities');
    for (const i of items) {
      checkText(i.entityName, graphLimits.nameChars, 'an entity name');
      checkObservations(i.entityName, i.contents);
    }
    return this.db.transaction(async (tx) => {
      const ids = await entityIds(
        tx,
        items.map((i) => i.entityName),
      );
      const missing = [...new Set(items.map((i) => i.entityName).filter((n) => !ids.has(n)))];
      if (missing.length > 0)
        throw new UserError(
          'entity_not_found',
          missing.length === 1
            ? `Entity with name ${missing[0]} not found`
            : `Entities not found: ${quoted(missing)}`,
        );
      const out: { entityName: string; addedObservations: string[] }[] = [];
      for (const i of items)
        out.push({
          entityName: i.entityName,
          addedObservations: await insertObservations(tx, ids.get(i.entityName)!, i.contents),
        });
      return out;
    });
  }

  /** Deletes entities with their observations and relations; unknown names are ignored. */
  async deleteEntities(names: readonly string[]): Promise<number> {
    checkCount(names.length, graphLimits.itemsPerCall, 'names');
    const { rowCount } = await this.db.query(
      'DELETE FROM kg_entities WHERE name = ANY($1::text[])',
      [[...names]],
    );
    return rowCount;
  }

  /** Deletes observations; unknown entities and observations are ignored. */
  async deleteObservations(
    items: readonly { entityName: string; observations: readonly string[] }[],
  ): Promise<number> {
    checkCount(items.length, graphLimits.itemsPerCall, 'entities');
    for (const i of items)
      checkCount(i.observations.length, graphLimits.observationsPerItem, 'observations');
    return this.db.transaction(async (tx) => {
      let deleted = 0;
      for (const i of items) {
        const { rowCount } = await tx.query(
          `DELETE FROM kg_observations o USING kg_entities e
           WHERE o.entity_id = e.id AND e.name = $1 AND o.content = ANY($2::text[])`,
          [i.entityName, [...i.observations]],
        );
        deleted += rowCount;
      }
      return deleted;
    });
  }

  /** Deletes relations; unknown ones are ignored. */
  async deleteRelations(relations: readonly Relation[]): Promise<number> {
    checkCount(relations.length, graphLimits.itemsPerCall, 'relations');
    return this.db.transaction(async (tx) => {
      let deleted = 0;
      for (const r of relations) {
        const { rowCount } = await tx.query(
          `DELETE FROM kg_relations r USING kg_entities f, kg_entities t
           WHERE r.from_entity = f.id AND r.to_entity = t.id
             AND f.name = $1 AND t.name = $2 AND r.relation_type = $3`,
          [r.from, r.to, r.relationType],
        );
        deleted += rowCount;
      }
      return deleted;
    });
  }

  /** The whole graph. */
  async readGraph(): Promise<KnowledgeGraph> {
    return this.graphOf(undefined);
  }

  /**
   * Entities whose name, type or an observation contains query, ignoring
   * case, with the relations between them.
   */
  async searchNodes(query: string): Promise<KnowledgeGraph> {
    check(
      query.length <= graphLimits.queryChars,
      'graph_text_too_long',
      `the query has ${query.length} characters; the limit is ${graphLimits.queryChars}`,
    );
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT e.name FROM kg_entities e
       WHERE strpos(lower(e.name), lower($1)) > 0
          OR strpos(lower(e.entity_type), lower($1)) > 0
          OR EXISTS (SELECT 1 FROM kg_observations o
                     WHERE o.entity_id = e.id AND strpos(lower(o.content), lower($1)) > 0)`,
      [query],
    );
    return this.graphOf(rows.map((r) => r.name));
  }

  /** The named entities (unknown names are skipped) with the relations between them. */
  async openNodes(names: readonly string[]): Promise<KnowledgeGraph> {
    checkCount(names.length, graphLimits.itemsPerCall, 'names');
    return this.graphOf([...names]);
  }

  // names undefined: everything.
  private async graphOf(names: string[] | undefined): Promise<KnowledgeGraph> {
    if (names !== undefined && names.length === 0) return { entities: [], relations: [] };
    const filter = names === undefined ? 'true' : 'e.name = ANY($1::text[])';
    const params = names === undefined ? [] : [names];
    return this.db.transaction(async (tx) => {
      const entities = await tx.query<EntityRow>(
        `SELECT e.name, e.entity_type FROM kg_entities e WHERE ${filter} ORDER BY e.id`,
        params,
      );
      const observations = await tx.query<ObservationRow>(
        `SELECT e.name, o.content FROM kg_observations o JOIN kg_entities e ON e.id = o.entity_id
         WHERE ${filter} ORDER BY o.id`,
        params,
      );
      const relations = await tx.query<RelationRow>(
        `SELECT f.name AS from_name, t.name AS to_name, r.relation_type
         FROM kg_relations r
         JOIN kg_entities f ON f.id = r.from_entity
         JOIN kg_entities t ON t.id = r.to_entity
         WHERE ${names === undefined ? 'true' : 'f.name = ANY($1::text[]) AND t.name = ANY($1::text[])'}
         ORDER BY r.id`,
        params,
      );
      const byName = new Map<string, Entity>();
      for (const r of entities.rows)
        byName.set(r.name, { name: r.name, entityType: r.entity_type, observations: [] });
      for (const o of observations.rows) byName.get(o.name)?.observations.push(o.content);
      return {
        entities: [...byName.values()],
        relations: relations.rows.map((r) => ({
          from: r.from_name,
          to: r.to_name,
          relationType: r.relation_type,
        })),
      };
    });
  }
}

async function entityIds(tx: Queryable, names: string[]): Promise<Map<string, string>> {
  const { rows } = await tx.query<{ id: string; name: string }>(
    'SELECT id::text AS id, name FROM kg_entities WHERE name = ANY($1::text[])',
    [[...new Set(names)]],
  );
  return new Map(rows.map((r) => [r.name, r.id]));
}

// Inserts in order, skipping observations the entity already has (or that
// repeat within the list); returns those inserted.
async function insertObservations(
  tx: Queryable,
  entityId: string,
  contents: readonly string[],
): Promise<string[]> {
  const added: string[] = [];
  for (const c of contents) {
    const { rowCount } = await tx.query(
      `INSERT INTO kg_observations (entity_id, content) VALUES ($1::bigint, $2)
       ON CONFLICT (entity_id, md5(content)) DO NOTHING`,
      [entityId, c],
    );
    if (rowCount > 0) added.push(c);
  }
  return added;
}
