-- The knowledge graph behind `warden mcp memory` and the thought chains
-- behind `warden mcp thinking`.

-- Entities: a unique name and a type. Deleting one deletes its observations
-- and every relation that touches it.
CREATE TABLE kg_entities (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  entity_type text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Observations of an entity, in the order they were added (id), each at
-- most once per entity. The uniqueness is on a digest so that long texts fit
-- a btree index.
CREATE TABLE kg_observations (
  id bigserial PRIMARY KEY,
  entity_id bigint NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
  content text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX kg_observations_unique ON kg_observations (entity_id, md5(content));

-- Directed relations, in active voice; each (from, to, type) at most once.
CREATE TABLE kg_relations (
  id bigserial PRIMARY KEY,
  from_entity bigint NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
  to_entity bigint NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
  relation_type text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (from_entity, to_entity, relation_type)
);
CREATE INDEX kg_relations_to ON kg_relations (to_entity);

-- One chain per sequential-thinking server instance (an MCP session over
-- HTTP, a process over stdio); its thoughts in the order they came (seq).
CREATE TABLE thought_chains (
  id uuid PRIMARY KEY,
  session_id text,
  client_name text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE thoughts (
  chain_id uuid NOT NULL REFERENCES thought_chains (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  thought text NOT NULL,
  thought_number integer NOT NULL CHECK (thought_number > 0),
  total_thoughts integer NOT NULL CHECK (total_thoughts > 0),
  next_thought_needed boolean NOT NULL,
  is_revision boolean NOT NULL DEFAULT false,
  revises_thought integer CHECK (revises_thought > 0),
  branch_from_thought integer CHECK (branch_from_thought > 0),
  branch_id text,
  needs_more_thoughts boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, seq)
);
