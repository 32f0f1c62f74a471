-- The action catalogue and the append-only, hash-chained audit log.

CREATE TABLE exec_actions (
  name text PRIMARY KEY,
  definition jsonb NOT NULL,
  source text NOT NULL CHECK (source IN ('default', 'file', 'api')),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE exec_audit (
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  at text NOT NULL,
  record jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);

-- Append-only: rows may be inserted, never changed or removed.
CREATE FUNCTION exec_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'exec_audit is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER exec_audit_no_update_delete
  BEFORE UPDATE OR DELETE ON exec_audit
  FOR EACH ROW EXECUTE FUNCTION exec_audit_append_only();

CREATE TRIGGER exec_audit_no_truncate
  BEFORE TRUNCATE ON exec_audit
  FOR EACH STATEMENT EXECUTE FUNCTION exec_audit_append_only();
