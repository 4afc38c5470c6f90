-- Secondary indexes no longer lead with institution_id.
--
-- A lookup by key is written "key = ? AND institution_id = ?" (isolation).
-- When an institution is newer than the table's statistics, PostgreSQL
-- estimates it has one row, and an index that leads with institution_id
-- looks as cheap as the key's: it then scanned every row of the institution
-- (measured: 16.5 ms instead of 0.6 ms per token lookup). With institution_id
-- last, only the key's own index can serve a lookup by key.

DROP INDEX oauth2_tokens_subject;
CREATE INDEX oauth2_tokens_subject ON oauth2_tokens (subject, institution_id);

DROP INDEX browser_sessions_account;
CREATE INDEX browser_sessions_account ON browser_sessions (account_id, institution_id);

DROP INDEX outbox_emails_account;
CREATE INDEX outbox_emails_account ON outbox_emails (account_id, institution_id);

ALTER TABLE accounts DROP CONSTRAINT accounts_institution_id_kind_email_key_key;
ALTER TABLE accounts ADD CONSTRAINT accounts_email_unique UNIQUE (email_key, kind, institution_id);
