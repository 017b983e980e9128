-- Issue 16 (see the SQLite files 0008_profile_alerts and 0009_replays): the
-- event profile, failure alerts, and replays with their own cursor.
ALTER TABLE integrations ADD COLUMN profile text NOT NULL DEFAULT 'siemsync';
ALTER TABLE integrations ADD COLUMN notify_url_enc bytea;
ALTER TABLE integrations ADD COLUMN notify_host text NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN alert_after_ns bigint NOT NULL DEFAULT 1800000000000;
ALTER TABLE integrations ADD COLUMN alert_state text NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN alert_error text NOT NULL DEFAULT '';

CREATE TABLE replays (
    integration  text PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    since_ms     bigint NOT NULL,
    until_ms     bigint NOT NULL,
    audit_end    bigint NOT NULL,
    audit_cursor bigint NOT NULL DEFAULT 0,
    jobs_cursor  bigint NOT NULL DEFAULT 0,
    total        bigint NOT NULL,
    sent         bigint NOT NULL DEFAULT 0,
    state        text NOT NULL,
    error        text NOT NULL DEFAULT '',
    started_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    finished_at  bigint
);
