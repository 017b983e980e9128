-- Issue 16: the event profile (siemsync or ocsf) and failure alerts.
-- notify_url_enc is sealed like the token (a Slack webhook URL is a
-- secret); notify_host is its host, shown instead. alert_state is 'firing'
-- between the failure alert and the recovery alert, '' otherwise;
-- alert_error is the last failure of the webhook itself.
ALTER TABLE integrations ADD COLUMN profile TEXT NOT NULL DEFAULT 'siemsync';
ALTER TABLE integrations ADD COLUMN notify_url_enc BLOB;
ALTER TABLE integrations ADD COLUMN notify_host TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN alert_after_ns INTEGER NOT NULL DEFAULT 1800000000000;
ALTER TABLE integrations ADD COLUMN alert_state TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN alert_error TEXT NOT NULL DEFAULT '';
