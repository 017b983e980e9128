-- Ids are only ever compared for equality, so their index needs no
-- linguistic order. In a database whose default collation is a locale
-- (en_US.UTF-8 on most installations and managed services) every
-- comparison in audit_ids' primary key went through strcoll; under the
-- "C" collation it is a memcmp. Ingest probes and inserts one key per
-- record, so this is on its hottest path. The table is rewritten once.
ALTER TABLE audit_ids ALTER COLUMN id TYPE text COLLATE "C";
