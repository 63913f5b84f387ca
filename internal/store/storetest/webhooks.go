package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

// event adds an event about subject.
func event(t *testing.T, ts store.TeamStore, subject string) store.Event {
	t.Helper()
	return must(ts.AddEvent(t.Context(), store.NewEvent{Type: "finding.updated", Subject: subject,
		Payload: json.RawMessage(`{"subject":` + fmt.Sprintf("%q", subject) + `}`)}))(t)
}

// delivery makes a pending delivery of ev to webhook.
func delivery(t *testing.T, ts store.TeamStore, webhook store.WebhookID, ev store.Event) store.Delivery {
	t.Helper()
	return must(ts.CreateDelivery(t.Context(), store.NewDelivery{WebhookID: webhook, EventID: ev.ID}))(t)
}

// attempt records an attempt made at at with HTTP status code; the delivery stays pending.
func attempt(t *testing.T, ts store.TeamStore, d store.Delivery, code int, at time.Time) store.Delivery {
	t.Helper()
	return must(ts.RecordAttempt(t.Context(), d.ID, store.AttemptResult{StatusCode: code,
		Status: store.DeliveryPending, At: at}))(t)
}

// pendingEvents counts a team's undispatched events.
func pendingEvents(t *testing.T, ts store.TeamStore) int {
	t.Helper()
	return len(must(ts.PendingEvents(t.Context(), store.MaxPageLimit))(t))
}

// testEventIdentity: an event keeps its subject, campaign and interview; a derived id makes
// AddEvent idempotent, even for writers racing with it, and is checked for shape.
func testEventIdentity(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	in := store.NewEvent{ID: "evt_0123456789abcdef0123456789abcdef", Type: "campaign.updated",
		Subject: "campaign/" + string(f.campA), CampaignID: f.campA, InterviewID: "iv-1", Payload: json.RawMessage(`{"v":1}`)}
	first := must(f.a.AddEvent(f.ctx, in))(t)
	if first.ID != in.ID || first.Subject != in.Subject || first.CampaignID != f.campA || first.InterviewID != "iv-1" {
		t.Fatalf("event = %+v", first)
	}
	same(t, must(f.a.GetEvent(f.ctx, in.ID))(t), first)
	again := in
	again.Payload = json.RawMessage(`{"v":2}`)
	same(t, must(f.a.AddEvent(f.ctx, again))(t), first) // the stored event, untouched
	if n := pendingEvents(t, f.a); n != 1 {
		t.Fatalf("%d events after adding one id twice", n)
	}
	// Another team cannot take the id, nor see the event through it.
	_, err := f.b.AddEvent(f.ctx, in)
	isErr(t, err, store.ErrConflict)
	if n := pendingEvents(t, f.b); n != 0 {
		t.Fatalf("team B has %d events", n)
	}

	for _, id := range []store.EventID{"evt_", "evt_ABC", "evt_a.b", "event_1", "evt_" + store.EventID(strings.Repeat("a", 65))} {
		_, err := f.a.AddEvent(f.ctx, store.NewEvent{ID: id, Type: "x", Payload: json.RawMessage(`{}`)})
		isErr(t, err, store.ErrInvalidInput)
	}
	must(f.a.AddEvent(f.ctx, store.NewEvent{ID: "evt_" + store.EventID(strings.Repeat("a-_9", 16)), Type: "x",
		Subject: strings.Repeat("é", store.MaxSubjectLen), Payload: json.RawMessage(`{}`)}))(t)
	_, err = f.a.AddEvent(f.ctx, store.NewEvent{Type: "x", Subject: strings.Repeat("a", store.MaxSubjectLen+1),
		Payload: json.RawMessage(`{}`)})
	isErr(t, err, store.ErrInvalidInput)

	// Writers racing with one derived id all get the one event.
	const writers = 8
	got := make([]store.Event, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			e, err := f.a.AddEvent(f.ctx, store.NewEvent{ID: "evt_race", Type: "x", Payload: json.RawMessage(fmt.Sprint(i))})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
			got[i] = e
		})
	}
	wg.Wait()
	stored := must(f.a.GetEvent(f.ctx, "evt_race"))(t)
	for _, e := range got {
		same(t, e, stored)
	}
	if n := pendingEvents(t, f.a); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
}

// testDeliveryFields: a delivery carries its team, its event's subject and the test flag, on
// create, get and list; a test delivery is never redelivered.
func testDeliveryFields(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	ev := event(t, f.a, "finding/1")
	d := delivery(t, f.a, "wh1", ev)
	td := must(f.a.CreateDelivery(f.ctx, store.NewDelivery{WebhookID: "wh1", EventID: ev.ID, Test: true}))(t)
	if d.TeamID != f.a.Team() || d.Subject != "finding/1" || d.Test || !td.Test || td.Subject != "finding/1" {
		t.Fatalf("deliveries = %+v, %+v", d, td)
	}
	same(t, must(f.a.GetDelivery(f.ctx, td.ID))(t), td)
	same(t, must(f.a.ListDeliveries(f.ctx, "wh1", store.PageRequest{Order: store.Asc}))(t).Items, []store.Delivery{d, td})

	must(f.a.RecordAttempt(f.ctx, td.ID, store.AttemptResult{StatusCode: 500, Status: store.DeliveryFailed}))(t)
	_, err := f.a.Redeliver(f.ctx, td.ID, time.Now())
	isErr(t, err, store.ErrInvalidState)
	must(f.a.RecordAttempt(f.ctx, d.ID, store.AttemptResult{StatusCode: 500, Status: store.DeliveryFailed}))(t)
	must(f.a.Redeliver(f.ctx, d.ID, time.Now()))(t)
}

// testDispatchEvents: the relay claims the oldest undispatched events of every team, creates
// the deliveries fanout asks for in each event's team, and marks the events dispatched; a
// failing fanout leaves everything as it was.
func testDispatchEvents(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	e1 := event(t, f.a, "campaign/1")
	e2 := event(t, f.b, "campaign/2")
	e3 := event(t, f.a, "campaign/3") // fanned out to nobody
	e4 := event(t, f.b, "campaign/4")
	for _, limit := range []int{0, store.MaxSweepLimit + 1} {
		_, err := f.s.DispatchEvents(f.ctx, limit, func(store.Event) []store.NewDelivery { return nil })
		isErr(t, err, store.ErrInvalidInput)
	}

	bad := func(store.Event) []store.NewDelivery {
		return []store.NewDelivery{{WebhookID: "wh", EventID: "evt_other"}}
	}
	_, err := f.s.DispatchEvents(f.ctx, 10, bad)
	isErr(t, err, store.ErrInvalidInput)
	if n, m := pendingEvents(t, f.a), pendingEvents(t, f.b); n != 2 || m != 2 {
		t.Fatalf("failed dispatch left %d and %d pending events, want 2 and 2", n, m)
	}
	if n := len(must(f.a.ListDeliveries(f.ctx, "wh", store.PageRequest{}))(t).Items); n != 0 {
		t.Fatalf("failed dispatch left %d deliveries", n)
	}

	var seen []store.EventID
	fanout := func(ev store.Event) []store.NewDelivery {
		seen = append(seen, ev.ID)
		if ev.ID == e3.ID {
			return nil
		}
		return []store.NewDelivery{{WebhookID: "wh1"}, {WebhookID: "wh2", EventID: ev.ID}}
	}
	before := time.Now()
	first := must(f.s.DispatchEvents(f.ctx, 3, fanout))(t)
	same(t, seen, []store.EventID{e1.ID, e2.ID, e3.ID})
	if len(first) != 4 {
		t.Fatalf("dispatched %d deliveries, want 4: %+v", len(first), first)
	}
	for i, d := range first {
		ev := []store.Event{e1, e1, e2, e2}[i]
		if d.TeamID != ev.TeamID || d.EventID != ev.ID || d.Subject != ev.Subject || d.EventType != ev.Type ||
			d.Status != store.DeliveryPending || d.Test || d.NextRetryAt == nil || d.NextRetryAt.Before(before.Add(-time.Millisecond)) {
			t.Fatalf("delivery %d = %+v for event %+v", i, d, ev)
		}
		ts := map[store.TeamID]store.TeamStore{f.a.Team(): f.a, f.b.Team(): f.b}[d.TeamID]
		same(t, must(ts.GetDelivery(f.ctx, d.ID))(t), d)
	}
	if due := must(f.b.DueDeliveries(f.ctx, time.Now(), 10))(t); len(due) != 2 {
		t.Fatalf("team B has %d due deliveries, want 2", len(due))
	}
	for _, ev := range []store.Event{e1, e2, e3} {
		ts := map[store.TeamID]store.TeamStore{f.a.Team(): f.a, f.b.Team(): f.b}[ev.TeamID]
		if got := must(ts.GetEvent(f.ctx, ev.ID))(t); got.DispatchedAt == nil {
			t.Fatalf("event %s not marked dispatched", ev.ID)
		}
	}
	rest := must(f.s.DispatchEvents(f.ctx, 10, fanout))(t)
	if len(rest) != 2 || rest[0].EventID != e4.ID || seen[len(seen)-1] != e4.ID {
		t.Fatalf("second dispatch = %+v", rest)
	}
	if again := must(f.s.DispatchEvents(f.ctx, 10, fanout))(t); len(again) != 0 || len(seen) != 4 {
		t.Fatalf("third dispatch fanned out %v, made %+v", seen[4:], again)
	}
}

// testConcurrentDispatch: relays dispatching at once fan every event out exactly once.
func testConcurrentDispatch(t *testing.T, newDSN NewDSN) {
	const events, relays, limit = 60, 4, 4
	f := setup(t, newDSN)
	var want []string
	for i := range events {
		ts := []store.TeamStore{f.a, f.b}[i%2]
		want = append(want, string(event(t, ts, fmt.Sprint("s", i)).ID))
	}
	var mu sync.Mutex
	var fanned, delivered []string
	var wg sync.WaitGroup
	for range relays {
		wg.Go(func() {
			for {
				var mine []string // this call's; a call that fails is rolled back
				ds, err := f.s.DispatchEvents(f.ctx, limit, func(ev store.Event) []store.NewDelivery {
					mine = append(mine, string(ev.ID))
					return []store.NewDelivery{{WebhookID: "wh"}}
				})
				if err != nil {
					t.Errorf("dispatch: %v", err)
					return
				}
				mu.Lock()
				fanned = append(fanned, mine...)
				for _, d := range ds {
					delivered = append(delivered, string(d.EventID))
				}
				mu.Unlock()
				if len(mine) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(want)
	slices.Sort(fanned)
	slices.Sort(delivered)
	same(t, fanned, want) // each exactly once
	same(t, delivered, want)
	if n, m := pendingEvents(t, f.a), pendingEvents(t, f.b); n+m != 0 {
		t.Fatalf("%d events left undispatched", n+m)
	}
}

// testStrandedDeliveries: pending deliveries of every team not updated since the cut, least
// recently updated first; finished ones, recently attempted ones and ones not due before the
// cut are not stranded.
func testStrandedDeliveries(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	a1 := delivery(t, f.a, "wh", event(t, f.a, "s"))
	b1 := delivery(t, f.b, "wh", event(t, f.b, "s"))
	a2 := delivery(t, f.a, "wh", event(t, f.a, "t"))
	done := delivery(t, f.a, "wh", event(t, f.a, "s"))
	// Behind a1 in its subject's line to wh: it is queued when a1 finishes, not before.
	behind := delivery(t, f.a, "wh", event(t, f.a, "s"))
	must(f.a.RecordAttempt(f.ctx, done.ID, store.AttemptResult{StatusCode: 200, Status: store.DeliverySucceeded}))(t)
	cut := time.Now().Add(time.Minute)
	attempt(t, f.a, a1, 503, cut.Add(time.Second)) // its job just ran: updated after the cut
	// Long untouched, but not due before the cut (a retry, or a hold's end, after it): its job
	// has nothing to do yet, so it is not stranded, and it does not take a place in the batch.
	later := cut.Add(time.Hour)
	waiting := delivery(t, f.a, "wh", event(t, f.a, "u"))
	must(f.a.RecordAttempt(f.ctx, waiting.ID, store.AttemptResult{StatusCode: 503, Status: store.DeliveryPending,
		At: time.Now().Add(-time.Hour), NextRetryAt: &later}))(t)

	for _, limit := range []int{0, store.MaxSweepLimit + 1} {
		_, err := f.s.StrandedDeliveries(f.ctx, cut, limit)
		isErr(t, err, store.ErrInvalidInput)
	}
	ids := func(ds []store.Delivery) []store.DeliveryID {
		out := []store.DeliveryID{}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	got := must(f.s.StrandedDeliveries(f.ctx, cut, 10))(t)
	same(t, ids(got), []store.DeliveryID{b1.ID, a2.ID})
	if got[0].TeamID != f.b.Team() || got[1].TeamID != f.a.Team() || got[1].Subject != "t" {
		t.Fatalf("stranded = %+v", got)
	}
	same(t, ids(must(f.s.StrandedDeliveries(f.ctx, cut, 1))(t)), []store.DeliveryID{b1.ID})
	same(t, ids(must(f.s.StrandedDeliveries(f.ctx, cut.Add(2*time.Second), 10))(t)), []store.DeliveryID{b1.ID, a2.ID, a1.ID})
	same(t, ids(must(f.s.StrandedDeliveries(f.ctx, b1.UpdatedAt, 10))(t)), []store.DeliveryID{})
	same(t, ids(must(f.s.StrandedDeliveries(f.ctx, later.Add(time.Second), 10))(t)), []store.DeliveryID{waiting.ID, b1.ID, a2.ID, a1.ID})
	// Once a1 is done, the delivery behind it heads the line, and is stranded if untouched.
	must(f.a.RecordAttempt(f.ctx, a1.ID, store.AttemptResult{StatusCode: 200, Status: store.DeliverySucceeded}))(t)
	if got := ids(must(f.s.StrandedDeliveries(f.ctx, later.Add(time.Second), 10))(t)); !slices.Contains(got, behind.ID) || slices.Contains(got, a1.ID) {
		t.Fatalf("stranded after the head finished: %v, want %s and not %s", got, behind.ID, a1.ID)
	}
}

// testPruneDeliveries: retention deletes old finished deliveries, then old dispatched events
// no pending delivery needs, limit rows per call, in every team, and nothing else.
func testPruneDeliveries(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	finish := func(ts store.TeamStore, d store.Delivery, st store.DeliveryStatus) {
		must(ts.RecordAttempt(f.ctx, d.ID, store.AttemptResult{StatusCode: 200, Status: st}))(t)
	}
	dispatched := func(ts store.TeamStore) store.Event {
		ev := event(t, ts, "s")
		ok(t, ts.MarkEventDispatched(f.ctx, ev.ID))
		return ev
	}
	start := time.Now().Add(-time.Second)
	done := dispatched(f.a) // two finished deliveries
	finish(f.a, delivery(t, f.a, "wh1", done), store.DeliverySucceeded)
	finish(f.a, delivery(t, f.a, "wh2", done), store.DeliveryFailed)
	busy := dispatched(f.a) // one finished, one pending
	finish(f.a, delivery(t, f.a, "wh1", busy), store.DeliverySucceeded)
	pending := delivery(t, f.a, "wh2", busy)
	waiting := event(t, f.a, "s") // not dispatched yet
	bare := dispatched(f.a)       // fanned out to nobody
	other := dispatched(f.b)
	finish(f.b, delivery(t, f.b, "wh1", other), store.DeliveryFailed)
	before := time.Now().Add(time.Second)

	_, err := f.s.PruneDeliveries(f.ctx, before, 0)
	isErr(t, err, store.ErrInvalidInput)
	if n := must(f.s.PruneDeliveries(f.ctx, start, 10))(t); n != 0 {
		t.Fatalf("pruned %d rows created before everything", n)
	}
	if n := must(f.s.PruneDeliveries(f.ctx, before, 3))(t); n != 3 {
		t.Fatalf("first prune deleted %d rows, want 3", n)
	}
	if n := must(f.s.PruneDeliveries(f.ctx, before, 10))(t); n != 4 { // a delivery, then done, bare, other
		t.Fatalf("second prune deleted %d rows, want 4", n)
	}
	if n := must(f.s.PruneDeliveries(f.ctx, before, 10))(t); n != 0 {
		t.Fatalf("third prune deleted %d rows", n)
	}
	for _, ev := range []store.Event{done, bare, other} {
		_, err := map[store.TeamID]store.TeamStore{f.a.Team(): f.a, f.b.Team(): f.b}[ev.TeamID].GetEvent(f.ctx, ev.ID)
		isErr(t, err, store.ErrNotFound)
	}
	must(f.a.GetEvent(f.ctx, busy.ID))(t)
	must(f.a.GetEvent(f.ctx, waiting.ID))(t)
	same(t, must(f.a.GetDelivery(f.ctx, pending.ID))(t), pending)
	for _, wh := range []store.WebhookID{"wh1", "wh2"} {
		for _, ts := range []store.TeamStore{f.a, f.b} {
			for _, d := range must(ts.ListDeliveries(f.ctx, wh, store.PageRequest{}))(t).Items {
				if d.ID != pending.ID {
					t.Fatalf("finished delivery %+v survived", d)
				}
			}
		}
	}
}

// testWebhookHealth: attempts move the health of their webhook in the attempt's transaction,
// at the attempt's time; test deliveries, held attempts and rolled-back attempts do not; the
// relay sees changed rows of every team.
func testWebhookHealth(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	at := func(m int) *time.Time { v := base.Add(time.Duration(m) * time.Minute); return &v }
	same(t, must(f.a.Health(f.ctx, "wh1"))(t), store.WebhookHealth{TeamID: f.a.Team(), WebhookID: "wh1"})

	d1 := delivery(t, f.a, "wh1", event(t, f.a, "s1"))
	d2 := delivery(t, f.a, "wh1", event(t, f.a, "s2"))
	attempt(t, f.a, d1, 503, *at(1))
	attempt(t, f.a, d2, 0, *at(2)) // no response is a failure too
	same(t, must(f.a.Health(f.ctx, "wh1"))(t), store.WebhookHealth{TeamID: f.a.Team(), WebhookID: "wh1",
		ConsecutiveFailures: 2, FailingSince: at(1), LastDeliveryAt: at(2), UpdatedAt: *at(2)})

	// A test delivery, and an attempt whose transaction rolls back, leave the health alone.
	ev := event(t, f.a, "s3")
	td := must(f.a.CreateDelivery(f.ctx, store.NewDelivery{WebhookID: "wh1", EventID: ev.ID, Test: true}))(t)
	must(f.a.RecordAttempt(f.ctx, td.ID, store.AttemptResult{StatusCode: 200, Status: store.DeliverySucceeded, At: *at(3)}))(t)
	boom := errors.New("boom")
	isErr(t, f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		attempt(t, tx, d1, 200, *at(3))
		return boom
	}), boom)
	same(t, must(f.a.Health(f.ctx, "wh1"))(t).ConsecutiveFailures, 2)
	if n := len(must(f.a.GetDelivery(f.ctx, d1.ID))(t).Attempts); n != 1 {
		t.Fatalf("rolled-back attempt kept: %d attempts", n)
	}

	attempt(t, f.a, d1, 204, *at(4))
	same(t, must(f.a.Health(f.ctx, "wh1"))(t), store.WebhookHealth{TeamID: f.a.Team(), WebhookID: "wh1",
		LastDeliveryAt: at(4), LastSuccessAt: at(4), UpdatedAt: *at(4)})
	attempt(t, f.a, d2, 301, *at(5)) // a redirect is not a success
	healthA := store.WebhookHealth{TeamID: f.a.Team(), WebhookID: "wh1", ConsecutiveFailures: 1,
		FailingSince: at(5), LastDeliveryAt: at(5), LastSuccessAt: at(4), UpdatedAt: *at(5)}
	same(t, must(f.a.Health(f.ctx, "wh1"))(t), healthA)
	same(t, must(f.b.Health(f.ctx, "wh1"))(t), store.WebhookHealth{TeamID: f.b.Team(), WebhookID: "wh1"})

	// A held attempt (nothing sent: the webhook was stalled) is logged, marked, and counts
	// toward neither the streak nor the delivery's tries.
	held := must(f.a.RecordAttempt(f.ctx, d2.ID, store.AttemptResult{Error: "the webhook is stalled", Held: true,
		Status: store.DeliveryPending, At: *at(6)}))(t)
	if a := held.Attempts[len(held.Attempts)-1]; !a.Held || a.Error != "the webhook is stalled" || held.Tries() != len(held.Attempts)-1 {
		t.Fatalf("held attempt read back as %+v, %d tries of %d attempts", a, held.Tries(), len(held.Attempts))
	}
	same(t, must(f.a.Health(f.ctx, "wh1"))(t), healthA)

	dB := delivery(t, f.b, "wh1", event(t, f.b, "s"))
	attempt(t, f.b, dB, 200, *at(3))
	healthB := must(f.b.Health(f.ctx, "wh1"))(t)
	dA2 := delivery(t, f.a, "wh2", event(t, f.a, "s"))
	attempt(t, f.a, dA2, 500, *at(6))
	healthA2 := must(f.a.Health(f.ctx, "wh2"))(t)

	_, err := f.s.WebhookHealth(f.ctx, base, 0)
	isErr(t, err, store.ErrInvalidInput)
	same(t, must(f.s.WebhookHealth(f.ctx, base, 10))(t), []store.WebhookHealth{healthB, healthA, healthA2})
	same(t, must(f.s.WebhookHealth(f.ctx, *at(5), 10))(t), []store.WebhookHealth{healthA, healthA2})
	same(t, must(f.s.WebhookHealth(f.ctx, base, 1))(t), []store.WebhookHealth{healthB})
	same(t, must(f.s.WebhookHealth(f.ctx, *at(7), 10))(t), []store.WebhookHealth{})
}

// testHeldTimeIsNotFailing: time a failing webhook's deliveries were held by a stall does not
// count toward its failure streak (the disable period): the first failure after the hold
// moves the streak's start later by the time held, once however many deliveries were held;
// a hold that began while nothing was failing moves nothing, and a success ends both.
func testHeldTimeIsNotFailing(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	base := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Microsecond)
	at := func(m int) *time.Time { v := base.Add(time.Duration(m) * time.Minute); return &v }
	held := func(d store.Delivery, m int) {
		t.Helper()
		must(f.a.RecordAttempt(f.ctx, d.ID, store.AttemptResult{Error: "the webhook is stalled", Held: true,
			Status: store.DeliveryPending, At: *at(m)}))(t)
	}
	failingSince := func(want *time.Time, failures int) {
		t.Helper()
		h := must(f.a.Health(f.ctx, "wh"))(t)
		same(t, h.FailingSince, want)
		same(t, h.ConsecutiveFailures, failures)
	}
	d1 := delivery(t, f.a, "wh", event(t, f.a, "s1"))
	d2 := delivery(t, f.a, "wh", event(t, f.a, "s2"))
	attempt(t, f.a, d1, 503, *at(0))
	held(d2, 10) // the stall begins
	held(d1, 20)
	failingSince(at(0), 1)
	attempt(t, f.a, d2, 503, *at(70)) // the stall cleared: an hour held, from the first hold
	failingSince(at(60), 2)
	attempt(t, f.a, d1, 503, *at(80)) // the same hold counts once
	failingSince(at(60), 3)

	attempt(t, f.a, d1, 200, *at(90))
	held(d2, 100) // held while nothing failed: the streak starts at its first failure
	attempt(t, f.a, d2, 503, *at(130))
	failingSince(at(130), 1)
	held(d2, 140)
	attempt(t, f.a, d2, 200, *at(150)) // a success ends the streak
	attempt(t, f.a, d2, 503, *at(160))
	failingSince(at(160), 1)
}

// testOlderPendingDelivery: a delivery waits for older pending deliveries of its subject to
// its webhook, and for nothing else.
func testOlderPendingDelivery(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	older := func(ts store.TeamStore, d store.Delivery) bool {
		t.Helper()
		return must(ts.OlderPendingDelivery(f.ctx, d))(t)
	}
	s1a, s1b, s2 := event(t, f.a, "campaign/1"), event(t, f.a, "campaign/1"), event(t, f.a, "campaign/2")
	none1, none2 := event(t, f.a, ""), event(t, f.a, "")
	first := delivery(t, f.a, "wh1", s1a)
	second := delivery(t, f.a, "wh1", s1b)
	otherSubject := delivery(t, f.a, "wh1", s2)
	otherWebhook := delivery(t, f.a, "wh2", s1b)
	delivery(t, f.a, "wh1", none1)
	noSubject := delivery(t, f.a, "wh1", none2)

	if older(f.a, first) || !older(f.a, second) || older(f.a, otherSubject) || older(f.a, otherWebhook) || older(f.a, noSubject) {
		t.Fatal("waits for the wrong deliveries")
	}
	if older(f.b, second) {
		t.Fatal("waits for another team's delivery")
	}
	if head := must(f.a.HeadPendingDelivery(f.ctx, "wh1", "campaign/1"))(t); head.ID != first.ID {
		t.Fatalf("head %s, want the first %s", head.ID, first.ID)
	}
	must(f.a.RecordAttempt(f.ctx, first.ID, store.AttemptResult{StatusCode: 500, Status: store.DeliveryFailed}))(t)
	if older(f.a, second) {
		t.Fatal("waits for a finished delivery")
	}
	if head := must(f.a.HeadPendingDelivery(f.ctx, "wh1", "campaign/1"))(t); head.ID != second.ID {
		t.Fatalf("head after the first finished: %s, want %s", head.ID, second.ID)
	}
	for _, ts := range []store.TeamStore{f.a, f.b} {
		if _, err := ts.HeadPendingDelivery(f.ctx, "wh2", "campaign/2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("head of a subject with nothing pending: %v", err)
		}
	}
	// At the same creation time the id breaks the tie.
	twin := second
	twin.ID = store.DeliveryID(strings.Repeat("f", len(second.ID)))
	if !older(f.a, twin) {
		t.Fatal("a delivery with the same time and a greater id does not wait")
	}
}

// testDeleteWebhookData: deleting a webhook's data removes its deliveries, attempts and
// health, in batches, and nothing of other webhooks or teams.
func testDeleteWebhookData(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN, store.WithDeleteBatchSize(2))
	var gone []store.Delivery
	for range 5 {
		d := delivery(t, f.a, "wh1", event(t, f.a, "s"))
		gone = append(gone, attempt(t, f.a, d, 500, time.Now()))
	}
	kept := attempt(t, f.a, delivery(t, f.a, "wh2", event(t, f.a, "s")), 500, time.Now())
	keptB := attempt(t, f.b, delivery(t, f.b, "wh1", event(t, f.b, "s")), 500, time.Now())
	healthB := must(f.b.Health(f.ctx, "wh1"))(t)

	isErr(t, f.a.DeleteWebhookData(f.ctx, ""), store.ErrInvalidInput)
	ok(t, f.a.DeleteWebhookData(f.ctx, "wh1"))
	for _, d := range gone {
		_, err := f.a.GetDelivery(f.ctx, d.ID)
		isErr(t, err, store.ErrNotFound)
	}
	same(t, must(f.a.ListDeliveries(f.ctx, "wh1", store.PageRequest{}))(t).Items, []store.Delivery{})
	same(t, must(f.a.Health(f.ctx, "wh1"))(t), store.WebhookHealth{TeamID: f.a.Team(), WebhookID: "wh1"})
	same(t, must(f.a.GetDelivery(f.ctx, kept.ID))(t), kept)
	same(t, must(f.b.GetDelivery(f.ctx, keptB.ID))(t), keptB)
	same(t, must(f.b.Health(f.ctx, "wh1"))(t), healthB)
	if must(f.a.Health(f.ctx, "wh2"))(t).ConsecutiveFailures != 1 {
		t.Fatal("another webhook's health was deleted")
	}
	ok(t, f.a.DeleteWebhookData(f.ctx, "wh1")) // nothing left: still fine
}

// testEventErasure: deleting an interview deletes the events about it, and deleting a
// campaign's data every event of the campaign, in batches, with their deliveries; other
// interviews', campaigns' and teams' events stay.
func testEventErasure(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN, store.WithDeleteBatchSize(3))
	add := func(ts store.TeamStore, c store.CampaignID, iv store.InterviewID) store.Delivery {
		ev := must(ts.AddEvent(f.ctx, store.NewEvent{Type: "interview.completed", Subject: "interview/" + string(iv),
			CampaignID: c, InterviewID: iv, Payload: json.RawMessage(`{}`)}))(t)
		return attempt(t, ts, delivery(t, ts, "wh", ev), 500, time.Now())
	}
	gets := func(ts store.TeamStore, ds ...store.Delivery) error {
		var err error
		for _, d := range ds {
			if _, e := ts.GetDelivery(f.ctx, d.ID); e != nil {
				err = e
			} else if _, e := ts.GetEvent(f.ctx, d.EventID); e != nil {
				err = e
			}
		}
		return err
	}
	iv1, iv2 := interview(t, f.a, f.campA), interview(t, f.a, f.campA)
	ofIv1 := []store.Delivery{add(f.a, f.campA, iv1.ID), add(f.a, "", iv1.ID)} // the second names no campaign
	ofIv2 := add(f.a, f.campA, iv2.ID)
	var ofCamp []store.Delivery
	for range 7 {
		ofCamp = append(ofCamp, add(f.a, f.campA, ""))
	}
	ofOther := add(f.a, f.campB, "")
	ofB := add(f.b, f.campA, "")

	ok(t, f.a.DeleteInterview(f.ctx, iv1.ID))
	for _, d := range ofIv1 {
		isErr(t, gets(f.a, d), store.ErrNotFound)
	}
	ok(t, gets(f.a, append(ofCamp, ofIv2, ofOther)...))

	ivNoCamp := add(f.a, "", iv2.ID) // found through its interview
	must(f.a.DeleteCampaignData(f.ctx, f.campA))(t)
	for _, d := range append(ofCamp, ofIv2, ivNoCamp) {
		isErr(t, gets(f.a, d), store.ErrNotFound)
	}
	ok(t, gets(f.a, ofOther))
	ok(t, gets(f.b, ofB))
}
