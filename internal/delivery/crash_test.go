package delivery_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"

	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
)

// crashEnv makes the test binary a dispatcher process for the crash test: DSN, team, webhook
// id, URL and secret, separated by spaces.
const crashEnv = "QUAL_DELIVERY_CRASH_HELPER"

func crashHelper() {
	f := strings.Fields(os.Getenv(crashEnv))
	s, err := store.Open(context.Background(), f[0])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	dir := &directory{}
	dir.add(delivery.Endpoint{Team: store.TeamID(f[1]), ID: store.WebhookID(f[2]), URL: f[3], Events: []string{"*"},
		Enabled: true, Secrets: []string{f[4]}, Namespace: "team-a", Name: "hook"})
	svc, err := delivery.New(context.Background(), delivery.Config{Store: s, Directory: dir,
		Client: egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20), Schedule: fastSchedule,
		Workers: 16, InFlight: 16, PollInterval: 20 * time.Millisecond, RescueAfter: 3 * time.Second, Logger: logr.Discard()})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	svc.Start(context.Background())
	fmt.Println("running")
	select {}
}

// kill -9 of a dispatcher in the middle of 2,000 deliveries, then a restart: every event
// reaches the receiver at least once, and every duplicate carries the same webhook-id and
// body (receivers drop duplicates by webhook-id).
func TestEveryEventSurvivesAKilledDispatcher(t *testing.T) {
	const events = 2000
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			dsn := b.DSN(t)
			s := pgtest.Open(t, dsn)
			team := store.TeamID(uuid.NewString())
			ts := s.Team(team)
			secret := newSecret(t)
			rc := newReceiver(t, secret)
			rc.answer = func(received, int, http.Header) int {
				time.Sleep(2 * time.Millisecond) // sends are in flight when the process dies
				return http.StatusOK
			}
			hook := store.WebhookID(uuid.NewString())
			for i := range events {
				emit(t, ts, "interview.completed", fmt.Sprintf("iv-%d", i%50))
			}

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %s %s", crashEnv, dsn, team, hook, rc.srv.URL, secret))
			out, err := cmd.StdoutPipe()
			if err == nil {
				err = cmd.Start()
			}
			if err != nil {
				t.Fatal(err)
			}
			if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "running" {
				_ = cmd.Process.Kill()
				t.Fatalf("dispatcher: %q", line)
			}
			eventually(t, 120*time.Second, "the first deliveries", func() bool { return len(rc.delivered()) >= events/5 })
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			_ = cmd.Wait()
			before := len(rc.delivered())
			t.Logf("killed after %d of %d events", before, events)
			if before >= events {
				t.Fatal("the dispatcher finished before it was killed; the test proves nothing")
			}

			dir := &directory{}
			dir.add(delivery.Endpoint{Team: team, ID: hook, URL: rc.srv.URL, Events: []string{"*"}, Enabled: true,
				Secrets: []string{secret}, Namespace: "team-a", Name: "hook"})
			start(t, delivery.Config{Store: s, Directory: dir, Client: egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20),
				Schedule: fastSchedule, Workers: 16, InFlight: 16, PollInterval: 20 * time.Millisecond, RescueAfter: 3 * time.Second,
				Logger: logr.Discard()})
			// Generous: CI runs this under the race detector beside other suites on two cores.
			eventually(t, 300*time.Second, "every event", func() bool { return len(rc.delivered()) == events })

			bodies := map[string]string{}
			dups := 0
			for _, r := range rc.requests() {
				if prev, ok := bodies[r.id]; ok {
					dups++
					if prev != string(r.body) {
						t.Fatalf("duplicate of %s with another body", r.id)
					}
				}
				bodies[r.id] = string(r.body)
			}
			t.Logf("%d events, %d requests, %d duplicates (same webhook-id)", events, len(rc.requests()), dups)
			eventually(t, 30*time.Second, "the log to show every delivery succeeded", func() bool {
				ds := deliveries(t, ts, hook)
				for _, d := range ds {
					if d.Status != store.DeliverySucceeded {
						return false
					}
				}
				return len(ds) == events
			})
		})
	}
}

// Two dispatchers share one queue: while both are healthy every event is delivered once, and
// both do part of the work.
func TestTwoDispatchersShareTheQueue(t *testing.T) {
	dsn := backends[1].DSN(t)
	f := newFixture(t, dsn, func(cfg *delivery.Config) { cfg.ID = "first" })
	var bySecond atomic.Int64
	cfg := f.cfg
	cfg.Store, cfg.ID = pgtest.Open(t, dsn), "second"
	cfg.Client = countingClient(&bySecond)
	start(t, cfg)
	for i := range 300 {
		emit(t, f.ts, "interview.completed", fmt.Sprintf("iv-%d", i%30))
	}
	eventually(t, 60*time.Second, "300 deliveries", func() bool { return len(f.rc.delivered()) == 300 })
	time.Sleep(300 * time.Millisecond)
	if dup := duplicates(f.rc.delivered()); dup != 0 {
		t.Fatalf("%d events delivered twice by healthy dispatchers", dup)
	}
	second := bySecond.Load()
	if second == 0 || second == 300 {
		t.Fatalf("the work was not shared: the second dispatcher sent %d of 300", second)
	}
	t.Logf("first sent %d, second %d", 300-second, second)
}

// countingClient is the loopback-allowed client, counting its requests.
func countingClient(n *atomic.Int64) *http.Client {
	c := egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20)
	c.Transport = counting{next: c.Transport, n: n}
	return c
}

type counting struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}
