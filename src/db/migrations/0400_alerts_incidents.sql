-- Alert ingestion and noise control: endpoints that may post alerts, every
-- accepted alert, incidents with their timeline, maintenance windows.

CREATE TABLE alert_endpoints (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  source text NOT NULL CHECK (source IN ('uptime-kuma', 'alertmanager', 'grafana', 'generic')),
  token_prefix text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  -- Name of the encrypted credential holding the HMAC secret (generic only).
  hmac_credential text,
  -- JSONata expression turning a generic payload into alerts.
  mapping text,
  service_label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  disabled_at timestamptz
);

CREATE TABLE incidents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  service text NOT NULL,
  fingerprint text NOT NULL,
  source text NOT NULL,
  severity text NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'investigating', 'remediating', 'verifying',
    'resolved', 'escalated', 'awaiting_approval')),
  summary text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  annotations jsonb NOT NULL DEFAULT '{}',
  occurrences integer NOT NULL DEFAULT 1,
  flapping boolean NOT NULL DEFAULT false,
  opened_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- At most one unresolved incident per service and fingerprint.
CREATE UNIQUE INDEX incidents_active_key ON incidents (service, fingerprint)
  WHERE status <> 'resolved';
CREATE INDEX incidents_key_idx ON incidents (service, fingerprint, id DESC);
CREATE INDEX incidents_status_idx ON incidents (status, id DESC);

CREATE TABLE incident_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  type text NOT NULL,
  message text NOT NULL,
  evidence jsonb NOT NULL DEFAULT '{}',
  actor text NOT NULL DEFAULT 'warden'
);
CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, id);

CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint_id bigint REFERENCES alert_endpoints (id) ON DELETE SET NULL,
  source text NOT NULL,
  fingerprint text NOT NULL,
  service text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
  status text NOT NULL CHECK (status IN ('firing', 'resolved')),
  summary text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  annotations jsonb NOT NULL DEFAULT '{}',
  starts_at timestamptz NOT NULL,
  ends_at timestamptz,
  raw jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- What noise control decided: opened, deduplicated, pending, suppressed,
  -- flapping, resolved or ignored.
  outcome text NOT NULL,
  incident_id bigint REFERENCES incidents (id) ON DELETE SET NULL
);
CREATE INDEX alerts_key_idx ON alerts (service, fingerprint, received_at DESC);
CREATE INDEX alerts_received_idx ON alerts (id DESC);

CREATE TABLE maintenance_windows (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- NULL: every service.
  service text,
  -- Every label here must equal the alert's for the window to apply.
  matchers jsonb NOT NULL DEFAULT '{}',
  reason text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX maintenance_windows_ends_idx ON maintenance_windows (ends_at);
