-- The first PostgreSQL schema. It follows the SQLite one (times are Unix
-- milliseconds in bigint columns, optional strings are '', sequence numbers
-- are never reused) with these differences:
--   * audit records are range-partitioned by when they occurred (time_ms),
--     so that retention drops whole partitions (store/postgres/partitions.go);
--   * a partitioned table cannot have a UNIQUE index without the partition
--     key, so the idempotency key UNIQUE (account, id) lives in audit_ids;
--   * leases, next_due_at and the fencing tokens use the database clock, so
--     that workers on different machines agree on what has expired.

-- The database clock in Unix milliseconds. clock_timestamp, not now(): a
-- long transaction must not see time stand still.
CREATE FUNCTION siemsync_now_ms() RETURNS bigint LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

CREATE TABLE accounts (
    num        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,        -- account UUID
    name       text NOT NULL DEFAULT '',
    host       text NOT NULL DEFAULT '',    -- '' means the server's host name
    created_at bigint NOT NULL,
    siem_enabled boolean NOT NULL DEFAULT true  -- SPEC 7.2: off stops the account's integrations
);

-- One sequence for the audit records of every account, drawn a block at a
-- time: one nextval reserves the 4096 numbers [v, v+4095] for one batch of
-- ingest, which numbers its records v + their place in the batch. Numbers
-- of a block that a batch leaves unused are gaps, which cursors do not
-- mind. Within one account the numbers become visible in order because
-- ingest holds the account's advisory lock from its first nextval to its
-- commit (SPEC 6.3).
CREATE SEQUENCE audit_seq AS bigint INCREMENT BY 4096;

CREATE TABLE audit (
    seq         bigint NOT NULL,
    account_num integer NOT NULL,
    id          text NOT NULL,
    time_ms     bigint NOT NULL,            -- when the event occurred: the partition key
    connector   text NOT NULL DEFAULT '',
    acl         text NOT NULL DEFAULT '',
    method      text NOT NULL DEFAULT '',
    user_name   text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    metadata    text,                       -- compact JSON object text, or NULL
    event       text NOT NULL,
    ingested_at bigint NOT NULL
) PARTITION BY RANGE (time_ms);
-- Pages of one account in seq order; every partition gets its own.
CREATE INDEX audit_account_seq ON audit (account_num, seq);

-- The partitions of audit and their bounds [lo_ms, hi_ms), kept by the store
-- in the transaction that creates or drops a partition.
CREATE TABLE audit_partitions (
    name  text PRIMARY KEY,
    lo_ms bigint NOT NULL,
    hi_ms bigint NOT NULL
);

-- The idempotency key of audit records: an id is stored once per account.
-- Retention deletes the ids of the records it drops.
CREATE TABLE audit_ids (
    account_num integer NOT NULL,
    id          text NOT NULL,
    PRIMARY KEY (account_num, id)
);

CREATE SEQUENCE job_seq AS bigint;

CREATE TABLE jobs (
    seq           bigint NOT NULL UNIQUE,
    job           text PRIMARY KEY,         -- job UUID
    account_num   integer NOT NULL REFERENCES accounts (num),
    connector     text NOT NULL DEFAULT '',
    scheduled     bigint,
    planned_start bigint,
    start_time    bigint,
    paused        bigint,
    end_time      bigint,
    description   text NOT NULL DEFAULT '',
    progress      double precision,
    status        text NOT NULL,
    type          text NOT NULL DEFAULT '',
    user_name     text NOT NULL DEFAULT '',
    active        boolean NOT NULL,         -- scheduled/in progress with no end_time
    changed_at    bigint NOT NULL,
    ended_at      bigint
);
CREATE INDEX jobs_account_seq ON jobs (account_num, seq);
CREATE INDEX jobs_account_active ON jobs (account_num, seq) WHERE active;
CREATE INDEX jobs_ended ON jobs (changed_at) WHERE NOT active;

CREATE TABLE integrations (
    id                   text PRIMARY KEY,
    account              text NOT NULL REFERENCES accounts (id),
    name                 text NOT NULL,
    kind                 text NOT NULL,
    enabled              boolean NOT NULL,
    sources              text NOT NULL,     -- comma-separated: audit,jobs
    url                  text NOT NULL DEFAULT '',
    token_enc            bytea,             -- sealed with the store's Cipher
    hec_index            text NOT NULL DEFAULT '',
    sourcetype           text NOT NULL DEFAULT '',
    source               text NOT NULL DEFAULT '',
    ack                  boolean NOT NULL DEFAULT false,
    ack_timeout_ns       bigint NOT NULL DEFAULT 0,
    address              text NOT NULL DEFAULT '',
    protocol             text NOT NULL DEFAULT '',
    framing              text NOT NULL DEFAULT '',
    min_severity         integer NOT NULL DEFAULT 0,
    ca_pem               text NOT NULL DEFAULT '',
    client_cert_pem      text NOT NULL DEFAULT '',
    client_key_enc       bytea,             -- sealed with the store's Cipher
    insecure_skip_verify boolean NOT NULL DEFAULT false,
    server_name          text NOT NULL DEFAULT '',
    gzip                 boolean NOT NULL DEFAULT false,
    max_batch_bytes      integer NOT NULL DEFAULT 0,
    max_batch_events     integer NOT NULL DEFAULT 0,
    max_in_flight        integer NOT NULL DEFAULT 1,
    learned_batch_bytes  integer NOT NULL DEFAULT 0,
    backfill_since       bigint,
    backfill_until       bigint NOT NULL DEFAULT 0,
    created_at           bigint NOT NULL,
    updated_at           bigint NOT NULL,
    last_complete        bigint,
    last_error           bigint,
    error_message        text NOT NULL DEFAULT '',
    events_last_cycle    bigint NOT NULL DEFAULT 0,
    last_worker          text NOT NULL DEFAULT '',  -- owner of the lease of the last cycle
    -- SPEC 8: the HEC channel, filters (JSON arrays of strings, '' keeps
    -- all) and the heartbeat.
    channel              text NOT NULL DEFAULT '',
    audit_events         text NOT NULL DEFAULT '',
    job_statuses         text NOT NULL DEFAULT '',
    job_types            text NOT NULL DEFAULT '',
    heartbeat            boolean NOT NULL DEFAULT false,
    filtered_last_cycle  bigint NOT NULL DEFAULT 0,
    next_due_at          bigint NOT NULL,           -- database clock, ms
    UNIQUE (account, name)
);
-- Due work: LeaseDue walks enabled integrations by next_due_at.
CREATE INDEX integrations_due ON integrations (next_due_at) WHERE enabled;

CREATE TABLE checkpoints (
    integration text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      text NOT NULL,
    seq         bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (integration, source)
);

-- Ranges beyond the checkpoint that the destination already accepted.
CREATE TABLE accepted_ranges (
    integration text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      text NOT NULL,
    lo          bigint NOT NULL,
    hi          bigint NOT NULL,
    PRIMARY KEY (integration, source, lo)
);

-- Leases of integrations (by id) and of deployment-wide jobs (by name). A
-- row is never deleted, so a name's token only ever grows.
CREATE TABLE leases (
    name       text PRIMARY KEY,
    owner      text NOT NULL,
    token      bigint NOT NULL,
    expires_ms bigint NOT NULL               -- database clock
);

CREATE TABLE runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    worker      text NOT NULL DEFAULT '',
    started     bigint NOT NULL,
    finished    bigint,
    events      bigint NOT NULL DEFAULT 0,
    bytes       bigint NOT NULL DEFAULT 0,
    set_aside   bigint NOT NULL DEFAULT 0,
    filtered    bigint NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT ''
);
CREATE INDEX runs_integration ON runs (integration, id);
CREATE INDEX runs_started ON runs (started) WHERE finished IS NOT NULL;

CREATE TABLE set_aside (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      text NOT NULL,
    seq         bigint NOT NULL,
    event_id    text NOT NULL,
    reason      text NOT NULL,
    body        bytea,
    created_at  bigint NOT NULL
);
CREATE INDEX set_aside_integration ON set_aside (integration, id);

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE retention_misses (
    integration text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      text NOT NULL,
    count       bigint NOT NULL,
    from_ms     bigint NOT NULL,
    to_ms       bigint NOT NULL,
    PRIMARY KEY (integration, source)
);

-- Account API keys (SPEC 7.1): only the SHA-256 of a key is stored.
CREATE TABLE account_keys (
    id         text PRIMARY KEY,
    account    text NOT NULL REFERENCES accounts (id),
    name       text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    created_at bigint NOT NULL,
    revoked_at bigint
);
CREATE INDEX account_keys_account ON account_keys (account, created_at);

-- Page sign-ins, shared by every worker. id is the SHA-256 of the
-- cookie's secret.
CREATE TABLE sessions (
    id         bytea PRIMARY KEY,
    key_id     text REFERENCES account_keys (id) ON DELETE CASCADE,
    admin      text NOT NULL DEFAULT '',
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
