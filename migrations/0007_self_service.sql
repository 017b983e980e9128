-- Self-service for the host product's customers (SPEC §7).
--
-- The SIEM feature per account: 0 stops its integrations from syncing
-- (their checkpoints stay) and account keys from creating new ones.
ALTER TABLE accounts ADD COLUMN siem_enabled INTEGER NOT NULL DEFAULT 1;

-- Account API keys: a bearer token scoped to one account. Only the SHA-256
-- of the key is stored; the key itself is shown once, at creation.
CREATE TABLE account_keys (
    id         TEXT PRIMARY KEY,            -- UUID
    account    TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,        -- SHA-256 of the key
    created_at INTEGER NOT NULL,
    revoked_at INTEGER                      -- NULL while the key works
);
CREATE INDEX account_keys_account ON account_keys (account, created_at);

-- Page sign-ins, in the store so that every worker behind a load balancer
-- knows them. id is the SHA-256 of the cookie's secret: a copy of the
-- database cannot be turned into a working cookie.
CREATE TABLE sessions (
    id         BLOB PRIMARY KEY,
    key_id     TEXT REFERENCES account_keys (id) ON DELETE CASCADE, -- NULL: signed in with the admin token
    admin      TEXT NOT NULL DEFAULT '',    -- admin sessions: fingerprint of the admin token they were opened with
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires_at);
