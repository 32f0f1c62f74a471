-- GIN indexes without a pending list. With fastupdate on, new entries wait
-- in a pending list that every search reads through until VACUUM merges it
-- into the index; PGlite runs no autovacuum, so the list only grew (up to
-- gin_pending_list_limit, 4 MB), and the full-text part of an incident
-- search over 10k incidents took 45 ms instead of 5. Writing straight into
-- the index costs a little more per insert; incidents are written rarely.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS idx
    FROM pg_class c
    JOIN pg_am am ON am.oid = c.relam
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'i' AND am.amname = 'gin' AND n.nspname = current_schema()
  LOOP
    EXECUTE format('ALTER INDEX %s SET (fastupdate = off)', r.idx);
    PERFORM gin_clean_pending_list(r.idx);
  END LOOP;
END
$$;

-- The number of incidents in memory, kept by a trigger: the IDF weights of a
-- search need it, and count(*) reads the whole table every time.
CREATE TABLE memory_corpus (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  incidents bigint NOT NULL
);
INSERT INTO memory_corpus (incidents) SELECT count(*) FROM memory_incidents;

CREATE FUNCTION memory_corpus_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE memory_corpus SET incidents = incidents + 1;
  ELSIF TG_OP = 'TRUNCATE' THEN
    UPDATE memory_corpus SET incidents = 0;
  ELSE
    UPDATE memory_corpus SET incidents = incidents - 1;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER memory_corpus_count AFTER INSERT OR DELETE ON memory_incidents
  FOR EACH ROW EXECUTE FUNCTION memory_corpus_count();
CREATE TRIGGER memory_corpus_truncate AFTER TRUNCATE ON memory_incidents
  FOR EACH STATEMENT EXECUTE FUNCTION memory_corpus_count();
