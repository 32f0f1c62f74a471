-- A test run from the editor may stop at a chosen node ("run up to this
-- node"): the executor then runs only that node and its ancestors. NULL for
-- every other execution, which runs the whole workflow.
ALTER TABLE executions ADD COLUMN destination_node text;
