-- An institution's replacements for the built-in email templates, per
-- document class and locale. An empty part keeps the built-in one.

CREATE TABLE email_templates (
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    class           TEXT NOT NULL,
    locale          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (institution_id, class, locale)
);
