package apiserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/testenv"
	"qual.cx/operator/internal/teststack"
)

// A replica whose database is down says so on /ready, with Retry-After, instead of failing
// requests later with a 500.
func TestReadyIsUnavailableWhenTheDatabaseIsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	down, closeStore, err := testenv.TempStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	closeStore()
	srv, err := startStack(ctx, ratelimit.NewMemory(), false, down)
	if err != nil {
		t.Fatal(err)
	}
	replica := httptest.NewServer(srv.Handler())
	t.Cleanup(replica.Close)
	r := callURL(t, replica.URL+"/api/v1/ready", "")
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("ready with the database down: %d %s", r.status, r.body)
	}
}

// Using a key records when it was last used on the APIKey object, in the background.
func TestKeyUseIsRecordedOnTheObject(t *testing.T) {
	tn := newTenant(t, "last-used", qualv1alpha1.PlanEnterprise)
	call(t, "GET", "/api/v1/me", tn.scoped, nil).expect(t, 200)
	waitFor(t, "lastUsedAt recorded", func() error {
		key := &qualv1alpha1.APIKey{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: "team-last-used", Name: "scoped"}, key); err != nil {
			return err
		}
		if key.Status.LastUsedAt == nil || time.Since(key.Status.LastUsedAt.Time) > 2*time.Minute {
			return fmt.Errorf("lastUsedAt %v", key.Status.LastUsedAt)
		}
		// Recorded by the minute, but never before the key was made.
		if key.Status.LastUsedAt.Before(&key.CreationTimestamp) {
			t.Fatalf("lastUsedAt %v is before the key's creation %v", key.Status.LastUsedAt, key.CreationTimestamp)
		}
		return nil
	})
	// The REST view follows once the informer has the update.
	waitFor(t, "GET /api-keys shows last_used_at", func() error {
		var listed []struct {
			Name       string  `json:"name"`
			LastUsedAt *string `json:"last_used_at"`
		}
		call(t, "GET", "/api/v1/api-keys?sort_by=name&order=asc", tn.secret, nil).expect(t, 200).data(t, &listed)
		for _, k := range listed {
			if k.Name == "scoped" && k.LastUsedAt != nil {
				return nil
			}
		}
		return fmt.Errorf("not yet: %+v", listed)
	})
}

// kubeLink sits between a replica and the Kubernetes API, as a network can: it can hang
// every request (a frozen API server, as SIGSTOP makes one) or delay writes alone (an API
// that is slow but still answers its probe).
type kubeLink struct {
	mu       sync.Mutex
	resumed  chan struct{} // nil while requests flow
	slowness time.Duration // added to every write while set
}

func (l *kubeLink) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		held, slow := l.resumed, l.slowness
		l.mu.Unlock()
		if held != nil {
			select {
			case <-held:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
		if slow > 0 && r.Method != http.MethodGet {
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
		return rt.RoundTrip(r)
	})
}

// hang holds every request until resume.
func (l *kubeLink) hang() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.resumed == nil {
		l.resumed = make(chan struct{})
	}
}

func (l *kubeLink) resume() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.resumed != nil {
		close(l.resumed)
		l.resumed = nil
	}
}

func (l *kubeLink) slow(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slowness = d
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// linkedReplica is a REST replica (no controllers: the suite's run them) reaching the
// Kubernetes API through link; it stops with the test.
func linkedReplica(t *testing.T, link *kubeLink) string {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.WrapTransport = link.wrap
	srv, err := teststack.Start(t.Context(), teststack.Options{Config: c, Store: db, Limiter: ratelimit.NewMemory(), JWTSecret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(link.resume) // before the stack stops (cleanups run last first)
	return hs.URL
}

// createAt posts a campaign to the replica at base with a client that gives up after limit,
// and returns the answer and how long it took.
func createAt(t *testing.T, base, key, title string, limit time.Duration) (response, time.Duration) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/campaigns", strings.NewReader(`{"title":"`+title+`","questions":["Why?"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	start := time.Now()
	r := exchange(t, &http.Client{Timeout: limit}, req)
	return r, time.Since(start)
}

// A write sent just as the Kubernetes API hangs is released with 503 and Retry-After once the
// probe has found the API unreachable for two seconds, as later writes are refused at once,
// rather than waiting until client-go gives the connection up (about 45 s).
func TestWriteInFlightWhenTheKubernetesAPIHangsIsRefusedSoon(t *testing.T) {
	tn := newTenant(t, "hung-api", qualv1alpha1.PlanPro)
	link := &kubeLink{}
	base := linkedReplica(t, link)
	waitFor(t, "key at the replica", func() error { return authorizedAt(t, base, "/api/v1/me", tn.secret) })

	link.hang()
	r, took := createAt(t, base, tn.secret, "Sent as the API hangs", 15*time.Second)
	t.Logf("a write sent as the API hung answered %d after %s", r.status, took)
	if e := r.expectError(t, 503, "SERVICE_UNAVAILABLE"); !strings.Contains(e.Message, "Kubernetes API") {
		t.Errorf("message %q", e.Message)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// At most a probe interval and its timeout (2 s), the outage's two settling seconds and
	// the write's own poll, with room for a loaded machine.
	if took > 6*time.Second {
		t.Errorf("the write waited %s", took)
	}
	r, took = createAt(t, base, tn.secret, "Sent during the outage", 15*time.Second)
	if r.status != 503 || took > time.Second {
		t.Errorf("a write during the outage: %d after %s", r.status, took)
	}
}

// A write to a Kubernetes API that is slow but answers its probe is waited for, however long
// it takes: only an outage releases a write.
func TestSlowWriteToAHealthyKubernetesAPIIsWaitedFor(t *testing.T) {
	tn := newTenant(t, "slow-api", qualv1alpha1.PlanPro)
	link := &kubeLink{}
	base := linkedReplica(t, link)
	waitFor(t, "key at the replica", func() error { return authorizedAt(t, base, "/api/v1/me", tn.secret) })

	link.slow(5 * time.Second)
	r, took := createAt(t, base, tn.secret, "Slow but sure", 20*time.Second)
	r.expect(t, 201)
	if took < 5*time.Second {
		t.Errorf("the write answered after %s, before the API did", took)
	}
}
