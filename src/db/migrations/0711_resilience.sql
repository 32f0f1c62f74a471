-- Respond-node answers that could not be published (Redis was away, or no
-- main process was subscribed): the waiting main process reads them here.
CREATE TABLE execution_responses (
  execution_id uuid PRIMARY KEY,
  response jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX execution_responses_created ON execution_responses (created_at);
