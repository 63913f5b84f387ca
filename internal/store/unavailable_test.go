package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestIsUnavailable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store: save idempotency record %q: %w", "k", err) }
	dial := &net.OpError{Op: "dial", Net: "unix", Err: &net.AddrError{Err: "connect: no such file or directory"}}
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{ErrConflict, false},
		{ErrNotFound, false},
		{errors.New("syntax error"), false},
		{&pgconn.PgError{Code: "23505"}, false}, // unique violation
		{&pgconn.PgError{Code: "40001"}, false}, // serialization failure: retry the transaction, not later
		{context.Canceled, false},               // the caller left
		{&pgconn.PgError{Code: "57P01"}, true},  // terminating connection due to administrator command
		{&pgconn.PgError{Code: "57P03"}, true},  // the database system is starting up
		{&pgconn.PgError{Code: "53300"}, true},  // too many connections
		{&pgconn.PgError{Code: "08006"}, true},  // connection failure
		{driver.ErrBadConn, true},
		{sql.ErrConnDone, true},
		{fmt.Errorf("begin: %w", pgconn.ErrConnClosed), true}, // "conn closed"
		{dial, true},
		{syscall.ECONNREFUSED, true},
		{syscall.ECONNRESET, true},
		{io.ErrUnexpectedEOF, true},
		{context.DeadlineExceeded, true},
	}
	for _, c := range cases {
		if got := IsUnavailable(wrap(c.err)); c.err != nil && got != c.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if IsUnavailable(nil) {
		t.Error("IsUnavailable(nil) = true")
	}
}

// A SQLite file another process holds locked (a backup, an sqlite3 shell) past the busy
// timeout is a database that cannot serve now: 503, not 500.
func TestLockedSQLiteIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	holder, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	ctx := context.Background()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if err == nil {
		t.Fatal("a write went through an exclusive lock")
	}
	if !IsUnavailable(fmt.Errorf("store: append message: %w", err)) {
		t.Fatalf("%v is not unavailable", err)
	}
	if IsUnavailable(fmt.Errorf("store: %w", errors.New("UNIQUE constraint failed"))) {
		t.Fatal("any error is unavailable")
	}
}
