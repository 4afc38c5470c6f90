package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// configMinSecretBytes is the minimum length of the master secret.
const configMinSecretBytes = 32

// configValidateSecret checks that exactly one of secret and secret_file is set and that the
// secret is long enough. A missing development secret file is not a problem: loadConfig creates
// it.
func configValidateSecret(c *Config, devSecret bool, p *configProblems) {
	_, key, err := configLoadSecret(c.Secret, c.SecretFile)
	if err == nil || (devSecret && errors.Is(err, fs.ErrNotExist)) {
		return
	}
	p.add(key, "%v", err)
}

// masterSecret returns the master secret: the bytes of secret, or the content of secret_file
// without its trailing newline. Keys and encrypted data are derived from it.
func (c Config) masterSecret() ([]byte, error) {
	b, key, err := configLoadSecret(c.Secret, c.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return b, nil
}

// configLoadSecret returns the master secret given by secret or file. On error, key names the
// setting at fault.
func configLoadSecret(secret, file string) (b []byte, key string, err error) {
	switch {
	case secret == "" && file == "":
		return nil, "secret", errors.New("set secret or secret_file")
	case secret != "" && file != "":
		return nil, "secret", errors.New("set only one of secret and secret_file")
	case secret != "":
		if len(secret) < configMinSecretBytes {
			return nil, "secret", fmt.Errorf("must be at least %d bytes, got %d", configMinSecretBytes, len(secret))
		}
		return []byte(secret), "", nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, "secret_file", fmt.Errorf("cannot read: %w", err)
	}
	b = bytes.TrimRight(data, "\r\n")
	if len(b) < configMinSecretBytes {
		return nil, "secret_file", fmt.Errorf("%s holds %d bytes, at least %d are needed", file, len(b), configMinSecretBytes)
	}
	return b, "", nil
}

// configEnsureDevSecret creates the development secret file at path, if it does not exist, with
// 32 random bytes hex-encoded (64 characters) and mode 0600. It reports whether it created it;
// an existing file is left untouched.
func configEnsureDevSecret(path string) (created bool, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return false, fmt.Errorf("generating a development secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("creating the development secret: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(raw))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // never leave a truncated secret behind
		return false, fmt.Errorf("writing the development secret: %w", err)
	}
	return true, nil
}
