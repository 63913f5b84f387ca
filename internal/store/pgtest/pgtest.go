// Package pgtest gives tests a real PostgreSQL: the server named by QUAL_TEST_POSTGRES_DSN, or
// else a private throwaway server started from Debian's postgresql package (initdb and pg_ctl
// under /usr/lib/postgresql/*/bin), listening only on a Unix socket in a temporary folder.
//
// Use one Server per test binary and close it in TestMain:
//
//	var pg = pgtest.New()
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		pg.Close()
//		os.Exit(code)
//	}
//
//	func TestX(t *testing.T) { dsn := pg.Database(t) ... }
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding an existing server's URL DSN
// (postgres://user:pass@host:port/db). Its user must be allowed to CREATE DATABASE.
const EnvDSN = "QUAL_TEST_POSTGRES_DSN"

// Server hands out fresh databases on one PostgreSQL server, started on first use.
type Server struct {
	once  sync.Once
	err   error
	admin *url.URL // DSN of the maintenance database
	local *cluster // nil when EnvDSN is used
	n     atomic.Int64
}

// New returns a Server; nothing starts until the first Database call.
func New() *Server { return &Server{} }

// Database creates an empty database for one test, drops it when the test ends, and returns
// its DSN. It fails the test, never skips it, when no server can be had.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	s.once.Do(s.start)
	if s.err != nil {
		t.Fatalf("pgtest: %v", s.err)
	}
	name := fmt.Sprintf("qual_test_%d_%d", os.Getpid(), s.n.Add(1))
	if err := s.admin1(fmt.Sprintf("CREATE DATABASE %s", name)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := s.admin1(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	u := *s.admin
	u.Path = "/" + name
	return u.String()
}

// Close stops the private server and removes its files; it is a no-op for EnvDSN.
func (s *Server) Close() {
	if s.local != nil {
		s.local.stop()
	}
}

func (s *Server) start() {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		s.admin, s.err = url.Parse(dsn)
		return
	}
	s.local, s.err = startCluster()
	if s.err == nil {
		s.admin = s.local.dsn()
	}
}

// admin1 runs one statement on the maintenance database.
func (s *Server) admin1(sql string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.admin.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
