-- Usher's initial schema, SQLite.
-- Times are TIMESTAMP text written in UTC (sortable: the driver writes one format); lists and settings are JSON text.
-- Every table but institutions carries institution_id: nothing crosses institutions.

CREATE TABLE institutions (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE accounts (
    id                      TEXT PRIMARY KEY,
    institution_id          TEXT NOT NULL REFERENCES institutions (id),
    kind                    TEXT NOT NULL,
    email                   TEXT NOT NULL,
    email_key               TEXT NOT NULL, -- lower-cased email: unique per institution and kind
    email_verified          BOOLEAN NOT NULL,
    given_name              TEXT NOT NULL,
    family_name             TEXT NOT NULL,
    locale                  TEXT NOT NULL,
    status                  TEXT NOT NULL,
    password_hash           TEXT NOT NULL,
    password_changed_at     TIMESTAMP,
    password_expires_at     TIMESTAMP,
    must_change_password    BOOLEAN NOT NULL,
    two_factor_required     BOOLEAN NOT NULL,
    totp_secret             BLOB,
    totp_confirmed_at       TIMESTAMP,
    totp_last_step          INTEGER NOT NULL DEFAULT 0,
    failed_sign_ins         INTEGER NOT NULL DEFAULT 0,
    last_failed_sign_in_at  TIMESTAMP,
    locked_until            TIMESTAMP,
    version                 INTEGER NOT NULL,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    UNIQUE (institution_id, kind, email_key)
);

CREATE TABLE recovery_codes (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash   BLOB NOT NULL,
    used_at     TIMESTAMP,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE clients (
    institution_id              TEXT NOT NULL REFERENCES institutions (id),
    id                          TEXT NOT NULL,
    name                        TEXT NOT NULL,
    secret_hash                 TEXT NOT NULL,
    public                      BOOLEAN NOT NULL,
    account_kind                TEXT NOT NULL,
    redirect_uris               TEXT NOT NULL,
    post_logout_redirect_uris   TEXT NOT NULL,
    grant_types                 TEXT NOT NULL,
    scopes                      TEXT NOT NULL,
    first_party                 BOOLEAN NOT NULL,
    require_two_factor          BOOLEAN NOT NULL,
    require_pkce                BOOLEAN NOT NULL,
    introspection               BOOLEAN NOT NULL,
    point_of_sale               BOOLEAN NOT NULL,
    home_url                    TEXT NOT NULL,
    initiate_login_uri          TEXT NOT NULL,
    id_token_alg                TEXT NOT NULL,
    created_at                  TIMESTAMP NOT NULL,
    updated_at                  TIMESTAMP NOT NULL,
    PRIMARY KEY (institution_id, id)
);

CREATE TABLE action_tokens (
    id              TEXT PRIMARY KEY,
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL,
    secret_hash     BLOB NOT NULL UNIQUE,
    point_of_sale   TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    used_at         TIMESTAMP
);
CREATE INDEX action_tokens_account ON action_tokens (account_id, purpose);
CREATE INDEX action_tokens_expires ON action_tokens (expires_at);

CREATE TABLE browser_sessions (
    id              TEXT PRIMARY KEY,
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    account_id      TEXT NOT NULL,
    auth_time       TIMESTAMP,
    amr             TEXT NOT NULL,
    data            BLOB NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX browser_sessions_account ON browser_sessions (institution_id, account_id);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

-- Codes, tokens and the PKCE and OpenID Connect records of codes. The key is a
-- hash of the token signature; request_id groups a grant's token family.
CREATE TABLE oauth2_tokens (
    signature           TEXT NOT NULL,
    kind                TEXT NOT NULL,
    institution_id      TEXT NOT NULL,
    request_id          TEXT NOT NULL,
    requested_at        TIMESTAMP NOT NULL,
    client_id           TEXT NOT NULL,
    subject             TEXT NOT NULL,
    requested_scopes    TEXT NOT NULL,
    granted_scopes      TEXT NOT NULL,
    requested_audience  TEXT NOT NULL,
    granted_audience    TEXT NOT NULL,
    form                TEXT NOT NULL,
    session             BLOB NOT NULL,
    access_signature    TEXT NOT NULL,
    active              BOOLEAN NOT NULL,
    expires_at          TIMESTAMP NOT NULL,
    used_at             TIMESTAMP,
    PRIMARY KEY (signature, kind)
);
CREATE INDEX oauth2_tokens_request ON oauth2_tokens (request_id);
CREATE INDEX oauth2_tokens_subject ON oauth2_tokens (institution_id, subject);
CREATE INDEX oauth2_tokens_expires ON oauth2_tokens (expires_at);

CREATE TABLE oauth2_jtis (
    institution_id  TEXT NOT NULL,
    jti             TEXT NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (institution_id, jti)
);

CREATE TABLE signing_keys (
    id              TEXT PRIMARY KEY,
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    algorithm       TEXT NOT NULL,
    state           TEXT NOT NULL,
    private_key     BLOB NOT NULL,
    public_key      BLOB NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    activated_at    TIMESTAMP,
    retired_at      TIMESTAMP,
    expires_at      TIMESTAMP
);
CREATE INDEX signing_keys_institution ON signing_keys (institution_id);

CREATE TABLE outbox_emails (
    id              TEXT PRIMARY KEY,
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    account_id      TEXT NOT NULL,
    class           TEXT NOT NULL,
    locale          TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    sender          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX outbox_emails_due ON outbox_emails (status, next_attempt_at);
CREATE INDEX outbox_emails_account ON outbox_emails (institution_id, account_id);

CREATE TABLE audit_events (
    id              TEXT PRIMARY KEY,
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    account_id      TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    address         TEXT NOT NULL,
    details         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (institution_id, account_id, created_at);

CREATE TABLE throttles (
    institution_id  TEXT NOT NULL,
    key             TEXT NOT NULL,
    count           INTEGER NOT NULL,
    window_start    TIMESTAMP NOT NULL,
    window_end      TIMESTAMP NOT NULL,
    PRIMARY KEY (institution_id, key)
);
CREATE INDEX throttles_window_end ON throttles (window_end);
