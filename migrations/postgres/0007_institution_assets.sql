-- An institution's uploaded logo and favicon, served by Usher under its
-- issuer with a long cache (the URL carries the digest).
CREATE TABLE institution_assets (
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    data            BYTEA NOT NULL,
    digest          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (institution_id, name)
);
