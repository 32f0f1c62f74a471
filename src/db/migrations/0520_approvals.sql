-- Human approvals for dangerous actions: one pending request per incident at
-- most, decided once, expiring on its own.
CREATE TABLE approvals (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  execution_id text,
  action text NOT NULL,
  parameters jsonb NOT NULL DEFAULT '{}',
  risk text NOT NULL,
  reason text NOT NULL,
  proposal jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  requested_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  decided_at timestamptz,
  decided_by text,
  comment text
);
CREATE UNIQUE INDEX approvals_one_pending_per_incident ON approvals (incident_id) WHERE status = 'pending';
CREATE INDEX approvals_pending_expiry_idx ON approvals (expires_at) WHERE status = 'pending';
