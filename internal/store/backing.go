package store

import (
	"database/sql"
	"fmt"
)

// Backing is the database under a store, for a job queue that keeps its tables beside the
// store's (and runs its own migrations there).
type Backing struct {
	// Backend is "sqlite" or "postgres".
	Backend string
	// Writer is the store's single SQLite writer connection: a queue that shares it takes
	// turns with the store's writes instead of failing with SQLITE_BUSY. Nil on PostgreSQL.
	Writer *sql.DB
	// DSN is the PostgreSQL connection string, for a pool of the queue's own (it needs
	// LISTEN/NOTIFY and a driver of its own). Empty on SQLite. Never log it.
	DSN string
}

// BackingOf returns the database under s; a Store that is not one of Open's cannot say.
func BackingOf(s Store) (Backing, error) {
	ss, ok := s.(*sqlStore)
	if !ok {
		return Backing{}, fmt.Errorf("store: %T has no database of its own: %w", s, ErrInvalidInput)
	}
	if ss.d.name == postgresDialect.name {
		return Backing{Backend: ss.d.name, DSN: ss.dsn}, nil
	}
	return Backing{Backend: ss.d.name, Writer: ss.wr}, nil
}
