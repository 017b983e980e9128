-- Issue 16: replay of a window of an integration's records, beside its live
-- checkpoint. One row per integration: its current or last replay.
-- audit_end is the last audit seq in scope (the end of the log when the
-- replay started: later records go live only); the cursors are the last
-- audit seq / job change seq the replay has delivered, so a replay resumes
-- there after a restart. state: running, done, cancelled, failed.
CREATE TABLE replays (
    integration  TEXT PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    since_ms     INTEGER NOT NULL,
    until_ms     INTEGER NOT NULL,
    audit_end    INTEGER NOT NULL,
    audit_cursor INTEGER NOT NULL DEFAULT 0,
    jobs_cursor  INTEGER NOT NULL DEFAULT 0,
    total        INTEGER NOT NULL,
    sent         INTEGER NOT NULL DEFAULT 0,
    state        TEXT NOT NULL,
    error        TEXT NOT NULL DEFAULT '',
    started_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
