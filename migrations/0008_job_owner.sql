-- A job belongs to the account that first stored it, for ever: an upsert of
-- the same job id for another account must not move it (that account's
-- integrations would never see it finish). The store turns this abort into
-- an input error naming the line and the job.
CREATE TRIGGER job_owner BEFORE UPDATE OF account_num ON jobs
    WHEN OLD.account_num IS NOT NEW.account_num
BEGIN
    SELECT RAISE(ABORT, 'job_owner: the job belongs to another account');
END;
