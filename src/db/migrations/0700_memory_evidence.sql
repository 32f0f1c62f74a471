-- The evidence that identified each remembered fix's cause: log templates
-- (variables masked) that must be seen again, and read-only precondition
-- probes with the output that confirms the cause. A fix is reused only when
-- its evidence is confirmed; an operator may disable a remembered fix.
ALTER TABLE memory_incidents
  ADD COLUMN evidence jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN probes jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN disabled boolean NOT NULL DEFAULT false;
