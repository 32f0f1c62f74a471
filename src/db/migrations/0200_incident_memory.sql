-- Incident memory: past resolutions, feedback on their fixes, and the
-- registry of vector collections. Vector tables themselves are created by the
-- vector store adapter, because `vector` columns need the pgvector extension
-- and a plain PostgreSQL may not have it.

CREATE TABLE vector_collections (
  name text PRIMARY KEY,
  store text NOT NULL,
  dimension integer NOT NULL CHECK (dimension > 0),
  embedder text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memory_incidents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title text NOT NULL,
  symptoms text NOT NULL DEFAULT '',
  service text,
  log_excerpt text NOT NULL DEFAULT '',
  root_cause text NOT NULL DEFAULT '',
  fix_action text,
  fix_parameters jsonb NOT NULL DEFAULT '{}',
  outcome text NOT NULL CHECK (outcome IN ('resolved', 'partial', 'failed', 'unknown')),
  verified boolean NOT NULL DEFAULT false,
  -- Set when the fix failed verification: it is never applied automatically again.
  fix_blocked boolean NOT NULL DEFAULT false,
  success_count integer NOT NULL DEFAULT 0,
  failure_count integer NOT NULL DEFAULT 0,
  -- Which embedder made this incident's vector (NULL: not embedded yet).
  embedder text,
  embedding_dim integer,
  search_tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', symptoms), 'A') ||
    setweight(to_tsvector('english', coalesce(service, '')), 'B') ||
    setweight(to_tsvector('english', root_cause), 'B') ||
    setweight(to_tsvector('english', log_excerpt), 'C')
  ) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memory_incidents_tsv_idx ON memory_incidents USING gin (search_tsv);
CREATE INDEX memory_incidents_service_idx ON memory_incidents (service);

CREATE TABLE memory_feedback (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES memory_incidents (id) ON DELETE CASCADE,
  verified boolean NOT NULL,
  note text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memory_feedback_incident_idx ON memory_feedback (incident_id);
