-- Audit records rebuilt for ingest speed:
--   * the text of a record is one packed BLOB (store/pack.go describes the
--     layout): SQLite builds and binds five values per record, not eleven;
--   * the dedupe key is a 64-bit hash of the id (store/pack.go, idKey), not
--     the id text: the UNIQUE index is a third of the size, so it stays in
--     the page cache far longer, and compares integers. The store resolves
--     two ids with one hash by comparing the ids themselves.
-- Sequence numbers, and the AUTOINCREMENT high-water mark that keeps them
-- from being reused after retention, carry over unchanged.
CREATE TABLE audit_packed (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_num INTEGER NOT NULL REFERENCES accounts (num) DEFERRABLE INITIALLY DEFERRED,
    id_key      INTEGER NOT NULL,
    time_ms     INTEGER NOT NULL,           -- when the event occurred
    ingested_at INTEGER NOT NULL,
    rec         BLOB NOT NULL,              -- id, connector, acl, method, user, ip, event, metadata
    UNIQUE (account_num, id_key)
);

INSERT INTO audit_packed (seq, account_num, id_key, time_ms, ingested_at, rec)
    SELECT seq, account_num, siemsync_id_key(id), time_ms, ingested_at,
        siemsync_pack_audit(id, connector, acl, method, user_name, ip, event, metadata)
    FROM audit ORDER BY seq;

DELETE FROM sqlite_sequence WHERE name = 'audit_packed';
INSERT INTO sqlite_sequence (name, seq) SELECT 'audit_packed', seq FROM sqlite_sequence WHERE name = 'audit';

DROP TABLE audit;
ALTER TABLE audit_packed RENAME TO audit;

-- Pages of one account in seq order (sources, MaxAuditSeq).
CREATE INDEX audit_account_seq ON audit (account_num, seq);
-- Retention deletes by occurred time.
CREATE INDEX audit_time ON audit (time_ms);
