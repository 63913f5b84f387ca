package store

import (
	"fmt"
	"strings"
)

// backendKind is the database a DSN selects.
type backendKind int

const (
	kindSQLite backendKind = iota + 1
	kindPostgres
)

// target is a parsed DSN: the backend plus what its driver needs (a file path for SQLite, the
// DSN itself for PostgreSQL).
type target struct {
	kind backendKind
	addr string
}

// parseDSN accepts "postgres://..." or "postgresql://..." for PostgreSQL, and
// "sqlite:///abs/path.db", "sqlite://rel/path.db", "sqlite:path.db" or a bare file path for SQLite.
func parseDSN(dsn string) (target, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return target{kind: kindPostgres, addr: dsn}, nil
	case strings.HasPrefix(dsn, "sqlite://"):
		return sqliteTarget(strings.TrimPrefix(dsn, "sqlite://"))
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqliteTarget(strings.TrimPrefix(dsn, "sqlite:"))
	case strings.Contains(dsn, "://"):
		return target{}, fmt.Errorf("store: dsn: unsupported scheme in %q: %w", redact(dsn), ErrInvalidInput)
	}
	return sqliteTarget(dsn)
}

// sqliteTarget checks a SQLite file path. Query strings are refused because the store sets the
// connection parameters itself; ":memory:" is refused because the store opens separate reader
// and writer connections, which must share one file.
func sqliteTarget(path string) (target, error) {
	switch {
	case path == "":
		return target{}, fmt.Errorf("store: dsn: empty sqlite path: %w", ErrInvalidInput)
	case strings.ContainsAny(path, "?#\x00"):
		return target{}, fmt.Errorf("store: dsn: sqlite path %q must not contain '?', '#' or NUL: %w", path, ErrInvalidInput)
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return target{}, fmt.Errorf("store: dsn: sqlite path %q: give a plain file path: %w", path, ErrInvalidInput)
	}
	return target{kind: kindSQLite, addr: path}, nil
}

// redact drops everything after the scheme so a password in a DSN never reaches a log.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		return dsn[:i] + "://..."
	}
	return "..."
}
