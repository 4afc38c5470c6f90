// Package migrations holds Usher's database schema: numbered, forward-only
// SQL files per dialect, embedded in the binary. The runner lives in
// storage/sqlstore; it applies the files in order and records each one.
//
// A file is named NNNN_description.sql. Once released, a file never changes:
// a change to the schema is a new file, written for every dialect.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// PostgreSQL returns the PostgreSQL migrations.
func PostgreSQL() fs.FS { return sub("postgres") }

// SQLite returns the SQLite migrations.
func SQLite() fs.FS { return sub("sqlite") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded: unreachable
	}
	return f
}
