-- Outbox emails are sealed at rest: their subject and bodies are in content,
-- encrypted by the outbox with a key derived from the master secret, and
-- blanked once the email is sent. The clear columns stay for the emails
-- queued before this migration; those already sent lose their bodies now.
-- The janitor purges sent and failed emails by age (created_at).
ALTER TABLE outbox_emails ADD COLUMN content BLOB;
UPDATE outbox_emails SET subject = '', text_body = '', html_body = '' WHERE status = 'sent';
CREATE INDEX outbox_emails_created ON outbox_emails (created_at);

-- Document types: an institution may keep several named documents of one
-- email class; the document named '' is the default one. SQLite cannot
-- change a primary key: the table is rebuilt.
CREATE TABLE email_templates_new (
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    class           TEXT NOT NULL,
    document        TEXT NOT NULL,
    locale          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (institution_id, class, document, locale)
);
INSERT INTO email_templates_new (institution_id, class, document, locale, subject, text_body, html_body, created_at, updated_at)
    SELECT institution_id, class, '', locale, subject, text_body, html_body, created_at, updated_at FROM email_templates;
DROP TABLE email_templates;
ALTER TABLE email_templates_new RENAME TO email_templates;
