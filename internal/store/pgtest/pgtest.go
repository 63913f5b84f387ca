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
//
// A fault test that stops and starts the server uses NewPrivate, which always starts a
// server of its own, and Stop and Start.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"qual.cx/operator/internal/store"
)

// EnvDSN names the environment variable holding an existing server's URL DSN
// (postgres://user:pass@host:port/db). Its user must be allowed to CREATE DATABASE.
const EnvDSN = "QUAL_TEST_POSTGRES_DSN"

// Server hands out fresh databases on one PostgreSQL server, started on first use.
type Server struct {
	once    sync.Once
	err     error
	admin   *url.URL // DSN of the maintenance database
	private bool     // ignore EnvDSN
	local   *cluster // nil when EnvDSN is used
	n       atomic.Int64
}

// New returns a Server; nothing starts until the first Database call.
func New() *Server { return &Server{} }

// NewPrivate returns a Server that always runs a private server, even when EnvDSN is set, so
// that a test may Stop and Start it.
func NewPrivate() *Server { return &Server{private: true} }

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

// Stop stops the private server at once, as a crash would, keeping its data: connections
// fail until Start. Database's cleanups need the server running.
func (s *Server) Stop() error {
	if s.local == nil {
		return errors.New("pgtest: Stop needs a private server (NewPrivate), started by a Database call")
	}
	return s.local.halt()
}

// Start starts the private server again after Stop, with its data, on the same socket; it
// returns once the server accepts connections.
func (s *Server) Start() error {
	if s.local == nil {
		return errors.New("pgtest: Start needs a private server (NewPrivate), started by a Database call")
	}
	return s.local.start()
}

func (s *Server) start() {
	if dsn := os.Getenv(EnvDSN); dsn != "" && !s.private {
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

// Backend is a fresh, empty database of one store backend, as a DSN.
type Backend struct {
	Name string
	DSN  func(tb testing.TB) string
}

// Backends are both store backends for a test to run on: SQLite (a file in the test's
// temporary folder) and PostgreSQL (a database on s).
func (s *Server) Backends() []Backend {
	return []Backend{
		{"sqlite", func(tb testing.TB) string { return "sqlite://" + filepath.Join(tb.TempDir(), "qual.db") }},
		{"postgres", s.Database},
	}
}

// Open opens the store at dsn (either backend) for one test and closes it when the test ends.
func Open(tb testing.TB, dsn string) store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
