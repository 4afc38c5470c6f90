-- A browser session's state (who is signed in, when, with which methods, a
-- pending step) is one opaque value its owner encodes into data; the store
-- keeps only account_id, to end all of an account's sessions at once.
ALTER TABLE browser_sessions DROP COLUMN auth_time;
ALTER TABLE browser_sessions DROP COLUMN amr;
