package redistest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
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

func TestStopAndStartKeepTheClient(t *testing.T) {
	t.Setenv(EnvURL, "redis://127.0.0.1:1") // a private server ignores it
	s := NewPrivate()
	defer s.Close()
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Start, on the same client: %v", err)
	}
	if v, err := c.Get(ctx, "k").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET after a restart = %q, %v; want an empty server", v, err)
	}
}

func TestStopNeedsAPrivateServer(t *testing.T) {
	if err := New().Stop(); err == nil {
		t.Fatal("Stop on a server never started: want an error")
	}
}
