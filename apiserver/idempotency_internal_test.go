package apiserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/store"
)

// idempotencyRecords answers GetIdempotency with one record or error; nothing else is called.
type idempotencyRecords struct {
	store.TeamStore
	rec store.IdempotencyRecord
	err error
}

func (f idempotencyRecords) GetIdempotency(context.Context, string) (store.IdempotencyRecord, error) {
	return f.rec, f.err
}

// A repeat that finds its key still running, or given up a moment ago, is told to retry in a
// second: the racing test through HTTP sees this answer only when it loses the race.
func TestRepeatOfARunningRequestSaysRetryAfter(t *testing.T) {
	sum := []byte("same request")
	for name, records := range map[string]idempotencyRecords{
		"still running": {rec: store.IdempotencyRecord{RequestHash: sum, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(claimLease)}},
		"just given up": {err: store.ErrNotFound},
	} {
		err := (&Server{}).replayOrRefuse(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/campaigns", nil), records, "k", sum)
		var e *envelope.Error
		if !errors.As(err, &e) || e.Code != envelope.CodeConflict || e.RetryAfter != time.Second {
			t.Errorf("%s: %+v, want CONFLICT with Retry-After 1 s", name, err)
		}
	}
}

// A claim older than any request runs outlived its process: the repeat can run only when its
// lease ends, so the 409 says when rather than send the client round every second.
func TestRepeatOfADeadClaimSaysWhenItEnds(t *testing.T) {
	sum := []byte("same request")
	now := time.Now()
	records := idempotencyRecords{rec: store.IdempotencyRecord{RequestHash: sum, CreatedAt: now.Add(-2 * time.Minute), ExpiresAt: now.Add(3 * time.Minute)}}
	err := (&Server{}).replayOrRefuse(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/api-keys", nil), records, "k", sum)
	var e *envelope.Error
	if !errors.As(err, &e) || e.Code != envelope.CodeConflict || e.RetryAfter < 3*time.Minute-5*time.Second || e.RetryAfter > 3*time.Minute+time.Second {
		t.Fatalf("%+v, want CONFLICT with Retry-After the lease's 3 min left", err)
	}
}

// claimRecords records the claim a request saves and accepts its completion.
type claimRecords struct {
	store.TeamStore
	saved store.IdempotencyRecord
}

func (c *claimRecords) SaveIdempotency(_ context.Context, r store.IdempotencyRecord) (store.IdempotencyRecord, error) {
	c.saved = r
	return r, nil
}

func (c *claimRecords) CompleteIdempotency(context.Context, store.IdempotencyRecord, int, []byte) error {
	return nil
}

type claimStore struct {
	store.Store
	records *claimRecords
}

func (s claimStore) Team(store.TeamID) store.TeamStore { return s.records }

// A key is claimed for a lease of minutes, not for the day its answer is kept: a claim whose
// process died mid-request runs out, and the repeat then runs instead of hearing "still
// running" until the day is over.
func TestClaimHoldsForALease(t *testing.T) {
	records := &claimRecords{}
	s := &Server{cfg: Config{Store: claimStore{records: records}}}
	r := httptest.NewRequest("POST", "/api/v1/campaigns", nil)
	r.Header.Set("Idempotency-Key", "k1")
	before := time.Now()
	ran := false
	h := s.idempotent(func(w http.ResponseWriter, _ *http.Request, _ *authn.Principal) error {
		ran = true
		w.WriteHeader(http.StatusCreated)
		return nil
	})
	if err := h(httptest.NewRecorder(), r, &authn.Principal{Kind: authn.KindSession, UserID: "u1"}); err != nil || !ran {
		t.Fatalf("ran %v, %v", ran, err)
	}
	if lease := records.saved.ExpiresAt.Sub(before); lease < claimLease || lease > claimLease+time.Minute {
		t.Fatalf("the claim holds for %s, want %s", lease, claimLease)
	}
}
