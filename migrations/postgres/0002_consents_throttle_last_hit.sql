-- Consent remembered per account, client and scope; the time of a throttle's
-- last hit (progressive delays between failed sign-ins).

CREATE TABLE consents (
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    granted_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (institution_id, account_id, client_id)
);

ALTER TABLE throttles ADD COLUMN last_hit_at TIMESTAMPTZ;
UPDATE throttles SET last_hit_at = window_start;
