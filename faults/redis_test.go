package faults_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/ratelimit/redistest"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
)

// countingLimiter counts the decisions that reach the limiter it wraps (Redis), and those
// that failed.
type countingLimiter struct {
	ratelimit.Limiter
	calls, failed atomic.Int64
}

func (c *countingLimiter) Allow(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Result, error) {
	c.calls.Add(1)
	r, err := c.Limiter.Allow(ctx, key, l, n)
	if err != nil {
		c.failed.Add(1)
	}
	return r, err
}

func (c *countingLimiter) Peek(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	c.calls.Add(1)
	r, err := c.Limiter.Peek(ctx, key, l)
	if err != nil {
		c.failed.Add(1)
	}
	return r, err
}

// redisFixture is a control plane, a store, and a private Redis the test stops and starts.
type redisFixture struct {
	cfg *rest.Config
	k8s client.Client
	db  store.Store
	rds *redistest.Server
}

// TestRedisOutage kills the Redis that REST replicas share their rate limits on, under
// traffic, and starts it again, in both fail modes: closed answers 503 with Retry-After (never
// 500) and fails /ready while it is down; open keeps serving with each replica enforcing the
// plan limits on its own and stays ready. Both go back to the shared budget by themselves,
// without a restart, and log the outage once, not per request.
func TestRedisOutage(t *testing.T) {
	cfg, k8s := controlPlane(t)
	db, closeStore, err := testenv.TempStore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	rds := redistest.NewPrivate()
	t.Cleanup(rds.Close)
	f := redisFixture{cfg: cfg, k8s: k8s, db: db, rds: rds}
	t.Run("closed", f.closed)
	t.Run("open", f.open)
}

func (f redisFixture) closed(t *testing.T) {
	failoverLogs, serverLogs := &logLines{}, &logLines{}
	redis := &countingLimiter{Limiter: ratelimit.NewRedis(f.rds.Client(t), f.rds.Prefix(t))}
	lim := ratelimit.NewFailover(redis, ratelimit.FailoverOptions{Mode: ratelimit.FailClosed, Logger: failoverLogs.logger()})
	base := startReplica(t, f.cfg, replicaOptions{store: f.db, limiter: lim, requests: 1 << 20, logger: serverLogs.logger()})
	c := &apiClient{base: base, key: newTeamKey(t, f.k8s, "redis-closed")}
	waitKey(t, c)
	c.expect(t, "GET", "/ready", "", http.StatusOK)

	// Traffic: listing and /usage (which peeks at the budgets) from four clients.
	var answers tally
	var recoveredAt atomic.Int64 // first 200 after Redis came back, Unix nanoseconds
	var upAt atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		path := "/campaigns?limit=5"
		if g == 3 {
			path = "/usage"
		}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, hdr, body := c.send("GET", path, "")
				switch {
				case status == http.StatusOK:
					answers.add("200")
					if up := upAt.Load(); up != 0 {
						recoveredAt.CompareAndSwap(0, time.Now().UnixNano())
					}
				case unavailable(status, hdr, body):
					answers.add("503")
				default:
					answers.add(strconv.Itoa(status))
					t.Errorf("GET %s: %d %s, want 200 or 503 with Retry-After", path, status, body)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)

	if err := f.rds.Stop(); err != nil {
		t.Fatal(err)
	}
	took, body := readyWithin(t, c, "/ready turns not ready", 10*time.Second, http.StatusServiceUnavailable)
	t.Logf("/ready said 503 %v after Redis was killed: %s", took.Round(time.Millisecond), strings.TrimSpace(string(body)))
	if _, msg := errorOf(body); !strings.Contains(msg, "Rate limiting") {
		t.Errorf("/ready while Redis is down does not name rate limiting: %s", body)
	}
	for _, path := range []string{"/campaigns", "/usage"} {
		if status, hdr, body := c.send("GET", path, ""); !unavailable(status, hdr, body) {
			t.Errorf("GET %s while Redis is down: %d %v %s, want 503 with Retry-After", path, status, hdr, body)
		}
	}
	// A dead Redis is asked about once per back-off, not once per request.
	calls, served := redis.calls.Load(), answers.get("503")
	time.Sleep(3 * time.Second)
	calls, served = redis.calls.Load()-calls, answers.get("503")-served
	t.Logf("in 3s of outage: %d requests answered 503, %d decisions reached Redis", served, calls)
	if served < 50 {
		t.Errorf("only %d requests answered in 3s of outage", served)
	}
	if calls > 3+2 { // one try per 1s back-off, and slack for a try under way at each end
		t.Errorf("%d decisions asked the dead Redis in 3s, want about one per second", calls)
	}

	if err := f.rds.Start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	upAt.Store(up.UnixNano())
	took, _ = readyWithin(t, c, "/ready turns ready", 10*time.Second, http.StatusOK)
	t.Logf("/ready said 200 %v after Redis answered again", took.Round(time.Millisecond))
	waitFor(t, "requests succeed again", 10*time.Second, func() bool { return recoveredAt.Load() != 0 })
	t.Logf("requests succeeded again %v after Redis answered", time.Duration(recoveredAt.Load()-up.UnixNano()).Round(time.Millisecond))
	close(stop)
	wg.Wait()
	if answers.get("503") == 0 {
		t.Error("no request was answered 503 while Redis was down")
	}
	if failed := redis.failed.Load(); failed == 0 {
		t.Error("no decision reached the dead Redis")
	}
	t.Logf("answers: %s; decisions reaching Redis: %d, of which failed: %d", &answers, redis.calls.Load(), redis.failed.Load())
	if down, back := failoverLogs.count("unavailable"), failoverLogs.count("answers again"); down != 1 || back != 1 {
		t.Errorf("the limiter logged %d outages and %d recoveries, want 1 and 1", down, back)
	}
	if n := serverLogs.count("rate limiter unavailable"); n != 0 {
		t.Errorf("the server logged the outage %d times, once per refused request; the limiter logs it once", n)
	}
}

func (f redisFixture) open(t *testing.T) {
	const quota = 20 // requests per minute: one comes back every 3s
	prefix := f.rds.Prefix(t)
	logsA, logsB := &logLines{}, &logLines{}
	limA := ratelimit.NewFailover(ratelimit.NewRedis(f.rds.Client(t), prefix), ratelimit.FailoverOptions{Mode: ratelimit.FailOpen, Logger: logsA.logger()})
	limB := ratelimit.NewFailover(ratelimit.NewRedis(f.rds.Client(t), prefix), ratelimit.FailoverOptions{Mode: ratelimit.FailOpen, Logger: logsB.logger()})
	baseA := startReplica(t, f.cfg, replicaOptions{store: f.db, limiter: limA, requests: quota})
	baseB := startReplica(t, f.cfg, replicaOptions{store: f.db, limiter: limB, requests: quota})
	// The other team's key waits for the replicas and drives the limiters back to Redis; its
	// budget is its own. It is created after the team's key, so once a replica knows it, it
	// knows the team's key too (the cache delivers objects in order), and waiting spends
	// nothing of the team's budget.
	key, other := newTeamKey(t, f.k8s, "redis-open"), newTeamKey(t, f.k8s, "redis-other")
	a, b := &apiClient{base: baseA, key: key}, &apiClient{base: baseB, key: key}
	otherA, otherB := &apiClient{base: baseA, key: other}, &apiClient{base: baseB, key: other}
	waitKey(t, otherA)
	waitKey(t, otherB)

	// Before: one budget shared through Redis.
	if n := spend(t, a, "before the outage, replica A"); n < quota || n > quota+1 {
		t.Fatalf("replica A allowed %d requests of a shared budget of %d", n, quota)
	}
	if status, _ := b.do("GET", "/campaigns?limit=1", ""); status != http.StatusTooManyRequests {
		t.Fatalf("replica B after A spent the shared budget: %d, want 429", status)
	}

	if err := f.rds.Stop(); err != nil {
		t.Fatal(err)
	}
	// Down: each replica enforces the plan on its own budget, and stays ready.
	if n := spend(t, a, "during the outage, replica A"); n < quota || n > quota+2 {
		t.Fatalf("during the outage replica A allowed %d requests, want its own budget of %d", n, quota)
	}
	if status, _, body := b.send("GET", "/campaigns?limit=1", ""); status != http.StatusOK {
		t.Fatalf("during the outage replica B: %d %s, want 200 from its own budget", status, body)
	}
	for _, c := range []*apiClient{a, b} {
		c.expect(t, "GET", "/ready", "", http.StatusOK)
	}
	var usage struct {
		Data struct {
			Remaining struct {
				Requests int `json:"requests_per_minute"`
			} `json:"remaining"`
		} `json:"data"`
	}
	status, _, body := b.send("GET", "/usage", "")
	if err := json.Unmarshal(body, &usage); status != http.StatusOK || err != nil {
		t.Fatalf("GET /usage during the outage: %d %s, want 200", status, body)
	}
	if r := usage.Data.Remaining.Requests; r < quota-2 || r > quota-1 {
		t.Errorf("GET /usage on B during the outage: %d requests left, want B's own budget less its 2 requests", r)
	}

	if err := f.rds.Start(); err != nil {
		t.Fatal(err)
	}
	// Both replicas go back to Redis by themselves: the other team's requests drive them.
	took := waitFor(t, "both replicas back on Redis", 15*time.Second, func() bool {
		otherA.do("GET", "/me", "")
		otherB.do("GET", "/me", "")
		return logsA.count("answers again") == 1 && logsB.count("answers again") == 1
	})
	t.Logf("both replicas back on Redis %v after it answered", took.Round(time.Millisecond))

	// After: the shared budget again. Redis restarted empty, so A has its full budget there
	// (its own, spent during the outage, would allow about none), and B is refused once A
	// has spent it (its own would allow most of the plan).
	if n := spend(t, a, "after the outage, replica A"); n < quota || n > quota+1 {
		t.Fatalf("after the outage replica A allowed %d requests, want the shared budget of %d", n, quota)
	}
	if status, _ := b.do("GET", "/campaigns?limit=1", ""); status != http.StatusTooManyRequests {
		t.Fatalf("replica B after A spent the shared budget again: %d, want 429", status)
	}
	for name, logs := range map[string]*logLines{"A": logsA, "B": logsB} {
		if down, back := logs.count("unavailable"), logs.count("answers again"); down != 1 || back != 1 {
			t.Errorf("replica %s logged %d outages and %d recoveries, want 1 and 1", name, down, back)
		}
	}
}

// spend sends requests from c's team until one is refused with 429 (with Retry-After and the
// plan's X-RateLimit-Limit) and returns how many were allowed. Any other answer fails.
func spend(t *testing.T, c *apiClient, what string) int {
	t.Helper()
	for n := 0; n < 200; n++ {
		status, hdr, body := c.send("GET", "/campaigns?limit=1", "")
		switch status {
		case http.StatusOK:
			continue
		case http.StatusTooManyRequests:
			if hdr.Get("Retry-After") == "" || hdr.Get("X-RateLimit-Remaining") != "0" {
				t.Fatalf("%s: a 429 without Retry-After or with X-RateLimit-Remaining %q", what, hdr.Get("X-RateLimit-Remaining"))
			}
			return n
		default:
			t.Fatalf("%s: request %d: %d %s, want 200 or 429", what, n, status, body)
		}
	}
	t.Fatalf("%s: 200 requests allowed, never refused", what)
	return 0
}
