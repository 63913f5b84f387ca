package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
)

// idempotentCreate creates a campaign with an Idempotency-Key and returns the status, the
// headers and, on success, the campaign's id.
func (c *apiClient) idempotentCreate(key, title string) (int, http.Header, []byte, string) {
	raw, _ := json.Marshal(map[string]string{"title": title})
	req, err := http.NewRequest("POST", c.base+"/campaigns", strings.NewReader(string(raw)))
	if err != nil {
		return 0, nil, nil, ""
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, ""
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, resp.Header, body, out.Data.ID
}

// write is one idempotent create: its key, title, and the id it was answered with.
type write struct {
	key, title, id string
	at             time.Time // when the answer arrived
}

// TestPostgresOutage stops the PostgreSQL server the store runs on under REST traffic and
// starts it again: idempotent writes (their keys live in the store) are answered 503 with
// Retry-After while it is down, never 500; /ready names the database and flips both ways;
// the pool reconnects by itself; and every write answered 2xx exists exactly once, the
// refused ones included once retried with their own Idempotency-Key.
func TestPostgresOutage(t *testing.T) {
	cfg, k8s := controlPlane(t)
	pg := pgtest.NewPrivate()
	t.Cleanup(pg.Close) // after the database's own cleanup, which needs the server
	ctx := context.Background()
	db, err := store.Open(ctx, pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	base := startReplica(t, cfg, replicaOptions{store: db, limiter: ratelimit.NewMemory(), requests: 1 << 20})
	c := &apiClient{base: base, key: newTeamKey(t, k8s, "pgfaults")}
	waitKey(t, c)
	c.expect(t, "GET", "/ready", "", http.StatusOK)

	// Traffic: idempotent creates, creates without a key (they need no store), and reads.
	var (
		mu                sync.Mutex
		created, refused  []write
		plain             = map[string]string{} // title -> id
		answers           tally
		createdAfterStart atomic.Int64
		upAt              atomic.Int64
	)
	// An interview in progress: its routes need the store too.
	iv := startInterview(t, c)
	plain[iv.title] = iv.campaign
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			w := write{key: fmt.Sprintf("pg-outage-%d", i), title: fmt.Sprintf("pg idempotent %d", i)}
			status, hdr, body, id := c.idempotentCreate(w.key, w.title)
			w.id, w.at = id, time.Now()
			switch {
			case status == http.StatusCreated && id != "":
				answers.add("idempotent 201")
				mu.Lock()
				created = append(created, w)
				mu.Unlock()
				if upAt.Load() != 0 {
					createdAfterStart.Add(1)
				}
			case unavailable(status, hdr, body):
				answers.add("idempotent 503")
				mu.Lock()
				refused = append(refused, w)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			default:
				answers.add(fmt.Sprint("idempotent ", status))
				t.Errorf("POST /campaigns with Idempotency-Key %s: %d %s, want 201 or 503 with Retry-After", w.key, status, body)
				return
			}
		}
	})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			title := fmt.Sprintf("pg plain %d", i)
			status, hdr, id := c.create(title)
			switch {
			case status == http.StatusCreated && id != "":
				answers.add("plain 201")
				mu.Lock()
				plain[title] = id
				mu.Unlock()
			case status == http.StatusServiceUnavailable && hdr.Get("Retry-After") != "":
				answers.add("plain 503")
			default:
				answers.add(fmt.Sprint("plain ", status))
				t.Errorf("POST /campaigns %q: %d, want 201 or 503 with Retry-After", title, status)
				return
			}
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if status, _ := c.do("GET", "/campaigns?limit=5", ""); status == http.StatusOK {
				answers.add("read 200")
			} else {
				answers.add(fmt.Sprint("read ", status))
				t.Errorf("GET /campaigns: %d; reads come from the cache and need no database", status)
			}
		}
	})
	time.Sleep(time.Second)

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	took, body := readyWithin(t, c, "/ready turns not ready", 10*time.Second, http.StatusServiceUnavailable)
	t.Logf("/ready said 503 %v after PostgreSQL stopped: %s", took.Round(time.Millisecond), strings.TrimSpace(string(body)))
	if _, msg := errorOf(body); !strings.Contains(msg, "The database") {
		t.Errorf("/ready while PostgreSQL is down does not name the database: %s", body)
	}
	// The store's own errors during the outage say so, for handlers that map them.
	if _, err := db.Team("faults-probe").SaveIdempotency(ctx, store.IdempotencyRecord{Key: "probe"}); !store.IsUnavailable(err) {
		t.Errorf("a store write while PostgreSQL is down: %v, which store.IsUnavailable does not recognise", err)
	}
	if err := db.Ping(ctx); !store.IsUnavailable(err) {
		t.Errorf("a store ping while PostgreSQL is down: %v, which store.IsUnavailable does not recognise", err)
	}
	waitFor(t, "an idempotent write is refused", 10*time.Second, func() bool { return answers.get("idempotent 503") > 0 })
	iv.refusedWhileDown(t, c)
	time.Sleep(2 * time.Second)

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	upAt.Store(up.UnixNano())
	t.Logf("PostgreSQL was down %v", up.Sub(down).Round(time.Millisecond))
	took, _ = readyWithin(t, c, "/ready turns ready", 30*time.Second, http.StatusOK)
	t.Logf("/ready said 200 %v after PostgreSQL accepted connections again", took.Round(time.Millisecond))
	took = waitFor(t, "idempotent writes succeed again", 20*time.Second, func() bool { return createdAfterStart.Load() >= 3 })
	t.Logf("idempotent writes succeeded again within %v", took.Round(time.Millisecond))
	iv.answeredAgain(t, c)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}

	// Each refused write, retried with its own key, is done once; a second retry replays it.
	retried := 0
	for i := range refused {
		w := &refused[i]
		deadline := time.Now().Add(20 * time.Second)
		for {
			status, hdr, body, id := c.idempotentCreate(w.key, w.title)
			if status == http.StatusCreated && id != "" && hdr.Get("Idempotent-Replayed") == "" {
				w.id = id
				break
			}
			code, _ := errorOf(body)
			if retry := unavailable(status, hdr, body) || code == "CONFLICT"; !retry || time.Now().After(deadline) {
				t.Fatalf("retrying refused write %s after the outage: %d %v %s, want 201", w.key, status, hdr, body)
			}
			retried++
			time.Sleep(100 * time.Millisecond)
		}
		status, hdr, body, id := c.idempotentCreate(w.key, w.title)
		if status != http.StatusCreated || hdr.Get("Idempotent-Replayed") != "true" || id != w.id {
			t.Errorf("repeating write %s: %d replayed=%q id %s %s, want the first answer replayed (id %s)",
				w.key, status, hdr.Get("Idempotent-Replayed"), id, body, w.id)
		}
	}
	// Writes answered well before the outage replay their answer, never run again.
	stuck := 0
	for _, w := range created {
		if w.at.After(down.Add(-200 * time.Millisecond)) {
			continue
		}
		status, hdr, body, id := c.idempotentCreate(w.key, w.title)
		if status != http.StatusCreated || hdr.Get("Idempotent-Replayed") != "true" || id != w.id {
			t.Errorf("repeating write %s made before the outage: %d replayed=%q id %s %s, want the first answer replayed (id %s)",
				w.key, status, hdr.Get("Idempotent-Replayed"), id, body, w.id)
		}
	}
	// Writes answered 201 around the stop may have found the database gone when recording
	// their answer: the server records it again in the background once the database is back,
	// so a repeat soon replays the answer. It must never run again.
	for _, w := range created {
		if w.at.Before(down.Add(-200*time.Millisecond)) || w.at.After(up) {
			continue
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			status, hdr, body, id := c.idempotentCreate(w.key, w.title)
			code, _ := errorOf(body)
			if status == http.StatusCreated && hdr.Get("Idempotent-Replayed") == "true" && id == w.id {
				break
			}
			if status == http.StatusConflict && code == "CONFLICT" && time.Now().Before(deadline) {
				stuck++
				time.Sleep(250 * time.Millisecond)
				continue
			}
			t.Errorf("repeating write %s answered 201 around the outage: %d replayed=%q id %s %s", w.key, status,
				hdr.Get("Idempotent-Replayed"), id, body)
			break
		}
	}

	// Every write answered 201 exists exactly once, and nothing else does.
	var list qualv1alpha1.CampaignList
	if err := k8s.List(ctx, &list, client.InNamespace("team-pgfaults")); err != nil {
		t.Fatal(err)
	}
	byTitle := map[string]int{}
	for _, cmp := range list.Items {
		byTitle[cmp.Spec.Title]++
	}
	want := map[string]bool{}
	for _, ws := range [][]write{created, refused} {
		for _, w := range ws {
			want[w.title] = true
			if byTitle[w.title] != 1 {
				t.Errorf("write %s (%q) answered 201 exists %d times", w.key, w.title, byTitle[w.title])
			}
		}
	}
	for title := range plain {
		want[title] = true
		if byTitle[title] != 1 {
			t.Errorf("plain write %q answered 201 exists %d times", title, byTitle[title])
		}
	}
	for title, n := range byTitle {
		if !want[title] {
			t.Errorf("campaign %q exists %d times but no write of it was answered 201", title, n)
		}
	}
	t.Logf("answers: %s; %d refused writes done once on retry (%d retries), %d objects; %d repeats told a write was still running before its answer was recorded",
		&answers, len(refused), retried, len(list.Items), stuck)
}
