package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

func testShareLinks(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	week := time.Now().Add(7 * 24 * time.Hour)
	byKey := store.ShareCreator{KeyID: "5b0e6c1e-8d7a-4f21-9b3c-2a1d4e5f6a7b"}
	first := must(f.a.CreateShareLink(f.ctx, store.NewShareLink{CampaignID: f.campA,
		TokenHash: store.HashToken("tok-1"), ExpiresAt: week, CreatedBy: byKey}))(t)
	got := must(f.s.ResolveShareLink(f.ctx, store.HashToken("tok-1")))(t)
	if got.ID != first.ID || got.TeamID != f.a.Team() || got.CampaignID != f.campA || got.CreatedBy != byKey {
		t.Fatalf("resolved %+v, want %+v", got, first)
	}
	same(t, must(f.a.GetShareLink(f.ctx, f.campA))(t), first)

	// A new link replaces the old one: the old token stops working. Its maker is kept too.
	byUser := store.ShareCreator{UserID: "user-share-maker"}
	second := must(f.a.CreateShareLink(f.ctx, store.NewShareLink{CampaignID: f.campA,
		TokenHash: store.HashToken("tok-2"), ExpiresAt: week, CreatedBy: byUser}))(t)
	_, err := f.s.ResolveShareLink(f.ctx, store.HashToken("tok-1"))
	isErr(t, err, store.ErrNotFound)
	if got := must(f.s.ResolveShareLink(f.ctx, store.HashToken("tok-2")))(t); got.ID != second.ID || got.CreatedBy != byUser {
		t.Fatalf("resolved %+v, want %+v", got, second)
	}
	same(t, must(f.a.GetShareLink(f.ctx, f.campA))(t), second)
	// A link has one maker.
	_, err = f.a.CreateShareLink(f.ctx, store.NewShareLink{CampaignID: f.campA, TokenHash: store.HashToken("tok-both"),
		ExpiresAt: week, CreatedBy: store.ShareCreator{KeyID: byKey.KeyID, UserID: byUser.UserID}})
	isErr(t, err, store.ErrInvalidInput)
	_, err = f.b.CreateShareLink(f.ctx, store.NewShareLink{CampaignID: f.campB,
		TokenHash: store.HashToken("tok-2"), ExpiresAt: week})
	isErr(t, err, store.ErrConflict)

	ok(t, f.a.RevokeShareLink(f.ctx, f.campA))
	_, err = f.s.ResolveShareLink(f.ctx, store.HashToken("tok-2"))
	isErr(t, err, store.ErrNotFound)
	isErr(t, f.a.RevokeShareLink(f.ctx, f.campA), store.ErrNotFound)

	must(f.a.CreateShareLink(f.ctx, store.NewShareLink{CampaignID: f.campA,
		TokenHash: store.HashToken("tok-old"), ExpiresAt: time.Now().Add(-time.Minute)}))(t)
	_, err = f.s.ResolveShareLink(f.ctx, store.HashToken("tok-old"))
	isErr(t, err, store.ErrNotFound)
	_, err = f.a.GetShareLink(f.ctx, f.campA)
	isErr(t, err, store.ErrNotFound)
}

func testIdempotency(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	rec := must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "k1", RequestHash: []byte{1, 2, 3},
		StatusCode: 201, Body: []byte(`{"data":{"id":"x"}}`)}))(t)
	if d := rec.ExpiresAt.Sub(rec.CreatedAt); d != store.IdempotencyTTL {
		t.Fatalf("expiry after %v, want %v", d, store.IdempotencyTTL)
	}
	same(t, must(f.a.GetIdempotency(f.ctx, "k1"))(t), rec)
	_, err := f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "k1", StatusCode: 200})
	isErr(t, err, store.ErrConflict)
	_, err = f.b.GetIdempotency(f.ctx, "k1")
	isErr(t, err, store.ErrNotFound)
	must(f.b.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "k1", StatusCode: 200}))(t) // keys are per team

	past := time.Now().Add(-time.Second)
	must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "k2", StatusCode: 201, ExpiresAt: past}))(t)
	_, err = f.a.GetIdempotency(f.ctx, "k2")
	isErr(t, err, store.ErrNotFound)
	// An expired record does not block the key.
	fresh := must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "k2", StatusCode: 202}))(t)
	same(t, must(f.a.GetIdempotency(f.ctx, "k2"))(t), fresh)
	must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "k3", StatusCode: 201, ExpiresAt: past}))(t)
	if n := must(f.a.PurgeIdempotency(f.ctx))(t); n != 1 {
		t.Fatalf("purged %d, want 1", n)
	}

	// A claim (status 0) blocks the key until it is completed, once, or given up.
	claim := must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "claim", RequestHash: []byte{9}}))(t)
	_, err = f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "claim", RequestHash: []byte{9}})
	isErr(t, err, store.ErrConflict)
	isErr(t, f.b.CompleteIdempotency(f.ctx, claim, 201, []byte("{}")), store.ErrNotFound) // not B's
	if err := f.a.CompleteIdempotency(f.ctx, claim, 201, []byte(`{"data":1}`)); err != nil {
		t.Fatal(err)
	}
	isErr(t, f.a.CompleteIdempotency(f.ctx, claim, 200, nil), store.ErrNotFound) // already complete
	got := must(f.a.GetIdempotency(f.ctx, "claim"))(t)
	if got.StatusCode != 201 || string(got.Body) != `{"data":1}` {
		t.Fatalf("completed record %+v", got)
	}
	if err := f.a.DeleteIdempotency(f.ctx, got); err != nil {
		t.Fatal(err)
	}
	_, err = f.a.GetIdempotency(f.ctx, "claim")
	isErr(t, err, store.ErrNotFound)

	// A claim holds for its lease; its answer is then kept a day from when it came.
	lease := must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "lease", ExpiresAt: time.Now().Add(time.Minute)}))(t)
	if err := f.a.CompleteIdempotency(f.ctx, lease, 201, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got := must(f.a.GetIdempotency(f.ctx, "lease"))(t); time.Until(got.ExpiresAt) < store.IdempotencyTTL-time.Minute {
		t.Fatalf("a completed claim expires at %v", got.ExpiresAt)
	}
	// A claim whose lease ran out (its process died) frees the key, and its late answer is
	// not recorded over the repeat's claim.
	dead := must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "dead", ExpiresAt: time.Now().Add(50 * time.Millisecond)}))(t)
	time.Sleep(100 * time.Millisecond)
	isErr(t, f.a.CompleteIdempotency(f.ctx, dead, 201, []byte(`{}`)), store.ErrNotFound)
	must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "dead", ExpiresAt: time.Now().Add(time.Minute)}))(t)
}

// testDeadClaimBindsItsKey: a claim whose lease ran out (its process died) still binds its key
// to its request: another request under the key is refused and sees the claim, purging keeps
// it, and only the same request takes it over.
func testDeadClaimBindsItsKey(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	past := time.Now().Add(-time.Second)
	must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "dead", RequestHash: []byte{1}, ExpiresAt: past}))(t)
	_, err := f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "dead", RequestHash: []byte{2}, ExpiresAt: time.Now().Add(time.Minute)})
	isErr(t, err, store.ErrConflict)
	if got := must(f.a.GetIdempotency(f.ctx, "dead"))(t); got.StatusCode != 0 || string(got.RequestHash) != "\x01" {
		t.Fatalf("the dead claim as read: %+v", got)
	}
	must(f.s.PurgeReplays(f.ctx, 10))(t)
	must(f.a.PurgeIdempotency(f.ctx))(t)
	_, err = f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "dead", RequestHash: []byte{2}})
	isErr(t, err, store.ErrConflict)
	again := must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "dead", RequestHash: []byte{1}, ExpiresAt: time.Now().Add(time.Minute)}))(t)
	same(t, must(f.a.GetIdempotency(f.ctx, "dead"))(t), again)

}

// testOutlivedClaimLeavesTheRepeats: a run that outlived its claim's lease (stalled, not dead)
// while a repeat of the same request took the claim over neither records its answer over the
// repeat's claim nor, giving up, deletes it: both name the claim they hold, not the key.
func testOutlivedClaimLeavesTheRepeats(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	stalled := must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "k", RequestHash: []byte{1}, ExpiresAt: time.Now().Add(-time.Second)}))(t)
	repeat := must(f.a.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "k", RequestHash: []byte{1}, ExpiresAt: time.Now().Add(time.Minute)}))(t)
	isErr(t, f.a.CompleteIdempotency(f.ctx, stalled, 201, []byte(`{"data":{"id":"stalled"}}`)), store.ErrNotFound)
	ok(t, f.a.DeleteIdempotency(f.ctx, stalled))
	same(t, must(f.a.GetIdempotency(f.ctx, "k"))(t), repeat)
	ok(t, f.a.CompleteIdempotency(f.ctx, repeat, 201, []byte(`{"data":{"id":"repeat"}}`)))
	if got := must(f.a.GetIdempotency(f.ctx, "k"))(t); string(got.Body) != `{"data":{"id":"repeat"}}` {
		t.Fatalf("the repeat's answer: %+v", got)
	}
}

// testReplayAfterErasure: an idempotent answer recorded after an erasure it raced, naming
// the erased interview, is not kept (the claim goes, so a repeat runs again); answers naming
// nothing erased are kept; an answer recorded before the erasure goes with it. Expired
// records of every caller, and erasures older than any record, are purged.
func testReplayAfterErasure(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	caller := f.s.Team("caller:someone")
	iv, other := interview(t, f.a, f.campA), interview(t, f.a, f.campA)
	claims := map[string]store.IdempotencyRecord{}
	for _, k := range []string{"raced", "unrelated"} {
		claims[k] = must(caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: k, RequestHash: []byte{1}, ExpiresAt: time.Now().Add(time.Minute)}))(t)
	}
	ok(t, f.a.DeleteInterview(f.ctx, iv.ID))
	// The request ran before the erasure; its answer comes after.
	ok(t, caller.CompleteIdempotency(f.ctx, claims["raced"], 201, []byte(`{"data":{"evidence":[{"interview_id":"`+string(iv.ID)+`","quote":"my words"}]}}`)))
	_, err := caller.GetIdempotency(f.ctx, "raced")
	isErr(t, err, store.ErrNotFound)
	must(caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "raced", RequestHash: []byte{1}}))(t) // a repeat claims it again
	ok(t, caller.CompleteIdempotency(f.ctx, claims["unrelated"], 201, []byte(`{"data":{"interview_id":"`+string(other.ID)+`"}}`)))
	must(caller.GetIdempotency(f.ctx, "unrelated"))(t)
	// Recorded first, the answer goes with the erasure.
	ok(t, f.a.DeleteInterview(f.ctx, other.ID))
	_, err = caller.GetIdempotency(f.ctx, "unrelated")
	isErr(t, err, store.ErrNotFound)

	past := time.Now().Add(-time.Second)
	for _, c := range []store.TeamStore{caller, f.s.Team("caller:another")} {
		must(c.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "old", StatusCode: 201, ExpiresAt: past}))(t)
	}
	if n := must(f.s.PurgeReplays(f.ctx, 1))(t); n != 1 {
		t.Fatalf("purged %d with a limit of 1", n)
	}
	if n := must(f.s.PurgeReplays(f.ctx, 10))(t); n != 1 {
		t.Fatalf("purged %d, want the other caller's expired record", n)
	}
	must(caller.GetIdempotency(f.ctx, "raced"))(t) // the live claim stays
	if n := must(f.s.PurgeReplays(f.ctx, 10))(t); n != 0 {
		t.Fatalf("purged %d with nothing expired (erasures are a day old at the earliest)", n)
	}
}

// testCampaignReplaysGone: deleting a campaign keeps the records whose answer was the campaign
// (its create, its actions), their answers erased, as gone with its id, so a retry of the
// create is not run again; other records naming it (an interview's start) go whole, and
// records of other campaigns stay as they were.
func testCampaignReplaysGone(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	caller := f.s.Team("caller:someone")
	iv := interview(t, f.a, f.campA)
	answers := map[string]string{
		"create": `{"data":{"id":"` + string(f.campA) + `","title":"Study"}}`,
		"start":  `{"data":{"id":"` + string(iv.ID) + `","campaign_id":"` + string(f.campA) + `","participant":{"email":"p@example.com"}}}`,
		"other":  `{"data":{"id":"` + string(f.campB) + `"}}`,
	}
	for k, body := range answers {
		claim := must(caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: k, RequestHash: []byte(k)}))(t)
		ok(t, caller.CompleteIdempotency(f.ctx, claim, 201, []byte(body)))
	}
	must(f.a.DeleteCampaignData(f.ctx, f.campA))(t)
	gone := must(caller.GetIdempotency(f.ctx, "create"))(t)
	if gone.Gone != string(f.campA) || gone.GoneKind != store.GoneCampaign || len(gone.Body) != 0 || gone.StatusCode != 201 || string(gone.RequestHash) != "create" {
		t.Fatalf("the create's record after its campaign was deleted: %+v", gone)
	}
	_, err := caller.GetIdempotency(f.ctx, "start")
	isErr(t, err, store.ErrNotFound)
	if other := must(caller.GetIdempotency(f.ctx, "other"))(t); other.Gone != "" || string(other.Body) != answers["other"] {
		t.Fatalf("another campaign's record: %+v", other)
	}
	// The key stays taken until it expires.
	_, err = caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "create", RequestHash: []byte("create")})
	isErr(t, err, store.ErrConflict)
}

// testInterviewReplaysGone: erasing an interview keeps the records whose answer was the
// interview (its start), as gone with its id and holding nothing of the participant: no
// answer, no request hash (a fingerprint of the participant's data the start sent). A retry of
// the start is then told it was erased rather than run again with the participant's data.
// Other records naming it (an answer) go whole.
func testInterviewReplaysGone(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	caller := f.s.Team("caller:someone")
	iv := interview(t, f.a, f.campA)
	answers := map[string]string{
		"start":  `{"data":{"id":"` + string(iv.ID) + `","campaign_id":"` + string(f.campA) + `","participant":{"email":"p@example.com"}}}`,
		"answer": `{"data":{"interview_id":"` + string(iv.ID) + `","content":"my words"}}`,
	}
	for k, body := range answers {
		claim := must(caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: k, RequestHash: []byte(k)}))(t)
		ok(t, caller.CompleteIdempotency(f.ctx, claim, 201, []byte(body)))
	}
	ok(t, f.a.DeleteInterview(f.ctx, iv.ID))
	gone := must(caller.GetIdempotency(f.ctx, "start"))(t)
	if gone.Gone != string(iv.ID) || gone.GoneKind != store.GoneInterview || len(gone.Body) != 0 || len(gone.RequestHash) != 0 || gone.StatusCode != 201 {
		t.Fatalf("the start's record after its interview was erased: %+v", gone)
	}
	_, err := caller.GetIdempotency(f.ctx, "answer")
	isErr(t, err, store.ErrNotFound)
	_, err = caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "start", RequestHash: []byte("start")})
	isErr(t, err, store.ErrConflict)
	// Deleting the campaign afterwards leaves the marker, which names nothing any more.
	must(f.a.DeleteCampaignData(f.ctx, f.campA))(t)
	same(t, must(caller.GetIdempotency(f.ctx, "start"))(t), gone)
}

// testRacedStartsAreGone: a start (or a create) erased while it ran, its answer recorded after
// the erasure, leaves the gone marker an earlier answer would have become, not a free key: a
// repeat of the start is told the interview was erased instead of storing the participant's
// data again. The marker holds no answer, and an interview's no request hash either.
func testRacedStartsAreGone(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	caller := f.s.Team("caller:someone")
	iv := interview(t, f.a, f.campA)
	starting := must(caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "start", RequestHash: []byte("start"), ExpiresAt: time.Now().Add(time.Minute)}))(t)
	creating := must(caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "create", RequestHash: []byte("create"), ExpiresAt: time.Now().Add(time.Minute)}))(t)
	ok(t, f.a.DeleteInterview(f.ctx, iv.ID))
	must(f.a.DeleteCampaignData(f.ctx, f.campB))(t)
	// The requests ran before the erasures; their answers come after.
	ok(t, caller.CompleteIdempotency(f.ctx, starting, 201, []byte(`{"data":{"id":"`+string(iv.ID)+`","participant":{"email":"p@example.com"}}}`)))
	ok(t, caller.CompleteIdempotency(f.ctx, creating, 201, []byte(`{"data":{"id":"`+string(f.campB)+`","title":"Study"}}`)))
	started := must(caller.GetIdempotency(f.ctx, "start"))(t)
	if started.Gone != string(iv.ID) || started.GoneKind != store.GoneInterview || len(started.Body) != 0 || len(started.RequestHash) != 0 ||
		started.StatusCode != 201 || time.Until(started.ExpiresAt) < store.IdempotencyTTL-time.Minute {
		t.Fatalf("the raced start's record: %+v", started)
	}
	created := must(caller.GetIdempotency(f.ctx, "create"))(t)
	if created.Gone != string(f.campB) || created.GoneKind != store.GoneCampaign || len(created.Body) != 0 || string(created.RequestHash) != "create" {
		t.Fatalf("the raced create's record: %+v", created)
	}
	// The key stays taken until it expires, and deleting the campaign leaves the marker.
	_, err := caller.SaveIdempotency(f.ctx, store.IdempotencyRecord{Key: "start", RequestHash: []byte("start")})
	isErr(t, err, store.ErrConflict)
	must(f.a.DeleteCampaignData(f.ctx, f.campA))(t)
	same(t, must(caller.GetIdempotency(f.ctx, "start"))(t), started)
}

func testOutboxAndDeliveries(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	payload := json.RawMessage(`{"id": "f1",  "title":"x"}`)
	ev := must(f.a.AddEvent(f.ctx, store.NewEvent{Type: "finding.created", Payload: payload}))(t)
	if len(ev.ID) != len("evt_")+32 || string(must(f.a.GetEvent(f.ctx, ev.ID))(t).Payload) != string(payload) {
		t.Fatalf("event %+v does not round-trip", ev)
	}
	_, err := f.a.AddEvent(f.ctx, store.NewEvent{Type: "x", Payload: json.RawMessage("{")})
	isErr(t, err, store.ErrInvalidInput)
	same(t, must(f.a.PendingEvents(f.ctx, 10))(t), []store.Event{ev})

	d := must(f.a.CreateDelivery(f.ctx, store.NewDelivery{WebhookID: "wh1", EventID: ev.ID}))(t)
	if d.EventType != "finding.created" || d.Status != store.DeliveryPending {
		t.Fatalf("delivery = %+v", d)
	}
	retry := time.Now().Add(time.Hour)
	d = must(f.a.RecordAttempt(f.ctx, d.ID, store.AttemptResult{StatusCode: 503, DurationMS: 12,
		Error: "unavailable", ResponseExcerpt: "busy", Status: store.DeliveryPending, NextRetryAt: &retry}))(t)
	if len(must(f.a.DueDeliveries(f.ctx, time.Now(), 10))(t)) != 0 || len(must(f.a.DueDeliveries(f.ctx, retry, 10))(t)) != 1 {
		t.Fatal("due deliveries ignore next_retry_at")
	}
	d = must(f.a.RecordAttempt(f.ctx, d.ID, store.AttemptResult{StatusCode: 200, DurationMS: 8, Status: store.DeliverySucceeded}))(t)
	if len(d.Attempts) != 2 || d.Attempts[1].Attempt != 2 || d.Attempts[0].StatusCode != 503 || d.NextRetryAt != nil {
		t.Fatalf("delivery after two attempts = %+v", d)
	}
	_, err = f.a.RecordAttempt(f.ctx, d.ID, store.AttemptResult{Status: store.DeliveryFailed})
	isErr(t, err, store.ErrInvalidState)
	d = must(f.a.Redeliver(f.ctx, d.ID, time.Now()))(t)
	if d.Status != store.DeliveryPending {
		t.Fatalf("redelivered = %+v", d)
	}
	page := must(f.a.ListDeliveries(f.ctx, "wh1", store.PageRequest{}))(t)
	same(t, page.Items, []store.Delivery{d})

	ok(t, f.a.MarkEventDispatched(f.ctx, ev.ID))
	isErr(t, f.a.MarkEventDispatched(f.ctx, ev.ID), store.ErrInvalidState)
	if n := len(must(f.a.PendingEvents(f.ctx, 10))(t)); n != 0 {
		t.Fatalf("%d pending events after dispatch", n)
	}
}
