package store_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qual.cx/operator/internal/store/pgtest"
	"qual.cx/operator/internal/store/storetest"
)

// pg is this test binary's PostgreSQL: QUAL_TEST_POSTGRES_DSN, or a private server started on
// first use and stopped in TestMain.
var pg = pgtest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

func sqliteDSN(t *testing.T) string { return backends[0].dsn(t) }

func postgresDSN(t *testing.T) string { return backends[1].dsn(t) }

// backend is a fresh database of one backend, plus how to reach it with database/sql directly,
// for tests that write or read rows behind the store's back.
type backend struct {
	name   string
	dsn    func(tb testing.TB) string
	driver string
	raw    func(dsn string) string // the driver's data source for dsn
}

// open opens the backend's database dsn behind the store's back, closed when the test ends.
func (be backend) open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(be.driver, be.raw(dsn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var backends = []backend{
	{"sqlite", func(tb testing.TB) string { return "sqlite://" + filepath.Join(tb.TempDir(), "qual.db") }, "sqlite",
		func(dsn string) string { return strings.TrimPrefix(dsn, "sqlite://") }},
	{"postgres", func(tb testing.TB) string { return pg.Database(tb) }, "pgx", func(dsn string) string { return dsn }},
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, sqliteDSN)
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, postgresDSN)
}
