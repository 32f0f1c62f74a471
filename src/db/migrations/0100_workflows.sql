-- Workflows and their immutable versions, webhook routes, executions with
-- per-node steps, and schedule ticks (one row per tick: the fire-once guard).

CREATE TABLE workflows (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  active boolean NOT NULL DEFAULT false,
  current_version integer NOT NULL,
  active_version integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workflow_versions (
  workflow_id bigint NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  version integer NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, version)
);

-- Routes of active workflows' webhook triggers; rewritten on (de)activation.
CREATE TABLE webhook_routes (
  method text NOT NULL,
  path text NOT NULL,
  workflow_id bigint NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  node_name text NOT NULL,
  PRIMARY KEY (method, path)
);

CREATE TABLE executions (
  id uuid PRIMARY KEY,
  workflow_id bigint NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  workflow_version integer NOT NULL,
  status text NOT NULL CHECK (status IN
    ('queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled', 'needs_attention')),
  mode text NOT NULL,
  trigger_node text NOT NULL,
  trigger_data jsonb NOT NULL,
  parent_execution_id uuid REFERENCES executions (id) ON DELETE CASCADE,
  parent_node text,
  retry_of uuid,
  lease_owner text,
  lease_expires_at timestamptz,
  resume_at timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  attempts integer NOT NULL DEFAULT 0,
  timeout_ms integer NOT NULL DEFAULT 0,
  result jsonb,
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  enqueued_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  deadline_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX executions_workflow_idx ON executions (workflow_id, created_at DESC);
CREATE INDEX executions_created_idx ON executions (created_at DESC);
CREATE INDEX executions_status_idx ON executions (status, created_at DESC);
-- What the sweep scans: only non-terminal rows are in these indexes.
CREATE INDEX executions_lease_idx ON executions (lease_expires_at) WHERE status = 'running';
CREATE INDEX executions_resume_idx ON executions (resume_at) WHERE status = 'waiting';
CREATE INDEX executions_queued_idx ON executions (enqueued_at) WHERE status = 'queued';
CREATE UNIQUE INDEX executions_child_idx ON executions (parent_execution_id, parent_node)
  WHERE parent_execution_id IS NOT NULL;

-- Terminal states are final: a bug that tries to overwrite one fails loudly.
CREATE FUNCTION executions_keep_terminal() RETURNS trigger AS $$
BEGIN
  IF OLD.status IN ('succeeded', 'failed', 'canceled', 'needs_attention')
     AND NEW.status IS DISTINCT FROM OLD.status THEN
    RAISE EXCEPTION 'execution % is % and cannot become %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER executions_keep_terminal BEFORE UPDATE OF status ON executions
  FOR EACH ROW EXECUTE FUNCTION executions_keep_terminal();

CREATE TABLE execution_steps (
  execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  node_name text NOT NULL,
  -- The node's place in the execution order, for listing steps.
  seq integer NOT NULL DEFAULT 0,
  status text NOT NULL CHECK (status IN ('started', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 1,
  input jsonb,
  output jsonb,
  truncated boolean NOT NULL DEFAULT false,
  error jsonb,
  worker text,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms integer,
  PRIMARY KEY (execution_id, node_name)
);

CREATE TABLE schedule_ticks (
  workflow_id bigint NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  node_name text NOT NULL,
  tick timestamptz NOT NULL,
  execution_id uuid NOT NULL,
  PRIMARY KEY (workflow_id, node_name, tick)
);
