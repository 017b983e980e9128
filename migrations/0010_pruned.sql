-- What retention deleted of each account, per source, whether or not an
-- integration existed then: an integration created later with a backfill
-- reaching back into that range is told what it cannot get.
CREATE TABLE pruned (
    account_num INTEGER NOT NULL REFERENCES accounts (num),
    source      TEXT NOT NULL,              -- audit or jobs
    count       INTEGER NOT NULL,
    from_ms     INTEGER NOT NULL,           -- occurred (audit) or last changed (jobs)
    to_ms       INTEGER NOT NULL,
    PRIMARY KEY (account_num, source)
) WITHOUT ROWID;

-- A new integration's backfill that starts before records retention had
-- already deleted: shown as a warning in its status.
CREATE TABLE backfill_gaps (
    integration TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    since_ms    INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    from_ms     INTEGER NOT NULL,
    to_ms       INTEGER NOT NULL,
    PRIMARY KEY (integration, source)
) WITHOUT ROWID;
