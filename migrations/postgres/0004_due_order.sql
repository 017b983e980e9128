-- LeaseDue reads due integrations in (next_due_at, id) order and stops at
-- its limit: with both columns in the index it no longer joins and sorts
-- every due integration at each look (10,000 due: 117 ms → 1 ms a look).
CREATE INDEX integrations_due_order ON integrations (next_due_at, id) WHERE enabled;
DROP INDEX integrations_due;
