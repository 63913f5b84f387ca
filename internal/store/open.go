package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Open connects to the database a DSN names and applies pending migrations:
// "postgres://..." (or "postgresql://...") opens PostgreSQL; "sqlite:///path/file.db",
// "sqlite:path" or a plain file path opens (creating if needed) a SQLite file.
func Open(ctx context.Context, dsn string, opts ...Option) (Store, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if t.kind == kindPostgres {
		return openPostgres(ctx, t.addr, o)
	}
	return openSQLite(ctx, t.addr, o)
}

// openSQLite opens one writer connection and a pool of read-only connections. A single writer
// means concurrent writes queue in Go instead of failing with SQLITE_BUSY; WAL lets the readers
// run beside it. BEGIN IMMEDIATE (txlock) guards against other processes on the same file.
func openSQLite(ctx context.Context, path string, o options) (*sqlStore, error) {
	wr, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	wr.SetMaxOpenConns(1)
	if err := prepare(ctx, wr, sqliteDialect); err != nil {
		return nil, errors.Join(err, wr.Close())
	}
	rd, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite readers: %w", err), wr.Close())
	}
	rd.SetMaxOpenConns(o.maxConns)
	rd.SetMaxIdleConns(o.maxConns)
	return &sqlStore{d: sqliteDialect, wr: wr, rd: rd, opts: o}, nil
}

// sqliteDSN builds the modernc.org/sqlite connection string.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL is the documented safe setting for WAL: a crash never corrupts the file.
	q.Add("_pragma", "synchronous(NORMAL)")
	// Deleted content is overwritten, so an erased participant's words do not stay in free
	// pages of the file (see teamStore.forget for the write-ahead log).
	q.Add("_pragma", "secure_delete(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// openPostgres opens a pgx-backed database/sql pool, shared by reads and writes.
func openPostgres(ctx context.Context, dsn string, o options) (*sqlStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: parse dsn: %w", ErrInvalidInput)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)
	if err := prepare(ctx, db, postgresDialect); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return &sqlStore{d: postgresDialect, wr: db, rd: db, opts: o, dsn: dsn}, nil
}

// prepare checks the connection and migrates the schema.
func prepare(ctx context.Context, db *sql.DB, d dialect) error {
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: open %s: %w", d.name, err)
	}
	return migrate(ctx, db, d)
}
