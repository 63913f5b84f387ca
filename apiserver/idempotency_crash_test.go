package apiserver_test

import (
	"context"
	"testing"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// crashAfterCreate leaves an Idempotency-Key as a server that died between creating an object
// and recording the answer leaves it: the object exists, and the claim is pending. The test
// makes the object by a first request, then puts its record back to a pending claim; live
// says whether the claim's lease is still running.
func crashAfterCreate(t *testing.T, st store.Store, caller, key string, live bool) {
	t.Helper()
	ctx := context.Background()
	records := st.Team(store.TeamID("caller:" + caller))
	rec, err := records.GetIdempotency(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := records.DeleteIdempotency(ctx, key); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(-time.Second)
	if live {
		expires = time.Now().Add(5 * time.Minute)
	}
	if _, err := records.SaveIdempotency(ctx, store.IdempotencyRecord{Key: key, RequestHash: rec.RequestHash, ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
}

// A key creation retried after its server died between minting the key and recording the
// answer is told to wait while the claim lives, then answered with the key the first run made
// (its plaintext, never kept, as null, as any replay), never with a second live key.
func TestAKeyCreationRetriedAfterACrashMintsNoSecondKey(t *testing.T) {
	tn := newTenant(t, "idem-crash-key", qualv1alpha1.PlanEnterprise)
	caller := "user-idem-crash-key-owner"
	body := map[string]any{"name": "crashed", "scopes": []string{"campaigns:read"}}
	var first struct {
		ID  string  `json:"id"`
		Key *string `json:"key"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.owner, body, "Idempotency-Key", "crash-1").expect(t, 201).data(t, &first)

	crashAfterCreate(t, db, caller, "crash-1", true)
	r := call(t, "POST", "/api/v1/api-keys", tn.owner, body, "Idempotency-Key", "crash-1")
	r.expectError(t, 409, "CONFLICT")
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("a claim a second old: Retry-After %q, want 1", r.header.Get("Retry-After"))
	}

	crashAfterCreate(t, db, caller, "crash-1", false)
	for range 2 { // the run that finds the key, then the replay of its recorded answer
		var again struct {
			ID  string  `json:"id"`
			Key *string `json:"key"`
		}
		r := call(t, "POST", "/api/v1/api-keys", tn.owner, body, "Idempotency-Key", "crash-1").expect(t, 201)
		r.data(t, &again)
		if again.ID != first.ID || again.Key != nil || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry after the crash: %s %s, want the first key %s replayed", r.header.Get("Idempotent-Replayed"), r.body, first.ID)
		}
	}
	var keys []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	call(t, "GET", "/api/v1/api-keys", tn.owner, nil).expect(t, 200).data(t, &keys)
	named := 0
	for _, k := range keys {
		if k.Name == "crashed" {
			named++
		}
	}
	if named != 1 {
		t.Fatalf("%d keys named crashed, want 1: %+v", named, keys)
	}
}

// The same for a webhook: a second one would deliver every event to the URL twice.
func TestAWebhookCreationRetriedAfterACrashMakesNoSecondWebhook(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "idem-crash-hook")
	caller := "user-idem-crash-hook-owner"
	body := map[string]any{"url": "https://hooks.example.com/crashed", "events": []string{"finding.created"}}
	first, _ := createHook(t, b.url, tn.owner, body, "Idempotency-Key", "crash-1")
	crashAfterCreate(t, b.db, caller, "crash-1", false)
	r := callAt(t, b.url, "POST", "/api/v1/webhooks", tn.owner, body, "Idempotency-Key", "crash-1").expect(t, 201)
	var again webhook
	r.data(t, &again)
	if again.ID != first.ID || again.Secret != nil || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the crash: %s, want the first webhook %s replayed", r.body, first.ID)
	}
	var hooks []webhook
	callAt(t, b.url, "GET", "/api/v1/webhooks", tn.owner, nil).expect(t, 200).data(t, &hooks)
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks, want 1", len(hooks))
	}
}
