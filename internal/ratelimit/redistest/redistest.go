// Package redistest gives tests a real Redis: the server named by QUAL_TEST_REDIS_URL, or else
// a private throwaway redis-server (Debian's redis-server package, found on PATH) listening
// only on a Unix socket in a temporary folder, with persistence off.
//
// Use one Server per test binary and close it in TestMain:
//
//	var rds = redistest.New()
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		rds.Close()
//		os.Exit(code)
//	}
//
//	func TestX(t *testing.T) { c := rds.Client(t); prefix := rds.Prefix(t) ... }
//
// A fault test that stops and starts the server uses NewPrivate, which always starts a
// server of its own, and Stop and Start.
package redistest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable holding an existing server's URL
// (redis://[:password@]host:port/db or unix:///path/to/redis.sock). Tests only touch keys
// under Prefix, so a shared server is safe.
const EnvURL = "QUAL_TEST_REDIS_URL"

// Server hands out clients of one Redis server, started on first use.
type Server struct {
	once    sync.Once
	err     error
	opts    *redis.Options
	private bool       // ignore EnvURL
	mu      sync.Mutex // serialises Stop and Start
	local   *process   // nil when EnvURL is used
	n       atomic.Int64
}

// New returns a Server; nothing starts until the first Client call.
func New() *Server { return &Server{} }

// NewPrivate returns a Server that always runs a private redis-server, even when EnvURL is
// set, so that a test may Stop and Start it.
func NewPrivate() *Server { return &Server{private: true} }

// Client returns a new client of the server, closed when the test ends; two calls give two
// independent connection pools, as two replicas would have. It fails the test, never skips
// it, when no server can be had.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	s.once.Do(s.start)
	if s.err != nil {
		t.Fatalf("redistest: %v", s.err)
	}
	c := redis.NewClient(s.opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix no other test of any process uses.
func (s *Server) Prefix(testing.TB) string {
	return fmt.Sprintf("qualtest:%d:%d:", os.Getpid(), s.n.Add(1))
}

// Close stops the private server and removes its files; it is a no-op for EnvURL.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local != nil {
		s.local.stop()
	}
}

// Stop kills the private server, as a crash would: clients' commands fail until Start.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local == nil {
		return fmt.Errorf("redistest: Stop needs a private server (NewPrivate), started by a Client call")
	}
	s.local.kill()
	return nil
}

// Start starts the private server again after Stop, empty, on the same socket: clients
// reconnect by themselves. It returns once the server answers PING.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local == nil {
		return fmt.Errorf("redistest: Start needs a private server (NewPrivate), started by a Client call")
	}
	return s.local.run()
}

func (s *Server) start() {
	if u := os.Getenv(EnvURL); u != "" && !s.private {
		s.opts, s.err = redis.ParseURL(u)
		if s.err != nil {
			s.err = fmt.Errorf("%s: %w", EnvURL, s.err)
			return
		}
		s.err = ping(s.opts, 5*time.Second)
		return
	}
	s.local, s.err = startProcess()
	if s.err == nil {
		s.opts = &redis.Options{Network: "unix", Addr: s.local.socket}
	}
}

// ping waits until the server answers PING or the timeout passes.
func ping(opts *redis.Options, timeout time.Duration) error {
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}
