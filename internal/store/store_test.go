package store_test

import (
	"os"
	"path/filepath"
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

func sqliteDSN(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "qual.db")
}

func postgresDSN(t *testing.T) string {
	return pg.Database(t)
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, sqliteDSN)
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, postgresDSN)
}
