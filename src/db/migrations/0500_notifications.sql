-- Every notification attempt per channel; the dedup check reads it.
CREATE TABLE notifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dedup_key text NOT NULL,
  channel text NOT NULL,
  kind text NOT NULL,
  title text NOT NULL,
  incident_id bigint,
  status text NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX notifications_dedup_idx ON notifications (dedup_key, channel, created_at DESC);
