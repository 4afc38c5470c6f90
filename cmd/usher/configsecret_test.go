package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestConfigDevSecret changes the working directory, so it cannot run in parallel.
func TestConfigDevSecret(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	path := filepath.Join(dir, "usher-dev.secret")

	_, _, err := loadConfig("", []string{"USHER_LOG_LEVEL=loud"}, true)
	if err == nil {
		t.Fatal("invalid dev config accepted")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an invalid configuration created the secret file (stat: %v)", err)
	}

	c, notes, err := loadConfig("", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if !notes.DevSecretCreated || c.SecretFile != configDevSecretFile {
		t.Fatalf("notes %+v, secret_file %q: want the dev secret created", notes, c.SecretFile)
	}
	first := configTestCheckDevSecret(t, path)
	secret, err := c.masterSecret()
	if err != nil || string(secret) != first {
		t.Errorf("masterSecret = %q, %v; want the file content %q", secret, err, first)
	}

	_, notes, err = loadConfig("", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if notes.DevSecretCreated {
		t.Error("the dev secret was created again")
	}
	if again := configTestCheckDevSecret(t, path); again != first {
		t.Errorf("the dev secret changed from %q to %q", first, again)
	}
}

func TestConfigEnsureDevSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name        string
		existing    string // content written first; "" for none
		wantCreated bool
	}{
		{"missing", "", true},
		{"present", "keep me\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tt.name)
			if tt.existing != "" {
				if err := os.WriteFile(path, []byte(tt.existing), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			created, err := configEnsureDevSecret(path)
			if err != nil || created != tt.wantCreated {
				t.Fatalf("got %v, %v; want created %v", created, err, tt.wantCreated)
			}
			if tt.existing == "" {
				configTestCheckDevSecret(t, path)
				return
			}
			if data, _ := os.ReadFile(path); string(data) != tt.existing {
				t.Errorf("existing file overwritten: %q", data)
			}
		})
	}
	if _, err := configEnsureDevSecret(filepath.Join(dir, "no", "such", "dir")); err == nil {
		t.Error("no error for an unwritable path")
	}
}

func TestConfigMasterSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name    string
		cfg     Config
		want    string
		wantErr string
	}{
		{"secret", Config{Secret: configTestSecret}, configTestSecret, ""},
		{"file, trailing newline trimmed", Config{SecretFile: file("nl", configTestSecret+"\r\n")}, configTestSecret, ""},
		{"short file", Config{SecretFile: file("short", "abc\n")}, "", "secret_file: "},
		{"neither", Config{}, "", "secret: set secret or secret_file"},
		{"both", Config{Secret: configTestSecret, SecretFile: file("both", configTestSecret)}, "", "secret: set only one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.cfg.masterSecret()
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// configTestCheckDevSecret checks the mode and format of a development secret file and returns
// its content.
func configTestCheckDevSecret(t *testing.T, path string) string {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).Match(data) {
		t.Errorf("content %q, want 64 hex characters", data)
	}
	return string(data)
}
