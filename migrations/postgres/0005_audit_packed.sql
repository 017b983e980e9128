-- Audit records rebuilt for ingest and drain speed (store/postgres/pack.go):
--   * the text of a record (id, connector, acl, method, user, ip, event,
--     metadata) is one packed bytea column, rec: a COPY row carries six
--     values instead of twelve, PostgreSQL checks no UTF-8 on the way in
--     (ingest did), and a page is three columns to send and decode;
--   * the idempotency key is the first 16 bytes of the SHA-256 of the
--     account's num (4 bytes, big-endian) and the id, as a uuid: audit_ids'
--     primary key is that one fixed-width column (one memcmp a comparison,
--     no varlena decoding, no second column), a third of the size of the
--     (account, text id) key, and ingest inserts one key per record into
--     it. Two ids of an account, or of two accounts, share a key only if
--     SHA-256 collides.
-- rec is, for id, connector, acl, method, user, ip, event and then the
-- metadata: a 4-byte big-endian length (-1 for no metadata) and the UTF-8
-- bytes. SQL can build it, which this migration does for stored records;
-- siemsync_audit_id(rec) reads the id back, for anyone querying with SQL.

CREATE FUNCTION siemsync_id_key(account_num integer, id text) RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT encode(substr(sha256(int4send(account_num) || convert_to(id, 'UTF8')), 1, 16), 'hex')::uuid $$;

CREATE FUNCTION siemsync_audit_id(rec bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT convert_from(substr(rec, 5, (get_byte(rec, 0) << 24) | (get_byte(rec, 1) << 16) | (get_byte(rec, 2) << 8) | get_byte(rec, 3)), 'UTF8') $$;

CREATE FUNCTION pg_temp.siemsync_field(v text) RETURNS bytea LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN v IS NULL THEN int4send(-1) ELSE int4send(octet_length(v)) || convert_to(v, 'UTF8') END $$;

CREATE TABLE audit_ids_v2 (
    id_key uuid PRIMARY KEY
);
INSERT INTO audit_ids_v2 SELECT siemsync_id_key(account_num, id) FROM audit_ids;
DROP TABLE audit_ids;
ALTER TABLE audit_ids_v2 RENAME TO audit_ids;
ALTER INDEX audit_ids_v2_pkey RENAME TO audit_ids_pkey;

CREATE TABLE audit_v2 (
    seq         bigint NOT NULL,
    time_ms     bigint NOT NULL,            -- when the event occurred: the partition key
    ingested_at bigint NOT NULL,
    account_num integer NOT NULL,
    id_key      uuid NOT NULL,              -- the key in audit_ids, for retention to forget
    rec         bytea NOT NULL
) PARTITION BY RANGE (time_ms);

-- Every partition is rebuilt under its name and bounds.
DO $$
DECLARE p record;
BEGIN
    FOR p IN SELECT name, lo_ms, hi_ms FROM audit_partitions ORDER BY lo_ms LOOP
        EXECUTE format('ALTER TABLE audit DETACH PARTITION %I', p.name);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', p.name, p.name || '_v1');
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_v2 FOR VALUES FROM (%s) TO (%s)', p.name, p.lo_ms, p.hi_ms);
        EXECUTE format($q$INSERT INTO %I (seq, time_ms, ingested_at, account_num, id_key, rec)
            SELECT seq, time_ms, ingested_at, account_num, siemsync_id_key(account_num, id),
                pg_temp.siemsync_field(id) || pg_temp.siemsync_field(connector) || pg_temp.siemsync_field(acl)
                || pg_temp.siemsync_field(method) || pg_temp.siemsync_field(user_name) || pg_temp.siemsync_field(ip)
                || pg_temp.siemsync_field(event) || pg_temp.siemsync_field(metadata)
            FROM %I$q$, p.name, p.name || '_v1');
        EXECUTE format('DROP TABLE %I', p.name || '_v1');
    END LOOP;
END $$;

DROP TABLE audit;
ALTER TABLE audit_v2 RENAME TO audit;
-- Pages of one account in seq order; every partition gets its own.
CREATE INDEX audit_account_seq ON audit (account_num, seq);
