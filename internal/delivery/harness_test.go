package delivery_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/signing"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
)

var pg = pgtest.New()

func TestMain(m *testing.M) {
	if os.Getenv(crashEnv) != "" {
		crashHelper()
		return
	}
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// backends are both store backends, each a fresh database per test.
var backends = pg.Backends()

// received is one request the receiver took.
type received struct {
	id, typ, subject string
	body             []byte
	at               time.Time
	status           int
}

// receiver is a real HTTP endpoint that verifies every request twice: with the Standard
// Webhooks reference library and with verify below, written from the scheme's text. A
// request failing either is a test failure.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	secrets []string // any of them must verify
	// answer decides the status (and headers) of the nth request of an event id (1-based).
	answer func(r received, n int, h http.Header) int
	// ignoreTime skips the timestamp tolerance (tests that move the clock by days).
	ignoreTime bool
	// slowBody is how long the answer's body takes after its headers.
	slowBody time.Duration

	mu   sync.Mutex
	got  []received
	seen map[string]int
}

func newReceiver(t *testing.T, secrets ...string) *receiver {
	rc := &receiver{t: t, secrets: secrets, seen: map[string]int{},
		answer: func(received, int, http.Header) int { return http.StatusNoContent }}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := rc.check(r.Header, body); err != nil {
		rc.t.Errorf("receiver: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var env struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.ID != r.Header.Get("webhook-id") {
		rc.t.Errorf("receiver: body %s does not carry webhook-id %s", body, r.Header.Get("webhook-id"))
	}
	var data struct {
		Subject string `json:"subject"`
	}
	_ = json.Unmarshal(env.Data, &data)
	got := received{id: env.ID, typ: env.Type, subject: data.Subject, body: body, at: time.Now()}
	rc.mu.Lock()
	rc.seen[got.id]++
	n, answer := rc.seen[got.id], rc.answer
	rc.mu.Unlock()
	got.status = answer(got, n, w.Header())
	rc.mu.Lock()
	rc.got = append(rc.got, got)
	rc.mu.Unlock()
	w.WriteHeader(got.status)
	if rc.slowBody > 0 {
		w.(http.Flusher).Flush()
		time.Sleep(rc.slowBody)
	}
	_, _ = fmt.Fprintf(w, "status %d for %s", got.status, got.id)
}

// check verifies the request with the reference library and with the test's own verifier,
// each against every secret the receiver knows: one must pass for both.
func (rc *receiver) check(h http.Header, body []byte) error {
	for _, secret := range rc.secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return err
		}
		verify := wh.Verify
		if rc.ignoreTime {
			verify = wh.VerifyIgnoringTimestamp
		}
		if verify(body, h) == nil && ownVerify(secret, h, body) {
			return nil
		}
	}
	return fmt.Errorf("signature %q verifies with none of %d secrets", h.Get("webhook-signature"), len(rc.secrets))
}

// ownVerify is the scheme's verification written out: HMAC-SHA256 keyed with the secret's
// base64-decoded bytes over "<id>.<timestamp>.<body>", compared with every v1 signature.
func ownVerify(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", h.Get("webhook-id"), h.Get("webhook-timestamp"), body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if v, s, ok := strings.Cut(sig, ","); ok && v == "v1" && hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// requests returns what the receiver took so far.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// delivered counts the distinct event ids answered with a 2xx.
func (rc *receiver) delivered() map[string]int {
	out := map[string]int{}
	for _, r := range rc.requests() {
		if r.status < 300 {
			out[r.id]++
		}
	}
	return out
}

// directory is a fixed set of endpoints: the Kubernetes one is tested in the dispatcher's
// end-to-end test; here the delivery rules are.
type directory struct {
	mu  sync.Mutex
	eps map[store.WebhookID]delivery.Endpoint
}

func (d *directory) add(ep delivery.Endpoint) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.eps == nil {
		d.eps = map[store.WebhookID]delivery.Endpoint{}
	}
	d.eps[ep.ID] = ep
}

func (d *directory) setEnabled(id store.WebhookID, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ep := d.eps[id]
	ep.Enabled = on
	d.eps[id] = ep
}

func (d *directory) Endpoints(team store.TeamID) []delivery.Endpoint {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []delivery.Endpoint
	for _, ep := range d.eps {
		if ep.Team == team {
			out = append(out, ep)
		}
	}
	return out
}

func (d *directory) Endpoint(_ context.Context, team store.TeamID, id store.WebhookID) (delivery.Endpoint, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ep, ok := d.eps[id]
	return ep, ok && ep.Team == team, nil
}

// health records disables and turns the endpoint off in the directory, as the Kubernetes
// writer does through spec.enabled.
type health struct {
	dir      *directory
	mu       sync.Mutex
	disabled map[store.WebhookID]string
	reports  int
	last     map[store.WebhookID]store.WebhookHealth
}

func (h *health) Report(_ context.Context, wh store.WebhookHealth) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reports++
	if h.last == nil {
		h.last = map[store.WebhookID]store.WebhookHealth{}
	}
	h.last[wh.WebhookID] = wh
	return nil
}

// reported is the last health reported of a webhook.
func (h *health) reported(id store.WebhookID) store.WebhookHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last[id]
}

func (h *health) Disable(_ context.Context, ep delivery.Endpoint, reason string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.disabled == nil {
		h.disabled = map[store.WebhookID]string{}
	}
	h.disabled[ep.ID] = reason
	h.dir.setEnabled(ep.ID, false)
	return nil
}

func (h *health) reason(id store.WebhookID) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.disabled[id]
}

// fixture is a store, a team, one endpoint pointing at a receiver and a running service.
type fixture struct {
	s   store.Store
	ts  store.TeamStore
	dir *directory
	hw  *health
	ep  delivery.Endpoint
	rc  *receiver
	svc *delivery.Service
	cfg delivery.Config
}

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fastSchedule makes the retry schedule's shape testable in milliseconds.
var fastSchedule = delivery.Schedule{Waits: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond,
	150 * time.Millisecond, 200 * time.Millisecond}, Jitter: 0.1, MaxRetryAfter: 5 * time.Second}

func newFixture(t *testing.T, dsn string, tweak func(*delivery.Config)) *fixture {
	t.Helper()
	secret := newSecret(t)
	f := &fixture{s: pgtest.Open(t, dsn), dir: &directory{}, rc: newReceiver(t, secret)}
	team := store.TeamID(uuid.NewString())
	f.ts = f.s.Team(team)
	f.hw = &health{dir: f.dir}
	f.ep = delivery.Endpoint{Team: team, Namespace: "team-a", Name: "hook", ID: store.WebhookID(uuid.NewString()),
		URL: f.rc.srv.URL + "/hook", Events: []string{"*"}, Enabled: true, Secrets: []string{secret}}
	f.dir.add(f.ep)
	f.cfg = delivery.Config{Store: f.s, Directory: f.dir, Health: f.hw,
		Client:   egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20),
		Schedule: fastSchedule, Workers: 8, PollInterval: 20 * time.Millisecond, RescueAfter: 3 * time.Second,
		StatusInterval: 50 * time.Millisecond, Logger: logr.Discard()}
	if tweak != nil {
		tweak(&f.cfg)
	}
	f.svc = start(t, f.cfg)
	return f
}

// start runs a service until the test ends.
func start(t *testing.T, cfg delivery.Config) *delivery.Service {
	t.Helper()
	svc, err := delivery.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc.Start(ctx)
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = svc.Stop(stop)
		cancel()
		svc.Close()
	})
	return svc
}

// emit writes an event about subject to the team's outbox.
func emit(t *testing.T, ts store.TeamStore, typ, subject string) store.Event {
	t.Helper()
	ev, err := ts.AddEvent(context.Background(), store.NewEvent{Type: typ, Subject: subject,
		Payload: fmt.Appendf(nil, `{"subject":%q,"n":%q}`, subject, uuid.NewString())})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// eventually polls cond until it holds or the time is up.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deliveries lists every delivery of the endpoint, oldest first.
func deliveries(t *testing.T, ts store.TeamStore, id store.WebhookID) []store.Delivery {
	t.Helper()
	var out []store.Delivery
	req := store.PageRequest{Limit: store.MaxPageLimit, Order: store.Asc, SkipTotal: true}
	for {
		p, err := ts.ListDeliveries(context.Background(), id, req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.Next == nil {
			return out
		}
		req.After = p.Next
	}
}

// setAnswer sets answer for requests that a dispatcher in another process sends: the lock
// orders what the test wrote before it ahead of the handler that reads it.
func (rc *receiver) setAnswer(answer func(r received, n int, h http.Header) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = answer
}
