-- Indexes for the statements every cycle runs.
--
-- LeaseDue reads due integrations in (next_due_at, id) order and stops at
-- its limit: with both columns in the index it no longer joins and sorts
-- every due integration at each look (10,000 due: 117 ms → 1 ms a look).
CREATE INDEX integrations_due_order ON integrations (next_due_at, id) WHERE enabled;
DROP INDEX integrations_due;

-- A run's finish sets finished, which the old index's predicate named: no
-- update of a run could stay on its page (HOT), and each wrote three index
-- entries. Pruning (finished IS NOT NULL AND started < cutoff) filters.
DROP INDEX runs_started;
CREATE INDEX runs_started ON runs (started);
