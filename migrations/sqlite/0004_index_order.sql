-- Secondary indexes no longer lead with institution_id (see the PostgreSQL
-- migration of the same number: a planner misled by statistics that predate
-- an institution). SQLite has no such statistics unless ANALYZE runs; the
-- indexes follow PostgreSQL's order anyway. The accounts' unique email key
-- stays as created: SQLite cannot drop a table's UNIQUE constraint.

DROP INDEX oauth2_tokens_subject;
CREATE INDEX oauth2_tokens_subject ON oauth2_tokens (subject, institution_id);

DROP INDEX browser_sessions_account;
CREATE INDEX browser_sessions_account ON browser_sessions (account_id, institution_id);

DROP INDEX outbox_emails_account;
CREATE INDEX outbox_emails_account ON outbox_emails (account_id, institution_id);
