-- How many requests a cycle keeps in flight to the destination (SPEC §6.4).
-- Existing integrations get the default of their kind.
ALTER TABLE integrations ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 1;
UPDATE integrations SET max_in_flight = 4 WHERE kind = 'splunk_hec';
