-- A batch commit goes to the server as one pipeline, one implicit
-- transaction committed at its Sync, in one round trip: a condition that
-- must hold (the lease is still the cycle's, the checkpoint and the run
-- exist) raises an error instead of being returned for the client to
-- judge, which rolls the transaction back. The SQLSTATE says which: SSFNC
-- a stale lease (the message is the current token), SSNFD a missing row.
CREATE FUNCTION siemsync_check(ok boolean, state text, msg text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg;
    END IF;
    RETURN true;
END
$$;
