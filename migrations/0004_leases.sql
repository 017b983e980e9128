-- Leases: one cycle of an integration at a time across processes (SPEC 6.2).
-- name is an integration id or a deployment-wide name (deployment:prune).
-- token is the fencing token: it grows with every new lease of the name and
-- never goes back (a released lease keeps its row), so a write that carries
-- an older token is refused. expires is Unix milliseconds; a lease is held
-- while expires is in the future.
CREATE TABLE leases (
    name    TEXT PRIMARY KEY,
    owner   TEXT NOT NULL,
    token   INTEGER NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;

-- Due work is found in the store: an enabled integration is due once
-- next_due_at (Unix milliseconds) has passed. 0: due now, so existing
-- integrations run at the first tick after the upgrade.
ALTER TABLE integrations ADD COLUMN next_due_at INTEGER NOT NULL DEFAULT 0;
-- The worker that ran the integration's last finished cycle (status).
ALTER TABLE integrations ADD COLUMN last_worker TEXT NOT NULL DEFAULT '';
CREATE INDEX integrations_due ON integrations (next_due_at) WHERE enabled;

-- The worker (lease owner) that ran the cycle.
ALTER TABLE runs ADD COLUMN worker TEXT NOT NULL DEFAULT '';

-- Ranges of seqs beyond the checkpoint that the destination already
-- accepted (SPEC 6.4): a later request of a window answered before an
-- earlier one failed. Neither the retry nor the next cycle sends them again;
-- a range is forgotten once the checkpoint reaches its end.
CREATE TABLE accepted_ranges (
    integration TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,              -- audit or jobs
    lo          INTEGER NOT NULL,
    hi          INTEGER NOT NULL,
    PRIMARY KEY (integration, source, lo)
) WITHOUT ROWID;
