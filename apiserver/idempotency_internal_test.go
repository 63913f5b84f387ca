package apiserver

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

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
		"still running": {rec: store.IdempotencyRecord{RequestHash: sum}},
		"just given up": {err: store.ErrNotFound},
	} {
		err := (&Server{}).replayOrRefuse(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/campaigns", nil), records, "k", sum)
		var e *envelope.Error
		if !errors.As(err, &e) || e.Code != envelope.CodeConflict || e.RetryAfter != time.Second {
			t.Errorf("%s: %+v, want CONFLICT with Retry-After 1 s", name, err)
		}
	}
}
