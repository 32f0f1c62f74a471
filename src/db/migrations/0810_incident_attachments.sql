-- Images attached to incidents (screenshots, graphs), stored in the database
-- with the rest of the incident so a backup holds them too. The type is
-- decided from the bytes (PNG or JPEG), never from what the sender claimed.
CREATE TABLE incident_attachments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  media_type text NOT NULL CHECK (media_type IN ('image/png', 'image/jpeg')),
  filename text,
  bytes integer NOT NULL CHECK (bytes > 0),
  sha256 text NOT NULL,
  data bytea NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_attachments_incident_idx ON incident_attachments (incident_id, id);
