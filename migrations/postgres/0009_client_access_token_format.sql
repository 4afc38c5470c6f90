-- Clients choose the format of their access tokens: 'opaque' (the default:
-- a random token whose grant is a row, introspected by the resource server)
-- or 'jwt' (an RFC 9068 JWT signed with the institution's keys, which a
-- resource server verifies itself). audiences lists the resource servers
-- (their URIs, a JSON array) a JWT access token names in "aud"; none: the
-- client's own ID.
ALTER TABLE clients ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque';
ALTER TABLE clients ADD COLUMN audiences TEXT NOT NULL DEFAULT '[]';
