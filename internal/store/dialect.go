package store

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the backends. Queries are written once, with '?'
// placeholders, and rebound here.
type dialect struct {
	name       string
	goose      goose.Dialect
	migrations string // folder under migrations/
	numbered   bool   // $1, $2 ... placeholders
	forUpdate  string // row-lock suffix for read-modify-write; SQLite has one writer instead
	skipLocked string // row-lock suffix that passes over rows another transaction holds
	forShare   string // row-lock suffix that keeps rows from being deleted or changed
	timeArg    func(time.Time) any
	isUnique   func(error) bool
	// lostRace tells an error that aborted a transaction only because of concurrent ones
	// (a deadlock or serialization failure): the work may succeed when decided again.
	lostRace func(error) bool
	// holdsBytes is a condition true when the BLOB column %s holds the bytes of the one
	// placeholder it has.
	holdsBytes string
	// foldASCII is an expression of the one %s that puts its ASCII letters, and no others,
	// in lower case: e-mail addresses compare so across the project (v1alpha1.EmailKey), and a
	// fold of every letter would make another mailbox match (the Kelvin sign folds to k).
	foldASCII string
	// replayLock and replayLockShared take, for the rest of the transaction, the lock that
	// orders erasures (exclusive) against idempotent answers being recorded (shared); ""
	// where writes are serialized anyway.
	replayLock, replayLockShared string
}

// replayLockKey names the advisory lock of replayLock.
const replayLockKey = 7_151_934_227

var sqliteDialect = dialect{
	name:       "sqlite",
	goose:      goose.DialectSQLite3,
	migrations: "migrations/sqlite",
	// SQLite has no time type: INTEGER microseconds compare exactly and sort correctly.
	timeArg: func(t time.Time) any { return t.UnixMicro() },
	isUnique: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) &&
			(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	// One writer: transactions never interleave, so none is aborted for another's sake.
	lostRace:   func(error) bool { return false },
	holdsBytes: "instr(%s, ?) > 0",
	foldASCII:  "lower(%s)", // SQLite's own lower() folds ASCII only
}

var postgresDialect = dialect{
	name:       "postgres",
	goose:      goose.DialectPostgres,
	migrations: "migrations/postgres",
	numbered:   true,
	forUpdate:  " FOR UPDATE",
	skipLocked: " FOR UPDATE SKIP LOCKED",
	forShare:   " FOR SHARE",
	timeArg:    func(t time.Time) any { return t },
	isUnique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
	lostRace: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
	},
	holdsBytes:       "position(?::bytea in %s) > 0",
	foldASCII:        "translate(%s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')", // lower() folds every letter
	replayLock:       "SELECT pg_advisory_xact_lock(" + strconv.Itoa(replayLockKey) + ")",
	replayLockShared: "SELECT pg_advisory_xact_lock_shared(" + strconv.Itoa(replayLockKey) + ")",
}

// rebind turns '?' placeholders into $n for PostgreSQL. The store's SQL never has '?' inside a
// literal, so a plain scan is enough.
func (d dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for _, r := range q {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// timePtrArg encodes an optional time; nil is SQL NULL.
func (d dialect) timePtrArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.timeArg(*t)
}
