-- ANALYZE skips the payload columns of executions and their steps. No query
-- filters on what is inside them, so the planner never reads their
-- statistics, and sampling them was most of ANALYZE's time: on the embedded
-- database, 473 of 536 ms for 30,000 steps, with every request waiting
-- behind it (PGlite runs in Warden's own thread).
ALTER TABLE executions
  ALTER COLUMN trigger_data SET STATISTICS 0,
  ALTER COLUMN result SET STATISTICS 0,
  ALTER COLUMN error SET STATISTICS 0;
ALTER TABLE execution_steps
  ALTER COLUMN input SET STATISTICS 0,
  ALTER COLUMN output SET STATISTICS 0,
  ALTER COLUMN error SET STATISTICS 0;
