package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/signing"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
	"qual.cx/operator/internal/teststack"
)

type webhook struct {
	ID                  string   `json:"id"`
	URL                 string   `json:"url"`
	Events              []string `json:"events"`
	Description         string   `json:"description"`
	Enabled             bool     `json:"enabled"`
	TeamID              string   `json:"team_id"`
	SecretRef           *string  `json:"secret_ref"`
	ConsecutiveFailures int      `json:"consecutive_failures"`
	DisabledAt          *string  `json:"disabled_at"`
	DisabledReason      *string  `json:"disabled_reason"`
	URLRefused          *string  `json:"url_refused"`
	Stalled             *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"stalled"`
	Secret *string `json:"secret"`
}

type deliveryJSON struct {
	ID        string `json:"id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Status    string `json:"status"`
	Test      bool   `json:"test"`
	Attempts  []struct {
		Attempt         int     `json:"attempt"`
		StatusCode      *int    `json:"status_code"`
		DurationMS      int64   `json:"duration_ms"`
		Error           *string `json:"error"`
		ResponseExcerpt string  `json:"response_excerpt"`
		At              string  `json:"at"`
	} `json:"attempts"`
	NextRetryAt *string `json:"next_retry_at"`
	CreatedAt   string  `json:"created_at"`
}

// webhookStack is a REST replica that sends webhooks with the delivery service, over a store
// of its own.
type webhookStack struct {
	name string
	url  string
	db   store.Store
}

var (
	hookOnce   sync.Once
	hookStacks []webhookStack
	hookErr    error
)

// webhookStacks are REST replicas over a SQLite and a PostgreSQL store, started once, each
// running the delivery service as `qual dev` does: it sends test events, and relays the
// outbox and works the delivery queue, so a redelivery is sent by a job. Their stores are
// their own: the relay takes every undispatched event of its store, and the suite's other
// tests count theirs. The suite's controllers make the signing Secrets.
func webhookStacks(t *testing.T) []webhookStack {
	t.Helper()
	hookOnce.Do(func() {
		tb := &suiteTB{}
		afterSuite = append(afterSuite, tb.cleanup)
		sqlite, closeSQLite, err := testenv.TempStore(context.Background())
		if err != nil {
			hookErr = err
			return
		}
		tb.Cleanup(closeSQLite)
		pgdb, err := store.Open(context.Background(), suitePG.Database(tb))
		if err != nil {
			hookErr = err
			return
		}
		tb.Cleanup(func() { _ = pgdb.Close() })
		for _, b := range []backend{{name: "sqlite", db: sqlite}, {name: "postgres", db: pgdb}} {
			base, stop, err := deliveringReplica(context.Background(), b.db, deliveryOptions{workers: 2})
			if err != nil {
				hookErr = err
				return
			}
			tb.Cleanup(stop) // before its store closes
			hookStacks = append(hookStacks, webhookStack{name: b.name, url: base, db: b.db})
		}
	})
	if hookErr != nil {
		t.Fatalf("webhook replicas: %v", hookErr)
	}
	return hookStacks
}

// receiver is a webhook endpoint that records what it gets and answers status; while held,
// requests wait.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []received
	gate   chan struct{} // closed, or nil, when requests are let through
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{status: http.StatusOK}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		gate := rc.gate
		rc.mu.Unlock()
		if gate != nil {
			<-gate
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		w.WriteHeader(rc.status)
		_, _ = fmt.Fprintf(w, "answered %d", rc.status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// hold makes requests wait, unanswered and unrecorded, until the returned release is called
// (at the test's end at the latest).
func (rc *receiver) hold(t *testing.T) (release func()) {
	gate := make(chan struct{})
	rc.mu.Lock()
	rc.gate = gate
	rc.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release) // before the receiver closes, which waits for the requests it holds
	return release
}

func (rc *receiver) answer(status int) {
	rc.mu.Lock()
	rc.status = status
	rc.mu.Unlock()
}

// count is how many requests were received.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// last is the last request received.
func (rc *receiver) last(t *testing.T) received {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) == 0 {
		t.Fatal("the receiver got nothing")
	}
	return rc.got[len(rc.got)-1]
}

// verifies reports whether the Standard Webhooks library accepts the request with secret.
func (r received) verifies(t *testing.T, secret string) bool {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	return wh.Verify(r.body, r.header) == nil
}

// hookTenant is a tenant whose credentials the replica at base already knows.
func hookTenant(t *testing.T, base, name string) *tenant {
	t.Helper()
	tn := newTenant(t, name, qualv1alpha1.PlanEnterprise)
	waitFor(t, name+" known to "+base, func() error {
		for _, token := range []string{tn.secret, tn.owner} {
			if err := authorizedAt(t, base, "/api/v1/webhooks", token); err != nil {
				return err
			}
		}
		return nil
	})
	return tn
}

// createHook creates a webhook, retrying while the team's namespace is not ready (503:
// nothing was created).
func createHook(t *testing.T, base, token string, body map[string]any, headers ...string) (webhook, response) {
	t.Helper()
	var r response
	waitFor(t, "create webhook", func() error {
		if r = callAt(t, base, "POST", "/api/v1/webhooks", token, body, headers...); r.status == 503 {
			return fmt.Errorf("%s", r.body)
		}
		return nil
	})
	var wh webhook
	r.expect(t, 201).data(t, &wh)
	return wh, r
}

// signingSecretOf reads the webhook's generated signing Secret.
func signingSecretOf(t *testing.T, tn *tenant, id string) *corev1.Secret {
	t.Helper()
	var list qualv1alpha1.WebhookList
	if err := k8s.List(context.Background(), &list, client.InNamespace("team-"+tn.team.Name)); err != nil {
		t.Fatal(err)
	}
	for _, wh := range list.Items {
		if string(wh.UID) == id {
			s := &corev1.Secret{}
			if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: wh.Namespace, Name: wh.Name + "-signing"}, s); err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatalf("no webhook %s", id)
	return nil
}

func TestWebhookCRUD(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "hooks-crud")
	rc := newReceiver(t)

	wh, r := createHook(t, b.url, tn.secret, map[string]any{"url": rc.URL + "/qual", "events": []string{"campaign.published"},
		"description": "relay"})
	if !wh.Enabled || wh.TeamID != tn.id || wh.URL != rc.URL+"/qual" || wh.SecretRef != nil || wh.Secret == nil ||
		!strings.HasPrefix(*wh.Secret, signing.SecretPrefix) {
		t.Fatalf("created %s", r.body)
	}
	if got := string(signingSecretOf(t, tn, wh.ID).Data[delivery.SecretKey]); got != *wh.Secret {
		t.Fatal("the secret answered is not the signing Secret's")
	}

	// The secret appears on create only.
	get := callAt(t, b.url, "GET", "/api/v1/webhooks/"+wh.ID, tn.secret, nil).expect(t, 200)
	list := callAt(t, b.url, "GET", "/api/v1/webhooks", tn.owner, nil).expect(t, 200)
	for _, raw := range [][]byte{get.body, list.body} {
		if bytes.Contains(raw, []byte(`"secret":`)) || bytes.Contains(raw, []byte(*wh.Secret)) {
			t.Fatalf("secret shown: %s", raw)
		}
	}
	var listed []webhook
	list.data(t, &listed)
	if len(listed) != 1 || listed[0].ID != wh.ID {
		t.Fatalf("list %s", list.body)
	}

	var patched webhook
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+wh.ID, tn.secret, map[string]any{"events": []string{"*"}, "enabled": false}).
		expect(t, 200).data(t, &patched)
	if patched.Enabled || len(patched.Events) != 1 || patched.Events[0] != "*" || patched.Description != "relay" {
		t.Fatalf("patched %+v", patched)
	}
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+wh.ID, tn.owner, map[string]any{"enabled": true}).expect(t, 200).data(t, &patched)
	if !patched.Enabled {
		t.Fatal("not re-enabled")
	}
	reenableAfterAutoDisable(t, b.url, tn, wh.ID)

	callAt(t, b.url, "DELETE", "/api/v1/webhooks/"+wh.ID, tn.secret, nil).expect(t, 204)
	callAt(t, b.url, "GET", "/api/v1/webhooks/"+wh.ID, tn.secret, nil).expectError(t, 404, "NOT_FOUND")
}

// reenableAfterAutoDisable disables the webhook as the dispatcher does (spec.enabled false,
// status.disabledAt and disabledReason), then re-enables it through PATCH.
func reenableAfterAutoDisable(t *testing.T, base string, tn *tenant, id string) {
	t.Helper()
	ctx := context.Background()
	var list qualv1alpha1.WebhookList
	if err := k8s.List(ctx, &list, client.InNamespace("team-"+tn.team.Name)); err != nil {
		t.Fatal(err)
	}
	var obj *qualv1alpha1.Webhook
	for i := range list.Items {
		if string(list.Items[i].UID) == id {
			obj = &list.Items[i]
		}
	}
	if obj == nil {
		t.Fatalf("no webhook %s", id)
	}
	before := obj.DeepCopy()
	obj.Spec.Enabled = ptr.To(false)
	if err := k8s.Patch(ctx, obj, client.MergeFrom(before), client.FieldOwner("qual-dispatcher")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "automatic disable recorded", func() error {
		cur := &qualv1alpha1.Webhook{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), cur); err != nil {
			return err
		}
		cur.Status.DisabledAt, cur.Status.DisabledReason = &metav1.Time{Time: time.Now()}, "the endpoint answered 410 Gone"
		return k8s.Status().Update(ctx, cur)
	})
	var hook webhook
	waitFor(t, "disabled through REST", func() error {
		callAt(t, base, "GET", "/api/v1/webhooks/"+id, tn.secret, nil).expect(t, 200).data(t, &hook)
		if hook.Enabled || hook.DisabledAt == nil || hook.DisabledReason == nil || *hook.DisabledReason != "the endpoint answered 410 Gone" {
			return fmt.Errorf("%+v", hook)
		}
		return nil
	})
	callAt(t, base, "PATCH", "/api/v1/webhooks/"+id, tn.secret, map[string]any{"enabled": true}).expect(t, 200).data(t, &hook)
	// The answer waits for the controller: it never says enabled and disabled at once.
	if !hook.Enabled || hook.DisabledAt != nil || hook.DisabledReason != nil || hook.ConsecutiveFailures != 0 {
		t.Fatalf("the re-enable answered %+v", hook)
	}
	waitFor(t, "re-enabled through REST", func() error {
		callAt(t, base, "GET", "/api/v1/webhooks/"+id, tn.secret, nil).expect(t, 200).data(t, &hook)
		if !hook.Enabled || hook.DisabledAt != nil || hook.DisabledReason != nil {
			return fmt.Errorf("%+v", hook)
		}
		return nil
	})
}

func TestWebhookValidationNamesTheField(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "hooks-valid")
	ok := []string{"campaign.created"}
	for _, c := range []struct {
		name, field string
		body        map[string]any
	}{
		{"no url", "url", map[string]any{"events": ok}},
		{"bad url", "url", map[string]any{"url": "not a url", "events": ok}},
		{"http to a public host", "url", map[string]any{"url": "http://hooks.example.com/qual", "events": ok}},
		{"literal private IP", "url", map[string]any{"url": "https://10.1.2.3/qual", "events": ok}},
		{"metadata address", "url", map[string]any{"url": "https://169.254.169.254/latest", "events": ok}},
		{"space in the path", "url", map[string]any{"url": "https://hooks.example.com/a b", "events": ok}},
		{"zero-width space in the host", "url", map[string]any{"url": "https://hooks.exam\u200bple.com/", "events": ok}},
		{"non-ASCII host", "url", map[string]any{"url": "https://пример.рф/", "events": ok}},
		{"broken escape", "url", map[string]any{"url": "https://hooks.example.com/x?a=%zz", "events": ok}},
		{"fragment", "url", map[string]any{"url": "https://hooks.example.com/qual#part", "events": ok}},
		{"empty fragment", "url", map[string]any{"url": "https://hooks.example.com/qual?a=1#", "events": ok}},
		{"no events", "events", map[string]any{"url": "https://hooks.example.com/qual"}},
		{"empty events", "events", map[string]any{"url": "https://hooks.example.com/qual", "events": []string{}}},
		{"webhook.test subscribed", "events", map[string]any{"url": "https://hooks.example.com/qual", "events": []string{"webhook.test"}}},
		{"* combined", "events", map[string]any{"url": "https://hooks.example.com/qual", "events": []string{"*", "campaign.created"}}},
		{"unknown event", "events", map[string]any{"url": "https://hooks.example.com/qual", "events": []string{"campaign.exploded"}}},
		{"null event", "events[0]", map[string]any{"url": "https://hooks.example.com/qual", "events": []any{nil}}},
		{"enabled null", "enabled", map[string]any{"url": "https://hooks.example.com/qual", "events": ok, "enabled": nil}},
		{"long description", "description", map[string]any{"url": "https://hooks.example.com/qual", "events": ok,
			"description": strings.Repeat("x", 501)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := callAt(t, b.url, "POST", "/api/v1/webhooks", tn.secret, c.body).expectError(t, 400, "VALIDATION_ERROR")
			if len(e.Details) == 0 || e.Details[0].Field != c.field {
				t.Fatalf("details %+v, want field %s", e.Details, c.field)
			}
		})
	}
	// An https URL to a public name and loopback http (allowed here) are accepted.
	wh, _ := createHook(t, b.url, tn.secret, map[string]any{"url": "https://hooks.example.com/qual", "events": ok})
	createHook(t, b.url, tn.secret, map[string]any{"url": "http://localhost:9/qual", "events": ok})
	e := callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+wh.ID, tn.secret, map[string]any{"url": "http://192.168.1.20/"}).
		expectError(t, 400, "VALIDATION_ERROR")
	if e.Details[0].Field != "url" {
		t.Fatalf("details %+v", e.Details)
	}
	// A fragment is never sent, so the receiver would get another URL than the one shown.
	e = callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+wh.ID, tn.secret, map[string]any{"url": "https://hooks.example.com/qual#v2"}).
		expectError(t, 400, "VALIDATION_ERROR")
	if e.Details[0].Field != "url" || !strings.Contains(e.Details[0].Message, "#fragment") {
		t.Fatalf("details %+v", e.Details)
	}
	// The server without a loopback allowance refuses loopback too.
	e = call(t, "POST", "/api/v1/webhooks", tn.secret, map[string]any{"url": "http://127.0.0.1:9/", "events": ok}).
		expectError(t, 400, "VALIDATION_ERROR")
	if e.Details[0].Field != "url" {
		t.Fatalf("details %+v", e.Details)
	}
}

// A test send reaches the receiver signed, answers with its delivery, also when the receiver
// fails, and the delivery log shows every one, page by page.
func TestWebhookTestSendAndDeliveryLog(t *testing.T) {
	for _, b := range webhookStacks(t) {
		t.Run(b.name, func(t *testing.T) {
			tn := hookTenant(t, b.url, "hooks-send-"+b.name)
			rc := newReceiver(t)
			wh, _ := createHook(t, b.url, tn.secret, map[string]any{"url": rc.URL, "events": []string{"*"}})

			var ok deliveryJSON
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/test", tn.secret, nil).expect(t, 200).data(t, &ok)
			if ok.Status != "succeeded" || !ok.Test || ok.EventType != delivery.EventTest || len(ok.Attempts) != 1 ||
				ok.Attempts[0].StatusCode == nil || *ok.Attempts[0].StatusCode != 200 || ok.NextRetryAt != nil {
				t.Fatalf("test delivery %+v", ok)
			}
			got := rc.last(t)
			if got.header.Get("webhook-id") != ok.EventID || !got.verifies(t, *wh.Secret) {
				t.Fatalf("the receiver cannot verify %v", got.header)
			}

			rc.answer(http.StatusInternalServerError)
			var failed deliveryJSON
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/test", tn.owner, map[string]any{}).expect(t, 200).data(t, &failed)
			if failed.Status != "failed" || *failed.Attempts[0].StatusCode != 500 || failed.Attempts[0].Error == nil ||
				failed.Attempts[0].ResponseExcerpt != "answered 500" {
				t.Fatalf("failed test delivery %+v", failed)
			}

			var page []deliveryJSON
			r := callAt(t, b.url, "GET", "/api/v1/webhooks/"+wh.ID+"/deliveries?limit=1", tn.secret, nil).expect(t, 200)
			r.data(t, &page)
			var p struct {
				Pagination struct {
					NextCursor *string `json:"next_cursor"`
					TotalCount int     `json:"total_count"`
				} `json:"pagination"`
			}
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			if len(page) != 1 || page[0].ID != failed.ID || p.Pagination.TotalCount != 2 || p.Pagination.NextCursor == nil {
				t.Fatalf("first page %s", r.body)
			}
			callAt(t, b.url, "GET", "/api/v1/webhooks/"+wh.ID+"/deliveries?limit=1&cursor="+*p.Pagination.NextCursor, tn.secret, nil).
				expect(t, 200).data(t, &page)
			if len(page) != 1 || page[0].ID != ok.ID || page[0].Attempts[0].DurationMS < 0 {
				t.Fatalf("second page %+v", page)
			}
		})
	}
}

// A finished delivery goes back on the queue (202), and its job sends it again, signed; one
// already back (409), another webhook's (404) and a test delivery (409) do not go.
func TestWebhookRedeliver(t *testing.T) {
	for _, b := range webhookStacks(t) {
		t.Run(b.name, func(t *testing.T) {
			tn := hookTenant(t, b.url, "hooks-redeliver-"+b.name)
			rc, tests := newReceiver(t), newReceiver(t)
			wh, _ := createHook(t, b.url, tn.secret, map[string]any{"url": rc.URL + "/qual", "events": []string{"*"}})
			other, _ := createHook(t, b.url, tn.secret, map[string]any{"url": tests.URL + "/qual", "events": []string{"*"}})
			failed := seedFailedDelivery(t, b.db, tn.id, wh.ID)

			// The receiver holds the redelivery until the refusals below are checked: until it
			// answers, the delivery is pending.
			release := rc.hold(t)
			var queued deliveryJSON
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/deliveries/"+string(failed.ID)+"/redeliver", tn.secret, nil).
				expect(t, 202).data(t, &queued)
			if queued.ID != string(failed.ID) || queued.Status != "pending" || queued.NextRetryAt == nil || len(queued.Attempts) != 1 {
				t.Fatalf("redelivered %+v", queued)
			}
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/deliveries/"+string(failed.ID)+"/redeliver", tn.secret, nil).
				expectError(t, 409, "INVALID_STATE")
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+other.ID+"/deliveries/"+string(failed.ID)+"/redeliver", tn.secret, nil).
				expectError(t, 404, "NOT_FOUND")
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/deliveries/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/redeliver", tn.secret, nil).
				expectError(t, 404, "NOT_FOUND")

			release()
			var sent deliveryJSON
			waitFor(t, "the redelivery sent", func() error {
				var log []deliveryJSON
				callAt(t, b.url, "GET", "/api/v1/webhooks/"+wh.ID+"/deliveries", tn.secret, nil).expect(t, 200).data(t, &log)
				if len(log) != 1 || log[0].Status == "pending" {
					return fmt.Errorf("the delivery log: %+v", log)
				}
				sent = log[0]
				return nil
			})
			if sent.ID != string(failed.ID) || sent.Status != "succeeded" || len(sent.Attempts) != 2 || sent.NextRetryAt != nil ||
				sent.Attempts[1].StatusCode == nil || *sent.Attempts[1].StatusCode != 200 {
				t.Fatalf("redelivery %+v", sent)
			}
			if got := rc.last(t); rc.count() != 1 || got.header.Get("webhook-id") != string(failed.EventID) || !got.verifies(t, *wh.Secret) {
				t.Fatalf("the receiver got %d requests, the last one %v, unverifiable or of another event", rc.count(), got.header)
			}

			var test deliveryJSON
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+other.ID+"/test", tn.secret, nil).expect(t, 200).data(t, &test)
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+other.ID+"/deliveries/"+test.ID+"/redeliver", tn.secret, nil).
				expectError(t, 409, "INVALID_STATE")

			// A disabled endpoint would hold the delivery unseen: refused, and nothing queued.
			held := seedFailedDelivery(t, b.db, tn.id, other.ID)
			callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+other.ID, tn.secret, map[string]any{"enabled": false}).expect(t, 200)
			callAt(t, b.url, "POST", "/api/v1/webhooks/"+other.ID+"/deliveries/"+string(held.ID)+"/redeliver", tn.secret, nil).
				expectError(t, 409, "INVALID_STATE")
			if still, err := b.db.Team(store.TeamID(tn.id)).GetDelivery(t.Context(), held.ID); err != nil || still.Status != store.DeliveryFailed {
				t.Fatalf("a refused redelivery changed the delivery: %+v, %v", still, err)
			}
		})
	}
}

// seedFailedDelivery logs a delivery of an event to the webhook that failed for good, as
// the dispatcher would: the event relayed (so no relay fans it out again), its delivery made
// and its one attempt failed.
func seedFailedDelivery(t *testing.T, db store.Store, team, webhookID string) store.Delivery {
	t.Helper()
	return seedFailedDeliveryOf(t, db, team, webhookID, "campaign.created")
}

// seedFailedDeliveryOf is seedFailedDelivery of an event of type typ.
func seedFailedDeliveryOf(t *testing.T, db store.Store, team, webhookID, typ string) store.Delivery {
	t.Helper()
	ctx := context.Background()
	ts := db.Team(store.TeamID(team))
	var d store.Delivery
	err := ts.InTx(ctx, func(tx store.TeamStore) error {
		ev, err := tx.AddEvent(ctx, store.NewEvent{Type: typ, Subject: "campaign/x", Payload: json.RawMessage(`{}`)})
		if err == nil {
			err = tx.MarkEventDispatched(ctx, ev.ID)
		}
		if err == nil {
			d, err = tx.CreateDelivery(ctx, store.NewDelivery{WebhookID: store.WebhookID(webhookID), EventID: ev.ID})
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err = ts.RecordAttempt(ctx, d.ID, store.AttemptResult{StatusCode: 502, DurationMS: 30, Error: "receiver answered 502",
		Status: store.DeliveryFailed})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// After a rotation the new secret is shown once, the Secret keeps the old one for the window,
// and deliveries verify with either.
func TestWebhookRotateSecret(t *testing.T) {
	b, tn, rc, wh := hookToRotate(t, "hooks-rotate")
	old := *wh.Secret

	var rotated webhook
	r := callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/rotate-secret", tn.secret, nil, "Idempotency-Key", "rotate-1").expect(t, 200)
	r.data(t, &rotated)
	if rotated.ID != wh.ID || rotated.Secret == nil || *rotated.Secret == old || !strings.HasPrefix(*rotated.Secret, signing.SecretPrefix) {
		t.Fatalf("rotated %s", r.body)
	}
	secret := signingSecretOf(t, tn, wh.ID)
	expires, err := time.Parse(time.RFC3339, string(secret.Data[delivery.PreviousExpiresKey]))
	if string(secret.Data[delivery.SecretKey]) != *rotated.Secret || string(secret.Data[delivery.PreviousSecretKey]) != old ||
		err != nil || expires.Sub(time.Now().Add(delivery.RotationWindow)).Abs() > time.Minute {
		t.Fatalf("secret after rotation: %v %v", secret.Data, err)
	}
	// A replay answers the rotation without its secret and rotates nothing more.
	replay := callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/rotate-secret", tn.secret, nil, "Idempotency-Key", "rotate-1").expect(t, 200)
	var again webhook
	replay.data(t, &again)
	if replay.header.Get("Idempotent-Replayed") != "true" || again.Secret != nil || bytes.Contains(replay.body, []byte(*rotated.Secret)) {
		t.Fatalf("replay %s", replay.body)
	}
	if got := string(signingSecretOf(t, tn, wh.ID).Data[delivery.SecretKey]); got != *rotated.Secret {
		t.Fatal("the replay rotated again")
	}

	got := testSignedBy(t, b.url, tn, wh.ID, rc, old, *rotated.Secret)
	wrong, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if got.verifies(t, wrong) {
		t.Fatal("a wrong secret verifies")
	}
}

// A rotation whose answer was lost can only be made good by rotating again (its replay shows
// no secret): the secret receivers knew before the first rotation keeps signing until that
// rotation's window ends, and so does the unseen one, beside the second rotation's.
func TestRotatingAgainWithinTheWindowKeepsTheSecretReceiversKnow(t *testing.T) {
	b, tn, rc, wh := hookToRotate(t, "hooks-rerotate")
	known := *wh.Secret
	path := "/api/v1/webhooks/" + wh.ID + "/rotate-secret"
	var unseen webhook
	callAt(t, b.url, "POST", path, tn.secret, nil, "Idempotency-Key", "lost").expect(t, 200).data(t, &unseen) // the answer is lost
	firstWindow := string(signingSecretOf(t, tn, wh.ID).Data[delivery.PreviousExpiresKey])
	var lost webhook
	callAt(t, b.url, "POST", path, tn.secret, nil, "Idempotency-Key", "lost").expect(t, 200).data(t, &lost)
	if lost.Secret != nil {
		t.Fatal("the replay shows the secret")
	}
	var seen webhook
	callAt(t, b.url, "POST", path, tn.secret, nil).expect(t, 200).data(t, &seen)

	secret := signingSecretOf(t, tn, wh.ID)
	if string(secret.Data[delivery.PreviousSecretKey]) != known || string(secret.Data[delivery.PreviousExpiresKey]) != firstWindow {
		t.Fatalf("after two rotations the previous secret is %q until %s, want the creation's until %s",
			secret.Data[delivery.PreviousSecretKey], secret.Data[delivery.PreviousExpiresKey], firstWindow)
	}
	testSignedBy(t, b.url, tn, wh.ID, rc, known, *unseen.Secret, *seen.Secret)
}

// Overlapping rotations (two admins, a double click) hand out no secret that does not sign:
// of rotations sent at once, those answered 200 each gave a secret that verifies the next
// delivery, beside the one receivers had before; a loser of the race is 409 CONFLICT and
// hands out nothing. Past four replaced secrets still signing, a rotation is 409 with
// Retry-After and changes nothing. Before the fix, each rotation answered 200 with its own
// secret, and all but the last were dropped: a receiver set up with one of them rejected
// every delivery.
func TestOverlappingRotationsEachHandOutASecretThatSigns(t *testing.T) {
	b, tn, rc, wh := hookToRotate(t, "hooks-overlap")
	path := "/api/v1/webhooks/" + wh.ID + "/rotate-secret"
	answered := []string{*wh.Secret}
	var race []callAs
	for range 3 {
		race = append(race, callAs{token: tn.secret, rawCall: rawCall{"POST", path, ""}, base: b.url})
	}
	for _, r := range raceCallsAs(t, race...) {
		if r.status == 409 {
			r.expectError(t, 409, "CONFLICT")
			continue
		}
		var rotated webhook
		r.expect(t, 200).data(t, &rotated)
		answered = append(answered, *rotated.Secret)
	}
	for len(answered) < 1+delivery.MaxReplacedSecrets {
		var rotated webhook
		callAt(t, b.url, "POST", path, tn.secret, nil).expect(t, 200).data(t, &rotated)
		answered = append(answered, *rotated.Secret)
	}
	testSignedBy(t, b.url, tn, wh.ID, rc, answered...)
	before := signingSecretOf(t, tn, wh.ID).Data
	r := callAt(t, b.url, "POST", path, tn.secret, nil)
	r.expectError(t, 409, "CONFLICT")
	if wait, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || wait < 23*3600 || wait > 24*3600+1 {
		t.Fatalf("a rotation past the bound: Retry-After %q, want the oldest's window, about 24 h", r.header.Get("Retry-After"))
	}
	if after := signingSecretOf(t, tn, wh.ID).Data; !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused rotation changed the Secret: %v, was %v", after, before)
	}
}

// hookToRotate is a new tenant's webhook of every event to a receiver of its own.
func hookToRotate(t *testing.T, name string) (webhookStack, *tenant, *receiver, webhook) {
	t.Helper()
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, name)
	rc := newReceiver(t)
	wh, _ := createHook(t, b.url, tn.secret, map[string]any{"url": rc.URL, "events": []string{"*"}})
	return b, tn, rc, wh
}

// testSignedBy sends the webhook a test event and checks it carries one signature per secret
// given, and that a receiver holding any one of them verifies it; it returns what came.
func testSignedBy(t *testing.T, base string, tn *tenant, id string, rc *receiver, secrets ...string) received {
	t.Helper()
	callAt(t, base, "POST", "/api/v1/webhooks/"+id+"/test", tn.secret, nil).expect(t, 200)
	got := rc.last(t)
	if n := len(strings.Fields(got.header.Get("webhook-signature"))); n != len(secrets) {
		t.Fatalf("%d signatures during the window, want %d", n, len(secrets))
	}
	for i, secret := range secrets {
		if !got.verifies(t, secret) {
			t.Fatalf("a receiver with secret %d of %d (oldest first) cannot verify during the window", i+1, len(secrets))
		}
	}
	return got
}

// A Webhook made with kubectl shows through REST; one whose Secret its owner manages is
// rotated by that owner, not the API.
func TestKubectlWebhookAndItsOwnSecret(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "hooks-kubectl")
	ctx := context.Background()
	ns := "team-" + tn.team.Name
	own, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "my-signing", Namespace: ns},
		Data: map[string][]byte{"secret": []byte(own)}}); err != nil {
		t.Fatal(err)
	}
	obj := &qualv1alpha1.Webhook{ObjectMeta: metav1.ObjectMeta{Name: "gitops", Namespace: ns}, Spec: qualv1alpha1.WebhookSpec{
		URL: "https://hooks.example.com/gitops", Events: []qualv1alpha1.WebhookEvent{"interview.completed"},
		SecretRef: &qualv1alpha1.LocalSecretReference{Name: "my-signing"}}}
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	var wh webhook
	waitFor(t, "kubectl webhook through REST", func() error {
		r := callAt(t, b.url, "GET", "/api/v1/webhooks/"+string(obj.UID), tn.secret, nil)
		if r.status != 200 {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		r.data(t, &wh)
		return nil
	})
	if wh.URL != obj.Spec.URL || !wh.Enabled || wh.SecretRef == nil || *wh.SecretRef != "my-signing" {
		t.Fatalf("kubectl webhook %+v", wh)
	}
	e := callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/rotate-secret", tn.secret, nil).expectError(t, 409, "CONFLICT")
	if !strings.Contains(e.Message, "owner") || !strings.Contains(e.Message, "my-signing") {
		t.Fatalf("message %q", e.Message)
	}
}

// A Webhook applied with kubectl at a URL the operator's policy refuses (REST would have
// said 400) shows why in url_refused, as its Ready condition does, instead of looking
// healthy while nothing can reach it; a URL the policy takes shows null, and moving the
// refused one to such a URL clears it.
func TestKubectlWebhookWithARefusedURL(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "hooks-refused")
	ctx := context.Background()
	apply := func(name, url string) *qualv1alpha1.Webhook {
		obj := &qualv1alpha1.Webhook{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team-" + tn.team.Name},
			Spec: qualv1alpha1.WebhookSpec{URL: url, Events: []qualv1alpha1.WebhookEvent{"*"}}}
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		return obj
	}
	// judged waits until the controller has judged the object's current URL, and returns its
	// REST form.
	judged := func(obj *qualv1alpha1.Webhook) webhook {
		t.Helper()
		var wh webhook
		waitFor(t, "the controller's verdict on "+obj.Name+" through REST", func() error {
			cur := &qualv1alpha1.Webhook{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), cur); err != nil {
				return err
			}
			ready := meta.FindStatusCondition(cur.Status.Conditions, qualv1alpha1.ConditionReady)
			if ready == nil || ready.ObservedGeneration != cur.Generation || ready.Reason == "ReconcileError" {
				return fmt.Errorf("not judged yet: %+v", ready)
			}
			r := callAt(t, b.url, "GET", "/api/v1/webhooks/"+string(obj.UID), tn.secret, nil)
			if r.status != 200 {
				return fmt.Errorf("%d %s", r.status, r.body)
			}
			r.data(t, &wh)
			if (ready.Reason == qualv1alpha1.ReasonURLRefused) != (wh.URLRefused != nil) {
				return fmt.Errorf("Ready says %s, REST says url_refused %v", ready.Reason, wh.URLRefused)
			}
			return nil
		})
		return wh
	}

	refused := apply("private", "https://10.1.2.3/hook")
	wh := judged(refused)
	if wh.URLRefused == nil || !strings.Contains(*wh.URLRefused, "10.1.2.3 is a private address") || !wh.Enabled {
		t.Fatalf("a refused URL through REST: %+v", wh)
	}
	// stalled says the same, as it does for every reason the webhook cannot deliver.
	if wh.Stalled == nil || wh.Stalled.Reason != qualv1alpha1.ReasonURLRefused || wh.Stalled.Message != *wh.URLRefused {
		t.Fatalf("a refused URL's stall through REST: %+v", wh.Stalled)
	}
	var listed []webhook
	callAt(t, b.url, "GET", "/api/v1/webhooks", tn.secret, nil).expect(t, 200).data(t, &listed)
	if len(listed) != 1 || listed[0].URLRefused == nil || *listed[0].URLRefused != *wh.URLRefused {
		t.Fatalf("the list shows %+v", listed)
	}
	if accepted := judged(apply("public", "https://hooks.example.com/kubectl")); accepted.URLRefused != nil {
		t.Fatalf("an accepted URL through REST: %+v", accepted)
	}

	// Moving it to a URL the policy takes clears the refusal, in the answer (a verdict on the
	// old URL is not the new one's) and once the controller has looked.
	var moved webhook
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+wh.ID, tn.secret, map[string]any{"url": "https://hooks.example.com/fixed"}).
		expect(t, 200).data(t, &moved)
	if moved.URLRefused != nil || moved.Stalled != nil {
		t.Fatalf("the move answered %+v", moved)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(refused), refused); err != nil {
		t.Fatal(err)
	}
	if fixed := judged(refused); fixed.URLRefused != nil || fixed.Stalled != nil || fixed.URL != "https://hooks.example.com/fixed" {
		t.Fatalf("after the move: %+v", fixed)
	}
}

// Webhooks need webhooks:manage, and a session the owner or admin role; another team's
// webhook and deliveries are 404 through every endpoint.
func TestWebhookScopesAndTenantIsolation(t *testing.T) {
	b := webhookStacks(t)[0]
	a := hookTenant(t, b.url, "hooks-tenant-a")
	other := hookTenant(t, b.url, "hooks-tenant-b")
	wh, _ := createHook(t, b.url, a.secret, map[string]any{"url": "https://hooks.example.com/a", "events": []string{"*"}})
	d := seedFailedDelivery(t, b.db, a.id, wh.ID)

	e := callAt(t, b.url, "GET", "/api/v1/webhooks", a.scoped, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
	if !strings.Contains(e.Message, "webhooks:manage") {
		t.Fatalf("message %q", e.Message)
	}
	callAt(t, b.url, "POST", "/api/v1/webhooks", a.scoped, map[string]any{"url": "https://x.example.com", "events": []string{"*"}}).
		expectError(t, 403, "INSUFFICIENT_SCOPE")
	member := sessionToken(t, "user-hooks-tenant-a-member", "hooks-tenant-a-member@example.com", time.Hour)
	callAt(t, b.url, "GET", "/api/v1/webhooks/"+wh.ID, member, nil).expectError(t, 403, "FORBIDDEN")

	path := "/api/v1/webhooks/" + wh.ID
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", path, nil},
		{"PATCH", path, map[string]any{"enabled": false}},
		{"POST", path + "/test", nil},
		{"POST", path + "/rotate-secret", nil},
		{"GET", path + "/deliveries", nil},
		{"POST", path + "/deliveries/" + string(d.ID) + "/redeliver", nil},
		{"DELETE", path, nil},
	} {
		for _, token := range []string{other.secret, other.owner} {
			callAt(t, b.url, c.method, c.path, token, c.body).expectError(t, 404, "NOT_FOUND")
		}
	}
	var listed []webhook
	callAt(t, b.url, "GET", "/api/v1/webhooks", other.owner, nil).expect(t, 200).data(t, &listed)
	if len(listed) != 0 {
		t.Fatalf("team B sees %+v", listed)
	}
	callAt(t, b.url, "GET", path, a.owner, nil).expect(t, 200)
}

// Subscribing is reading: an endpoint receives each event's object, so a key may subscribe
// only to events whose data it may read, and may not move a wider subscription to its URL.
func TestWebhookSubscriptionsNeedTheirReads(t *testing.T) {
	b := webhookStacks(t)[0]
	a := hookTenant(t, b.url, "hooks-reads")
	k := hooksOnlyKey(t, b.url, a)
	for events, missing := range map[string]string{"interview.started": "interviews:read", "*": "interviews:read",
		"team.member_added": "teams:read", "finding.created": "findings:read", "analysis.completed": "findings:read"} {
		e := callAt(t, b.url, "POST", "/api/v1/webhooks", k, map[string]any{"url": "https://exfil.example.com/h",
			"events": []string{events}}).expectError(t, 403, "INSUFFICIENT_SCOPE")
		if !strings.Contains(e.Message, missing) {
			t.Errorf("%s: message %q, want %s named", events, e.Message, missing)
		}
	}
	callAt(t, b.url, "POST", "/api/v1/webhooks", k, map[string]any{"url": "https://exfil.example.com/h",
		"events": []string{"api_key.created"}}).expectError(t, 403, "FORBIDDEN")
	mine, _ := createHook(t, b.url, k, map[string]any{"url": "https://mine.example.com/h", "events": []string{"campaign.created"}})
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+mine.ID, k, map[string]any{"events": []string{"interview.completed"}}).
		expectError(t, 403, "INSUFFICIENT_SCOPE")

	// The owner's "*" endpoint cannot be pointed at the key's URL, but the key may still turn it off.
	all, _ := createHook(t, b.url, a.secret, map[string]any{"url": "https://hooks.example.com/all", "events": []string{"*"}})
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+all.ID, k, map[string]any{"url": "https://exfil.example.com/h"}).
		expectError(t, 403, "INSUFFICIENT_SCOPE")
	var got webhook
	callAt(t, b.url, "GET", "/api/v1/webhooks/"+all.ID, a.secret, nil).expect(t, 200).data(t, &got)
	if got.URL != "https://hooks.example.com/all" {
		t.Fatalf("the * endpoint now posts to %s", got.URL)
	}
	// Nor can the key take the endpoint's signing secret, which would forge any event to it;
	// it may still rotate the secret of an endpoint it could subscribe to.
	e := callAt(t, b.url, "POST", "/api/v1/webhooks/"+all.ID+"/rotate-secret", k, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
	if !strings.Contains(e.Message, "interviews:read") {
		t.Errorf("rotating the * endpoint's secret: %q", e.Message)
	}
	callAt(t, b.url, "POST", "/api/v1/webhooks/"+mine.ID+"/rotate-secret", k, nil).expect(t, 200)
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+all.ID, k, map[string]any{"enabled": false}).expect(t, 200)
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+all.ID, a.secret, map[string]any{"url": "https://hooks.example.com/moved"}).expect(t, 200)
}

// hooksOnlyKey mints a scoped key of tenant a that manages webhooks and reads campaigns only.
func hooksOnlyKey(t *testing.T, base string, a *tenant) string {
	t.Helper()
	return mintKeyAt(t, base, a.secret, map[string]any{"name": "hooks only", "type": "scoped",
		"scopes": []string{"webhooks:manage", "campaigns:read"}})
}

// mintKeyAt mints the key body describes with token at the server base and waits until it
// manages webhooks there.
func mintKeyAt(t *testing.T, base, token string, body map[string]any) string {
	t.Helper()
	var k struct {
		Key string `json:"key"`
	}
	callAt(t, base, "POST", "/api/v1/api-keys", token, body).expect(t, 201).data(t, &k)
	waitFor(t, "the key", func() error { return authorizedAt(t, base, "/api/v1/webhooks", k.Key) })
	return k.Key
}

// A delivery keeps its event's data, so sending one again is receiving it: a key that may
// narrow an owner's "*" endpoint to events it reads and move it to its URL cannot then
// resend the endpoint's past deliveries of events it may not read.
func TestRedeliveryNeedsTheSubscriptionAndItsReads(t *testing.T) {
	b := webhookStacks(t)[0]
	a := hookTenant(t, b.url, "hooks-resend")
	k := hooksOnlyKey(t, b.url, a)
	rc := newReceiver(t)
	all, _ := createHook(t, b.url, a.secret, map[string]any{"url": rc.URL + "/owner", "events": []string{"*"}})
	past := seedFailedDeliveryOf(t, b.db, a.id, all.ID, "interview.started")
	resend := "/api/v1/webhooks/" + all.ID + "/deliveries/" + string(past.ID) + "/redeliver"

	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+all.ID, k, map[string]any{"events": []string{"campaign.published"},
		"url": rc.URL + "/taker"}).expect(t, 200)
	e := callAt(t, b.url, "POST", resend, k, nil).expectError(t, 409, "INVALID_STATE")
	if !strings.Contains(e.Message, "interview.started") {
		t.Errorf("message %q does not name the event", e.Message)
	}
	callAt(t, b.url, "POST", resend, a.secret, nil).expectError(t, 409, "INVALID_STATE")

	// Subscribed again by the owner, the key still may not receive it; the owner may.
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+all.ID, a.secret, map[string]any{"events": []string{"*"}}).expect(t, 200)
	e = callAt(t, b.url, "POST", resend, k, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
	if !strings.Contains(e.Message, "interviews:read") {
		t.Errorf("message %q does not name the scope", e.Message)
	}
	if got, err := b.db.Team(store.TeamID(a.id)).GetDelivery(t.Context(), past.ID); err != nil || got.Status != store.DeliveryFailed {
		t.Fatalf("a refused redelivery changed the delivery: %+v, %v", got, err)
	}
	callAt(t, b.url, "POST", resend, a.secret, nil).expect(t, 202)
}

// api_key events describe every key of the team (name, scopes, prefix, last four, expiry,
// origins), while a key is listed only to a caller that could have created it, so receiving
// them, through "*" too, needs a caller that could have created any key of the team: a
// session, or a secret key holding every team scope with no expiry. A key with fewer scopes,
// or an expiry, can neither subscribe, nor move such an endpoint to its URL, nor take its
// signing secret; it may still describe or turn it off, and the endpoint keeps its events.
func TestAPIKeyEventsNeedACallerWhoReadsEveryKey(t *testing.T) {
	b := webhookStacks(t)[0]
	a := hookTenant(t, b.url, "hooks-key-events")
	mint := func(body map[string]any) string { return mintKeyAt(t, b.url, a.secret, body) }
	every := []string{"campaigns:read", "campaigns:write", "campaigns:delete", "campaigns:publish", "interviews:read",
		"interviews:write", "findings:read", "findings:write", "graph:read", "graph:share", "teams:read", "teams:write", "webhooks:manage"}
	limited := mint(map[string]any{"name": "limited", "type": "secret", "scopes": []string{"campaigns:read", "webhooks:manage"}})
	allButOne := mint(map[string]any{"name": "all but one", "type": "secret", "scopes": slices.DeleteFunc(slices.Clone(every),
		func(s string) bool { return s == "campaigns:delete" })}) // every read scope "*" needs
	expiring := mint(map[string]any{"name": "expiring", "type": "secret", "expires_in_days": 30})
	full := mint(map[string]any{"name": "full", "type": "secret", "scopes": every})
	refused := func(r response, event string) {
		t.Helper()
		e := r.expectError(t, 403, "FORBIDDEN")
		if len(e.Details) != 1 || e.Details[0].Field != "events" || !strings.Contains(e.Message, event) {
			t.Errorf("refusal %+v, want it to name events and %s", e, event)
		}
	}
	keyEvents := []string{"api_key.created", "api_key.revoked"}
	for name, token := range map[string]string{"limited": limited, "all but one": allButOne, "expiring": expiring} {
		refused(callAt(t, b.url, "POST", "/api/v1/webhooks", token, map[string]any{"url": "https://exfil.example.com/" + strings.ReplaceAll(name, " ", "-"),
			"events": keyEvents}), "api_key.created")
	}
	// "*" is refused too, once the reads it needs are there.
	refused(callAt(t, b.url, "POST", "/api/v1/webhooks", allButOne, map[string]any{"url": "https://exfil.example.com/all",
		"events": []string{"*"}}), "*")
	refused(callAt(t, b.url, "POST", "/api/v1/webhooks", expiring, map[string]any{"url": "https://exfil.example.com/all",
		"events": []string{"*"}}), "*")

	// A key holding every scope without expiry, and an owner's session, may.
	byKey, _ := createHook(t, b.url, full, map[string]any{"url": "https://hooks.example.com/keys", "events": keyEvents})
	byOwner, _ := createHook(t, b.url, a.owner, map[string]any{"url": "https://hooks.example.com/all", "events": []string{"*"}},
		"X-Qual-Team", a.id)
	createHook(t, b.url, a.secret, map[string]any{"url": "https://hooks.example.com/revoked", "events": []string{"api_key.revoked"}})

	// The limited key cannot add them to its own endpoint, point one at its URL, or take the
	// secret that signs them.
	mine, _ := createHook(t, b.url, limited, map[string]any{"url": "https://mine.example.com/h", "events": []string{"campaign.created"}})
	refused(callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+mine.ID, limited,
		map[string]any{"events": []string{"campaign.created", "api_key.created"}}), "api_key.created")
	refused(callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+byKey.ID, limited, map[string]any{"url": "https://exfil.example.com/h"}),
		"api_key.created")
	refused(callAt(t, b.url, "POST", "/api/v1/webhooks/"+byKey.ID+"/rotate-secret", limited, nil), "api_key.created")
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+byKey.ID, limited, map[string]any{"description": "CI keys"}).expect(t, 200)
	var got webhook
	callAt(t, b.url, "GET", "/api/v1/webhooks/"+byKey.ID, full, nil).expect(t, 200).data(t, &got)
	if got.URL != "https://hooks.example.com/keys" || strings.Join(got.Events, ",") != strings.Join(keyEvents, ",") || !got.Enabled {
		t.Fatalf("the key events endpoint is now %+v", got)
	}
	// Those who may still manage them.
	callAt(t, b.url, "POST", "/api/v1/webhooks/"+byKey.ID+"/rotate-secret", full, nil).expect(t, 200)
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+byOwner.ID, a.owner, map[string]any{"url": "https://hooks.example.com/moved"}).expect(t, 200)
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+mine.ID, full, map[string]any{"events": []string{"campaign.created", "api_key.created"}}).
		expect(t, 200)
}

// A replayed create answers the webhook without its secret; a server without a delivery
// service answers test with 503.
func TestWebhookCreateReplayAndNoDeliverer(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "hooks-replay")
	body := map[string]any{"url": "https://hooks.example.com/replay", "events": []string{"finding.created"}}
	first, _ := createHook(t, b.url, tn.secret, body, "Idempotency-Key", "create-1")
	replay := callAt(t, b.url, "POST", "/api/v1/webhooks", tn.secret, body, "Idempotency-Key", "create-1").expect(t, 201)
	var again webhook
	replay.data(t, &again)
	if again.ID != first.ID || again.Secret != nil || bytes.Contains(replay.body, []byte(*first.Secret)) {
		t.Fatalf("replay %s", replay.body)
	}
	waitFor(t, "the suite's server sees the webhook", func() error {
		if r := call(t, "GET", "/api/v1/webhooks/"+first.ID, tn.secret, nil); r.status != 200 {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
	call(t, "POST", "/api/v1/webhooks/"+first.ID+"/test", tn.secret, nil).expectError(t, 503, "SERVICE_UNAVAILABLE")
}

// servingDeliveries is a REST replica over the suite's store with room for one send to an
// endpoint at a time; it stops when the test ends.
func servingDeliveries(t *testing.T) string {
	t.Helper()
	base, stop, err := deliveringReplica(context.Background(), db, deliveryOptions{inFlight: 1, slotWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return base
}

// deliveryOptions are what a replica changes of the delivery service's production defaults.
type deliveryOptions struct {
	// workers 0 sends test events and queues redeliveries, as `qual apiserver` does; more
	// also relays the outbox, sends what is queued and writes health to the Webhooks, as the
	// service `qual dev` shares with its REST API does.
	workers  int
	inFlight int           // sends to one endpoint at once (default delivery.DefaultInFlight)
	slotWait time.Duration // how long a send waits for one of them (default 5 s)
}

// deliveringReplica starts a REST replica over st whose test sends and redeliveries go
// through the delivery service, built as cmd/qual builds it: the Kubernetes directory on the
// replica's cache and uncached reader (with workers, also its health writer, though one that
// records no Kubernetes Events), the egress policy's client (a 10 s attempt, 64 KiB of
// answer, the flags' defaults) and URL check, and the production schedule and intervals;
// loopback receivers are allowed, as in `qual dev`. stop stops the service, then the replica.
func deliveringReplica(ctx context.Context, st store.Store, o deliveryOptions) (base string, stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var svc *delivery.Service
	var setupErr error
	srv, err := teststack.Start(ctx, teststack.Options{Config: cfg, Store: st, Limiter: ratelimit.NewMemory(), JWTSecret: jwtSecret,
		AdminUsers: []string{"root@platform.example"},
		Tune: func(c *apiserver.Config) {
			c.Egress = egress.Policy{AllowLoopback: true}
			var dir *delivery.Kube
			if dir, setupErr = delivery.NewKube(ctx, c.Cache, c.SecretReader, c.Client, nil); setupErr != nil {
				return
			}
			var health delivery.HealthWriter
			if o.workers > 0 {
				health = dir
			}
			svc, setupErr = delivery.New(ctx, delivery.Config{Store: st, Directory: dir, Health: health,
				Client: c.Egress.Client(10*time.Second, 64<<10), CheckURL: c.Egress.CheckURL, Workers: o.workers,
				InFlight: o.inFlight, SlotWait: o.slotWait, Logger: logr.Discard()})
			if setupErr == nil {
				c.Deliveries = svc
			}
		}})
	if err = errors.Join(err, setupErr); err != nil {
		cancel()
		if svc != nil {
			svc.Close()
		}
		return "", nil, err
	}
	svc.Start(ctx) // once the cache has synced: an event relayed before would find no endpoint
	hs := httptest.NewServer(srv.Handler())
	return hs.URL, func() {
		hs.Close()
		halt, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = svc.Stop(halt)
		svc.Close()
		cancel()
	}, nil
}

// A test send takes one of the endpoint's in-flight places, as deliveries do: beside one in
// flight at a cap of one, another is 409 CONFLICT, sent and logged nowhere, and a retry after
// it finished goes through.
func TestWebhookTestSendRespectsTheInFlightCap(t *testing.T) {
	base := servingDeliveries(t)
	tn := hookTenant(t, base, "hooks-cap")
	var open, most atomic.Int32
	hold := make(chan struct{})
	var free sync.Once
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := open.Add(1)
		defer open.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-hold
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(func() { free.Do(func() { close(hold) }) }) // first: a failure never leaves the receiver waiting
	wh, _ := createHook(t, base, tn.secret, map[string]any{"url": rc.URL, "events": []string{"campaign.created"}})
	if wh.Secret == nil {
		t.Fatal("no signing secret yet")
	}

	first := make(chan response, 1)
	go func() { first <- callAt(t, base, "POST", "/api/v1/webhooks/"+wh.ID+"/test", tn.secret, nil) }()
	waitFor(t, "the first test at the receiver", func() error {
		if open.Load() != 1 {
			return errors.New("not yet")
		}
		return nil
	})
	e := callAt(t, base, "POST", "/api/v1/webhooks/"+wh.ID+"/test", tn.owner, nil).expectError(t, 409, "CONFLICT")
	if !strings.Contains(e.Message, "in flight") {
		t.Fatalf("message %q", e.Message)
	}
	free.Do(func() { close(hold) })
	var sent deliveryJSON
	(<-first).expect(t, 200).data(t, &sent)
	if sent.Status != "succeeded" {
		t.Fatalf("the first test: %+v", sent)
	}
	callAt(t, base, "POST", "/api/v1/webhooks/"+wh.ID+"/test", tn.secret, nil).expect(t, 200)
	var log []deliveryJSON
	callAt(t, base, "GET", "/api/v1/webhooks/"+wh.ID+"/deliveries", tn.secret, nil).expect(t, 200).data(t, &log)
	if len(log) != 2 || most.Load() != 1 {
		t.Fatalf("%d deliveries logged, %d requests open at once; want 2, one", len(log), most.Load())
	}
}

// Once DELETE /teams answers, none of the team's events leaves: a delivery that failed and
// waits for its retry is not sent when the retry is due (the team's namespace is being
// deleted, and the Webhook shows NoTeam), however well the receiver answers by then; the
// attempt is held back, saying why.
func TestDeletedTeamsHeldDeliveriesStayHome(t *testing.T) {
	for _, b := range webhookStacks(t) {
		t.Run(b.name, func(t *testing.T) {
			tn := hookTenant(t, b.url, "hooks-doomed-"+b.name)
			rc := newReceiver(t)
			rc.answer(http.StatusInternalServerError)
			wh, _ := createHook(t, b.url, tn.secret, map[string]any{"url": rc.URL, "events": []string{"campaign.created"}})
			// The replica's outbox takes events its controllers would write into its store.
			ts := b.db.Team(store.TeamID(tn.id))
			if _, err := ts.AddEvent(t.Context(), store.NewEvent{Type: "campaign.created", Subject: "campaign/doomed",
				Payload: json.RawMessage(`{}`)}); err != nil {
				t.Fatal(err)
			}
			pending := func() (store.Delivery, error) {
				p, err := ts.ListDeliveries(t.Context(), store.WebhookID(wh.ID), store.PageRequest{Limit: 10, SkipTotal: true})
				if err != nil {
					return store.Delivery{}, err
				}
				if len(p.Items) != 1 {
					return store.Delivery{}, fmt.Errorf("%d deliveries", len(p.Items))
				}
				return p.Items[0], nil
			}
			waitFor(t, "the first attempt failed, its retry due in seconds", func() error {
				d, err := pending()
				if err == nil && (len(d.Attempts) != 1 || d.Status != store.DeliveryPending) {
					err = fmt.Errorf("%s after %d attempts", d.Status, len(d.Attempts))
				}
				return err
			})

			callAt(t, b.url, "DELETE", "/api/v1/teams/"+tn.id, tn.owner, nil).expect(t, 204)
			rc.answer(http.StatusOK)
			var d store.Delivery
			waitFor(t, "the retry was due", func() error {
				var err error
				if d, err = pending(); err == nil && len(d.Attempts) < 2 {
					err = fmt.Errorf("%d attempts, next at %v", len(d.Attempts), d.NextRetryAt)
				}
				return err
			})
			// The namespace being deleted ends it; a Webhook already judged NoTeam holds it.
			// Either way nothing is sent, and the refusal is held: not the receiver's failure.
			if rc.count() != 1 || d.Status == store.DeliverySucceeded || len(d.Attempts) != 2 || !d.Attempts[1].Held ||
				!strings.Contains(strings.ToLower(d.Attempts[1].Error), "team") {
				t.Fatalf("after the team was deleted the receiver got %d requests; the delivery: %+v", rc.count(), d)
			}
		})
	}
}
