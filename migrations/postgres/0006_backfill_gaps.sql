-- What retention deleted of each account, per source, whether or not an
-- integration existed then: an integration created later with a backfill
-- reaching back into that range is told what it cannot get (as on SQLite).
CREATE TABLE pruned (
    account_num integer NOT NULL REFERENCES accounts (num),
    source      text NOT NULL,              -- audit or jobs
    count       bigint NOT NULL,
    from_ms     bigint NOT NULL,            -- occurred (audit) or last changed (jobs)
    to_ms       bigint NOT NULL,
    PRIMARY KEY (account_num, source)
);

-- A new integration's backfill that starts before records retention had
-- already deleted: shown as a warning in its status.
CREATE TABLE backfill_gaps (
    integration text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      text NOT NULL,
    since_ms    bigint NOT NULL,
    count       bigint NOT NULL,
    from_ms     bigint NOT NULL,
    to_ms       bigint NOT NULL,
    PRIMARY KEY (integration, source)
);
