-- The request size limit a destination taught siemsync with a 413, so that
-- later cycles (and later processes: sync --once under cron) start below it.
-- 0: nothing learned. Cleared when the admin changes max_batch_bytes.
ALTER TABLE integrations ADD COLUMN learned_batch_bytes INTEGER NOT NULL DEFAULT 0;
