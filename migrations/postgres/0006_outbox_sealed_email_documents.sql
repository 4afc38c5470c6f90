-- Outbox emails are sealed at rest: their subject and bodies are in content,
-- encrypted by the outbox with a key derived from the master secret, and
-- blanked once the email is sent. The clear columns stay for the emails
-- queued before this migration; those already sent lose their bodies now.
-- The janitor purges sent and failed emails by age (created_at).
ALTER TABLE outbox_emails ADD COLUMN content BYTEA;
UPDATE outbox_emails SET subject = '', text_body = '', html_body = '' WHERE status = 'sent';
CREATE INDEX outbox_emails_created ON outbox_emails (created_at);

-- Document types: an institution may keep several named documents of one
-- email class; the document named '' is the default one.
ALTER TABLE email_templates ADD COLUMN document TEXT NOT NULL DEFAULT '';
ALTER TABLE email_templates DROP CONSTRAINT email_templates_pkey;
ALTER TABLE email_templates ADD PRIMARY KEY (institution_id, class, document, locale);
