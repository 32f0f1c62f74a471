-- Respond-node answers that could not be published (Redis was away, or no
-- main process was subscribed): the waiting main process reads them here.
CREATE TABLE execution_responses (
  execution_id uuid PRIMARY KEY,
  response jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX execution_responses_created ON execution_responses (created_at);

-- Alert notifications already taken, by idempotency key (the sender's
-- Idempotency-Key header, else a hash of the endpoint and the body): a
-- retried notification is answered from here and stores nothing again.
CREATE TABLE alert_notifications (
  key text PRIMARY KEY,
  endpoint_id bigint REFERENCES alert_endpoints (id) ON DELETE CASCADE,
  results jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_notifications_received ON alert_notifications (received_at);

-- Storm grouping: an incident opened while its service already had several
-- in the window is attached to the first of them instead of healed alone.
ALTER TABLE incidents ADD COLUMN parent_id bigint REFERENCES incidents (id) ON DELETE SET NULL;
CREATE INDEX incidents_opened_idx ON incidents (opened_at DESC);
