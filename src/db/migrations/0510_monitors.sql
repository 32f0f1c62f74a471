-- Built-in monitors: HTTP, TCP and catalogue-action checks with their state.
CREATE TABLE monitors (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  service text NOT NULL,
  severity text NOT NULL DEFAULT 'critical' CHECK (severity IN ('critical', 'warning', 'info')),
  spec jsonb NOT NULL,
  interval_ms integer NOT NULL CHECK (interval_ms >= 1000),
  timeout_ms integer NOT NULL CHECK (timeout_ms >= 100),
  retries integer NOT NULL DEFAULT 0 CHECK (retries >= 0),
  enabled boolean NOT NULL DEFAULT true,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'up', 'down')),
  failures integer NOT NULL DEFAULT 0,
  next_check_at timestamptz NOT NULL DEFAULT now(),
  last_checked_at timestamptz,
  last_change_at timestamptz,
  last_result jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX monitors_due_idx ON monitors (next_check_at) WHERE enabled;
