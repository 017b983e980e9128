-- Destination forms, filters and the heartbeat (SPEC §8).
-- channel: X-Splunk-Request-Channel of a HEC integration ('' = none set;
-- the raw endpoint gets one generated at create and stored here).
ALTER TABLE integrations ADD COLUMN channel TEXT NOT NULL DEFAULT '';
-- Filters, JSON arrays of strings ('' or '[]' = keep all). min_severity
-- already exists (0001) and now applies to both kinds.
ALTER TABLE integrations ADD COLUMN audit_events TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN job_statuses TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN job_types TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN heartbeat INTEGER NOT NULL DEFAULT 0;
-- Records the last cycle's filters kept from the destination (status).
ALTER TABLE integrations ADD COLUMN filtered_last_cycle INTEGER NOT NULL DEFAULT 0;
-- Records a cycle's filters kept from the destination; they still moved
-- the checkpoint.
ALTER TABLE runs ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
