-- Accounts carry an optional external reference: the box office's own
-- number for the person (its contact number). '' is none; any other value
-- is unique per institution and kind, and is looked up by exact match (the
-- queries repeat the index's condition, so that it serves them).
ALTER TABLE accounts ADD COLUMN external_ref TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX accounts_external_ref ON accounts (institution_id, external_ref, kind) WHERE external_ref <> '';
