package redistest

import (
	"context"
	"strings"
	"testing"
)

func TestMissingServerNamesThePackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := startProcess()
	if err == nil || !strings.Contains(err.Error(), "Debian's redis-server package") {
		t.Fatalf("startProcess without redis-server on PATH: %v, want a hint naming the package", err)
	}
}

func TestClientAnswersAndStops(t *testing.T) {
	s := New()
	c := s.Client(t)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if a, b := s.Prefix(t), s.Prefix(t); a == b {
		t.Fatalf("two prefixes are both %q", a)
	}
	s.Close()
	if s.local != nil && s.local.cmd.ProcessState == nil {
		t.Fatal("Close left redis-server running")
	}
}
