// Package password hashes and verifies passwords and checks new passwords
// against an institution's password policy.
//
// New hashes are argon2id, encoded as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// A [Hasher] produces them and verifies them, and also verifies the legacy
// formats of imported accounts (bcrypt, passlib's PBKDF2 and Django's PBKDF2),
// telling the caller when a hash should be replaced by a fresh argon2id hash.
// A Hasher bounds how many hashes run at once, so that a burst of sign-ins
// cannot exhaust memory.
//
// A [Checker] reports every rule of a [storage.PasswordPolicy] that a new
// password fails, including the refusal of the 10,000 most common passwords.
package password
