-- One account is one lower-case UUID. Ingest always stored lower case, but
-- integration create kept the id as typed and made a second, upper-case
-- account that no record ever reaches: its integrations synced nothing for
-- ever. Move those integrations to the lower-case account.

-- The lower-case account, where ingest has not made it yet; name and host
-- set on the upper-case one carry over where the lower-case one has none.
INSERT OR IGNORE INTO accounts (id, name, host, created_at)
    SELECT lower(id), name, host, created_at FROM accounts WHERE id != lower(id);
UPDATE accounts SET
    name = CASE WHEN accounts.name = '' THEN u.name ELSE accounts.name END,
    host = CASE WHEN accounts.host = '' THEN u.host ELSE accounts.host END
    FROM accounts AS u WHERE accounts.id = lower(u.id) AND u.id != accounts.id;

-- A moved integration promised to send what happens from its creation on:
-- start it where the lower-case account's logs stood then.
UPDATE checkpoints SET seq = max(seq, ifnull((
        SELECT max(a.seq) FROM audit a JOIN accounts l ON l.num = a.account_num
        JOIN integrations i ON l.id = lower(i.account)
        WHERE i.id = checkpoints.integration AND a.ingested_at <= i.created_at), 0))
    WHERE source = 'audit' AND integration IN (SELECT id FROM integrations WHERE account != lower(account));
UPDATE checkpoints SET seq = max(seq, ifnull((
        SELECT max(j.seq) FROM jobs j JOIN accounts l ON l.num = j.account_num
        JOIN integrations i ON l.id = lower(i.account)
        WHERE i.id = checkpoints.integration AND j.changed_at <= i.created_at), 0))
    WHERE source = 'jobs' AND integration IN (SELECT id FROM integrations WHERE account != lower(account));

-- OR IGNORE: an integration whose name the lower-case account already
-- uses stays where it is (the operator renames one and moves it).
UPDATE OR IGNORE integrations SET account = lower(account) WHERE account != lower(account);
UPDATE account_keys SET account = lower(account) WHERE account != lower(account);

DELETE FROM accounts WHERE id != lower(id)
    AND NOT EXISTS (SELECT 1 FROM integrations WHERE account = accounts.id)
    AND NOT EXISTS (SELECT 1 FROM account_keys WHERE account = accounts.id)
    AND NOT EXISTS (SELECT 1 FROM audit WHERE account_num = accounts.num)
    AND NOT EXISTS (SELECT 1 FROM jobs WHERE account_num = accounts.num);
