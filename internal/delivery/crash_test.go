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

// crashEnv makes the test binary a dispatcher process for the crash tests: DSN, team, webhook
// id, URL, secret and RescueAfter (0s: the default), separated by spaces.
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
	rescueAfter, err := time.ParseDuration(f[5])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	svc, err := delivery.New(context.Background(), delivery.Config{Store: s, Directory: dir,
		Client: egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20), Schedule: fastSchedule,
		Workers: 16, InFlight: 16, PollInterval: 20 * time.Millisecond, RescueAfter: rescueAfter, Logger: logr.Discard()})
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
			rc.setAnswer(func(received, int, http.Header) int {
				time.Sleep(2 * time.Millisecond) // sends are in flight when the process dies
				return http.StatusOK
			})
			hook := store.WebhookID(uuid.NewString())
			for i := range events {
				emit(t, ts, "interview.completed", fmt.Sprintf("iv-%d", i%50))
			}

			cmd := startDispatcherProcess(t, dsn, team, hook, rc.srv.URL, secret, 3*time.Second)
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

// startDispatcherProcess runs a dispatcher in a process of its own (crashHelper), to be
// killed.
func startDispatcherProcess(t *testing.T, dsn string, team store.TeamID, hook store.WebhookID, url, secret string, rescueAfter time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %s %s %s", crashEnv, dsn, team, hook, url, secret, rescueAfter))
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
	return cmd
}

// A delivery whose dispatcher was killed mid-send stays running in the queue until it is
// rescued, and the later events of its subject wait behind it. With the default RescueAfter
// it is sent again about a minute after its attempt began (River's rescuer looks every 30 s),
// not a quarter of an hour, and not before that minute (a run may last 30 s, so none is sent
// twice at once): once more, under the same webhook-id, and then the next event of its
// subject.
func TestADeliveryLeftRunningIsSentAgainWithinTheRescueBound(t *testing.T) {
	// A minute, then up to one more look of River's rescuer (every 30 s), a new leader and a
	// poll: not the quarter of an hour the rescue once took.
	const bound = time.Minute + 30*time.Second + 15*time.Second
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			dsn := b.DSN(t)
			s := pgtest.Open(t, dsn)
			team, hook := store.TeamID(uuid.NewString()), store.WebhookID(uuid.NewString())
			ts := s.Team(team)
			secret := newSecret(t)
			rc := newReceiver(t, secret)
			first, stuck, release := time.Time{}, make(chan struct{}), make(chan struct{})
			t.Cleanup(func() { close(release) }) // before the receiver closes, which waits for it
			hung := emit(t, ts, "team.member_added", "team-1")
			next := emit(t, ts, "team.member_removed", "team-1")
			rc.setAnswer(func(r received, n int, _ http.Header) int {
				if r.id == string(hung.ID) && n == 1 {
					first = r.at
					close(stuck)
					<-release // in flight when its dispatcher dies
				}
				return http.StatusOK
			})

			cmd := startDispatcherProcess(t, dsn, team, hook, rc.srv.URL, secret, 0)
			select {
			case <-stuck:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the first delivery was never sent")
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL, mid-send
				t.Fatal(err)
			}
			_ = cmd.Wait()

			dir := &directory{}
			dir.add(delivery.Endpoint{Team: team, ID: hook, URL: rc.srv.URL, Events: []string{"*"}, Enabled: true,
				Secrets: []string{secret}, Namespace: "team-a", Name: "hook"})
			start(t, delivery.Config{Store: s, Directory: dir, Client: egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20),
				Schedule: fastSchedule, Workers: 4, PollInterval: 20 * time.Millisecond, Logger: logr.Discard()})
			eventually(t, bound, "both events delivered", func() bool {
				got := rc.delivered()
				return got[string(hung.ID)] == 1 && got[string(next.ID)] == 1
			})
			time.Sleep(2 * time.Second) // a second rescue or send would show by now
			var again, after time.Time
			for _, r := range rc.requests() {
				switch r.id {
				case string(hung.ID):
					again = r.at
				case string(next.ID):
					after = r.at
				}
			}
			if took := again.Sub(first); took < delivery.DefaultRescueAfter-time.Second || took > bound {
				t.Fatalf("sent again %s after the attempt the dead dispatcher began, want %s to %s", took, delivery.DefaultRescueAfter, bound)
			}
			rc.mu.Lock()
			sends := rc.seen[string(hung.ID)]
			rc.mu.Unlock()
			if sends != 2 || len(rc.requests()) != 2 || after.Before(again) {
				t.Fatalf("%d sends of the stuck event (want the dead one and one more), %d answered, the next at %s and it at %s",
					sends, len(rc.requests()), after, again)
			}
			t.Logf("sent again %s after the attempt the dead dispatcher began", again.Sub(first).Round(time.Second))
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
