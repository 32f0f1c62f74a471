-- A person may end a needs_attention execution as succeeded ("Mark as done":
-- they checked that the interrupted side effect happened). That is the one
-- change a terminal status allows, and only with the record of who and why
-- in the result; every other overwrite still fails loudly.
CREATE OR REPLACE FUNCTION executions_keep_terminal() RETURNS trigger AS $$
BEGIN
  IF OLD.status IN ('succeeded', 'failed', 'canceled', 'needs_attention')
     AND NEW.status IS DISTINCT FROM OLD.status
     AND NOT (OLD.status = 'needs_attention' AND NEW.status = 'succeeded'
              AND NEW.result IS NOT NULL AND jsonb_typeof(NEW.result) = 'object'
              AND NEW.result ? 'markedDone') THEN
    RAISE EXCEPTION 'execution % is % and cannot become %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
