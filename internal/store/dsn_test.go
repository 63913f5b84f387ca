package store

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	cases := []struct {
		dsn  string
		kind backendKind
		addr string
	}{
		{"postgres://u:p@h/db?sslmode=disable", kindPostgres, "postgres://u:p@h/db?sslmode=disable"},
		{"postgresql://h/db", kindPostgres, "postgresql://h/db"},
		{"sqlite:///var/lib/qual/qual.db", kindSQLite, "/var/lib/qual/qual.db"},
		{"sqlite://data/qual.db", kindSQLite, "data/qual.db"},
		{"sqlite:qual.db", kindSQLite, "qual.db"},
		{"/tmp/qual.db", kindSQLite, "/tmp/qual.db"},
		{"qual.db", kindSQLite, "qual.db"},
	}
	for _, c := range cases {
		got, err := parseDSN(c.dsn)
		if err != nil || got.kind != c.kind || got.addr != c.addr {
			t.Errorf("parseDSN(%q) = %+v, %v; want kind %d addr %q", c.dsn, got, err, c.kind, c.addr)
		}
	}
	for _, bad := range []string{"", "sqlite://", "sqlite:///x.db?mode=ro", "mysql://h/db", "sqlite::memory:", "file:x.db", "a#b"} {
		if _, err := parseDSN(bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("parseDSN(%q) error = %v, want ErrInvalidInput", bad, err)
		}
	}
	if _, err := parseDSN("mysql://root:hunter2@h/db"); strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %v", err)
	}
}

// FuzzParseDSN: parseDSN never panics, never leaks a password into an error, and a SQLite path
// it accepts round-trips through the sqlite:// form.
func FuzzParseDSN(f *testing.F) {
	for _, seed := range []string{"", "postgres://u:secret@h:5432/db?sslmode=disable", "postgresql://h/db",
		"sqlite:///abs/q.db", "sqlite://rel/q.db", "sqlite:q.db", "q.db", "/tmp/q.db", "sqlite::memory:",
		"file:q.db", "mysql://u:secret@h/db", "sqlite:///x?y", "a#b", "\x00", "sqlite://sqlite://x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		got, err := parseDSN(dsn)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			if strings.Contains(dsn, "://") && strings.Contains(dsn, "secret") && strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks credentials: %v", err)
			}
			return
		}
		if got.kind == kindPostgres {
			return
		}
		if got.addr == "" || strings.ContainsAny(got.addr, "?#\x00") {
			t.Fatalf("accepted bad sqlite path %q", got.addr)
		}
		again, err := parseDSN("sqlite://" + got.addr)
		if err != nil || again != got {
			t.Fatalf("sqlite path %q does not round-trip: %+v, %v", got.addr, again, err)
		}
	})
}
