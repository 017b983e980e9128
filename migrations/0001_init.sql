-- The first schema. Conventions:
--   * times are Unix milliseconds (UTC) in INTEGER columns: they sort,
--     compare and index cheaply, and millisecond precision is what HEC sends;
--   * optional strings are '' (never NULL), so they scan into Go strings;
--   * the store sequence numbers (audit.seq, jobs.seq) are never reused,
--     even after retention deletes rows, because checkpoints point at them.

-- Records refer to their account by num, not by the UUID text: integer keys
-- make the per-record indexes smaller and their comparisons cheaper, which
-- is most of the cost of ingest.
CREATE TABLE accounts (
    num        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,        -- account UUID
    name       TEXT NOT NULL DEFAULT '',
    host       TEXT NOT NULL DEFAULT '',    -- '' means the server's host name
    created_at INTEGER NOT NULL
);

-- AUTOINCREMENT (rather than a plain rowid) so that a seq freed by retention
-- is never handed out again: an integration's checkpoint must keep meaning
-- "everything up to here".
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Deferred: checked at commit, so a violation cannot abort a statement
    -- half way, and SQLite need not keep a statement journal for the
    -- multi-row inserts of ingest (about a sixth of their cost).
    account_num INTEGER NOT NULL REFERENCES accounts (num) DEFERRABLE INITIALLY DEFERRED,
    id          TEXT NOT NULL,              -- the record's id: the dedupe key
    time_ms     INTEGER NOT NULL,           -- when the event occurred
    connector   TEXT NOT NULL DEFAULT '',
    acl         TEXT NOT NULL DEFAULT '',
    method      TEXT NOT NULL DEFAULT '',
    user_name   TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    metadata    BLOB,                       -- compact JSON object text, or NULL
    event       TEXT NOT NULL,
    ingested_at INTEGER NOT NULL,
    UNIQUE (account_num, id)
);
-- Pages of one account in seq order (sources, MaxAuditSeq).
CREATE INDEX audit_account_seq ON audit (account_num, seq);
-- Retention deletes by occurred time.
CREATE INDEX audit_time ON audit (time_ms);

-- One row per job: its current state. seq is the change sequence, bumped on
-- every upsert that changes the job; using it as the rowid keeps pages in
-- seq order without another index.
CREATE TABLE jobs (
    seq           INTEGER PRIMARY KEY,      -- from counters 'job_seq'
    job           TEXT NOT NULL UNIQUE,     -- job UUID
    account_num   INTEGER NOT NULL REFERENCES accounts (num),
    connector     TEXT NOT NULL DEFAULT '',
    scheduled     INTEGER,
    planned_start INTEGER,
    start_time    INTEGER,
    paused        INTEGER,
    end_time      INTEGER,
    description   TEXT NOT NULL DEFAULT '',
    progress      REAL,
    status        TEXT NOT NULL,
    type          TEXT NOT NULL DEFAULT '',
    user_name     TEXT NOT NULL DEFAULT '',
    active        INTEGER NOT NULL,         -- scheduled/in progress with no end_time
    changed_at    INTEGER NOT NULL,         -- when the store saw the last change
    ended_at      INTEGER                   -- when the store first saw it inactive
);
CREATE INDEX jobs_account_seq ON jobs (account_num, seq);
-- Every cycle re-sends the active jobs of an account: keep them findable
-- without walking the account's whole job history.
CREATE INDEX jobs_account_active ON jobs (account_num, seq) WHERE active = 1;
-- Retention deletes ended jobs by change time.
CREATE INDEX jobs_ended ON jobs (changed_at) WHERE active = 0;

-- Named monotonic counters (job_seq). Jobs cannot use AUTOINCREMENT because
-- a job's seq changes on update.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('job_seq', 0);

CREATE TABLE integrations (
    id                   TEXT PRIMARY KEY,
    account              TEXT NOT NULL REFERENCES accounts (id),
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    enabled              INTEGER NOT NULL,
    sources              TEXT NOT NULL,     -- comma-separated: audit,jobs
    -- Splunk HEC
    url                  TEXT NOT NULL DEFAULT '',
    token_enc            BLOB,              -- sealed with the store's Cipher
    hec_index            TEXT NOT NULL DEFAULT '',
    sourcetype           TEXT NOT NULL DEFAULT '',
    source               TEXT NOT NULL DEFAULT '',
    ack                  INTEGER NOT NULL DEFAULT 0,
    ack_timeout_ns       INTEGER NOT NULL DEFAULT 0,
    -- Syslog CEF
    address              TEXT NOT NULL DEFAULT '',
    protocol             TEXT NOT NULL DEFAULT '',
    framing              TEXT NOT NULL DEFAULT '',
    min_severity         INTEGER NOT NULL DEFAULT 0,
    -- TLS
    ca_pem               TEXT NOT NULL DEFAULT '',
    client_cert_pem      TEXT NOT NULL DEFAULT '',
    client_key_enc       BLOB,              -- sealed with the store's Cipher
    insecure_skip_verify INTEGER NOT NULL DEFAULT 0,
    server_name          TEXT NOT NULL DEFAULT '',
    -- Sending
    gzip                 INTEGER NOT NULL DEFAULT 0,
    max_batch_bytes      INTEGER NOT NULL DEFAULT 0,
    max_batch_events     INTEGER NOT NULL DEFAULT 0,
    -- Backfill: audit records with seq <= backfill_until are sent only when
    -- they occurred at or after backfill_since. NULL: no backfill.
    backfill_since       INTEGER,
    backfill_until       INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    -- Status
    last_complete        INTEGER,
    last_error           INTEGER,
    error_message        TEXT NOT NULL DEFAULT '',
    events_last_cycle    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, name)
);

CREATE TABLE checkpoints (
    integration TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,              -- audit or jobs
    seq         INTEGER NOT NULL,           -- last seq the destination accepted
    updated_at  INTEGER NOT NULL,           -- last accepted batch
    PRIMARY KEY (integration, source)
) WITHOUT ROWID;

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    integration TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    started     INTEGER NOT NULL,
    finished    INTEGER,
    events      INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    set_aside   INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_integration ON runs (integration, id);

CREATE TABLE set_aside (
    id          INTEGER PRIMARY KEY,
    integration TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    body        BLOB,
    created_at  INTEGER NOT NULL
);
CREATE INDEX set_aside_integration ON set_aside (integration, id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Records that retention deleted before an integration delivered them, one
-- row per integration and source, accumulated over prunes. Surfaced as a
-- status warning: data loss is never silent.
CREATE TABLE retention_misses (
    integration TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    count       INTEGER NOT NULL,
    from_ms     INTEGER NOT NULL,           -- oldest lost record (occurred / changed)
    to_ms       INTEGER NOT NULL,           -- newest lost record
    PRIMARY KEY (integration, source)
) WITHOUT ROWID;
