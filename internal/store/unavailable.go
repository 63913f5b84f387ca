package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsUnavailable reports whether err says the database cannot be reached or cannot serve
// right now, so the request may be retried later (503) rather than having failed (500): a
// failed connection attempt, a refused, reset or closed connection, a timeout, a server
// that is shutting down, starting up, or out of connections or other resources, or a SQLite
// file locked by another process. A canceled
// context is not: the caller went away.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var (
		connect *pgconn.ConnectError
		pg      *pgconn.PgError
		netErr  net.Error
		lite    *sqlite.Error
	)
	switch {
	case errors.As(err, &connect):
		return true
	case errors.As(err, &lite):
		// Another process (a backup, an sqlite3 shell) holds the file's lock past the busy
		// timeout: the database is there but cannot serve now.
		return lite.Code()&0xff == sqlite3.SQLITE_BUSY || lite.Code()&0xff == sqlite3.SQLITE_LOCKED
	case errors.As(err, &pg):
		return unavailableState(pg.Code)
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, pgconn.ErrConnClosed),
		pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// unavailableState tells the SQLSTATEs of a server that cannot serve now: connection
// exceptions (class 08), insufficient resources (class 53, such as too many connections),
// and an administrator's or a crash's shutdown, or a start not yet done (57P01..57P03).
func unavailableState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"):
		return true
	case code == "57P01", code == "57P02", code == "57P03":
		return true
	}
	return false
}
