-- Each monitor's recent checks, for the heartbeat bars on the dashboard and
-- the monitor page. The service keeps the last 50 per monitor; older rows
-- are deleted in the same transaction that adds a new one.
CREATE TABLE monitor_checks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  monitor_id bigint NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  ok boolean NOT NULL,
  latency_ms double precision NOT NULL,
  detail text NOT NULL
);
CREATE INDEX monitor_checks_recent_idx ON monitor_checks (monitor_id, id DESC);
