package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"

	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/store"
)

// Every event reaches the endpoint once, signed, in the documented envelope, and the log
// shows one successful attempt each.
func TestDeliversSignedEvents(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b.DSN(t), nil)
			want := map[string]store.Event{}
			for i := range 40 {
				ev := emit(t, f.ts, "interview.completed", fmt.Sprintf("iv-%d", i%7))
				want[string(ev.ID)] = ev
			}
			eventually(t, 30*time.Second, "40 deliveries", func() bool { return len(f.rc.delivered()) == 40 })
			for _, r := range f.rc.requests() {
				ev, ok := want[r.id]
				if !ok {
					t.Fatalf("unknown event %s", r.id)
				}
				var env map[string]json.RawMessage
				if err := json.Unmarshal(r.body, &env); err != nil {
					t.Fatal(err)
				}
				if string(env["data"]) != string(ev.Payload) || string(env["type"]) != `"interview.completed"` || len(env) != 4 {
					t.Fatalf("envelope %s for payload %s", r.body, ev.Payload)
				}
			}
			eventually(t, 10*time.Second, "the log to settle", func() bool {
				ds := deliveries(t, f.ts, f.ep.ID)
				for _, d := range ds {
					if d.Status != store.DeliverySucceeded || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != http.StatusNoContent {
						return false
					}
				}
				return len(ds) == 40
			})
			if dup := duplicates(f.rc.delivered()); dup != 0 {
				t.Fatalf("%d events delivered twice while healthy", dup)
			}
		})
	}
}

func duplicates(got map[string]int) int {
	n := 0
	for _, c := range got {
		if c > 1 {
			n++
		}
	}
	return n
}

// An attempt slower than the status roll-up's interval still reaches the Webhook's status:
// its health row is stamped with the attempt's start, long before it commits.
func TestSlowFailuresReachTheStatus(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b.DSN(t), nil)
			f.rc.answer = func(received, int, http.Header) int {
				time.Sleep(1500 * time.Millisecond)
				return http.StatusInternalServerError
			}
			emit(t, f.ts, "finding.created", "slow")
			eventually(t, 20*time.Second, "the failure in the status", func() bool {
				h := f.hw.reported(f.ep.ID)
				return h.ConsecutiveFailures >= 1 && h.LastDeliveryAt != nil
			})
		})
	}
}

// A status HTTP does not have is no response: the log records none, and the error says why.
func TestAnInvalidStatusIsNoResponse(t *testing.T) {
	b := backends[0]
	f := newFixture(t, b.DSN(t), nil)
	f.rc.answer = func(received, int, http.Header) int { return 999 }
	emit(t, f.ts, "finding.created", "odd")
	eventually(t, 10*time.Second, "the first attempt", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && len(d[0].Attempts) >= 1
	})
	a := deliveries(t, f.ts, f.ep.ID)[0].Attempts[0]
	if a.StatusCode != 0 || !strings.Contains(a.Error, "invalid HTTP status (999)") {
		t.Fatalf("attempt %+v", a)
	}
}

// A receiver that fails three times and then succeeds gets the same webhook-id four times,
// spaced by the schedule; the log holds every attempt with its status and excerpt.
func TestRetriesUntilTheReceiverSucceeds(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			f := newFixture(t, b.DSN(t), func(cfg *delivery.Config) { cfg.Metrics = reg })
			f.rc.answer = func(_ received, n int, _ http.Header) int {
				if n <= 3 {
					return http.StatusServiceUnavailable
				}
				return http.StatusOK
			}
			ev := emit(t, f.ts, "finding.created", "f1")
			eventually(t, 30*time.Second, "the fourth attempt", func() bool { return f.rc.delivered()[string(ev.ID)] == 1 })
			reqs := f.rc.requests()
			if len(reqs) != 4 {
				t.Fatalf("%d requests, want 4", len(reqs))
			}
			for i := 1; i < len(reqs); i++ {
				gap := reqs[i].at.Sub(reqs[i-1].at)
				if min := time.Duration(float64(fastSchedule.Waits[i-1]) * 0.85); gap < min {
					t.Fatalf("retry %d came after %s, before the schedule's %s", i, gap, fastSchedule.Waits[i-1])
				}
			}
			eventually(t, 10*time.Second, "the log", func() bool {
				d := deliveries(t, f.ts, f.ep.ID)
				return len(d) == 1 && d[0].Status == store.DeliverySucceeded && len(d[0].Attempts) == 4
			})
			d := deliveries(t, f.ts, f.ep.ID)[0]
			a := d.Attempts[0]
			if a.StatusCode != 503 || !strings.Contains(a.Error, "503") || !strings.Contains(a.ResponseExcerpt, "status 503") {
				t.Fatalf("first attempt: %+v", a)
			}
			if h, _ := f.ts.Health(context.Background(), f.ep.ID); h.ConsecutiveFailures != 0 || h.LastSuccessAt == nil {
				t.Fatalf("health after the success: %+v", h)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP qual_webhook_attempts_total Webhook delivery attempts by outcome: succeeded, retry (failed, tried again later), failed (given up) or held (nothing sent: the webhook is stalled).
# TYPE qual_webhook_attempts_total counter
qual_webhook_attempts_total{outcome="retry"} 3
qual_webhook_attempts_total{outcome="succeeded"} 1
`), "qual_webhook_attempts_total"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// An attempt that outlasts the wait before the next one (a receiver slower than the first
// retry step) finds its retry already due: the job comes back at once, not by River's error
// backoff after a "negative snooze" panic.
func TestSlowAttemptRetriesWhenDue(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) {
		cfg.Logger = funcr.New(func(prefix, args string) {
			mu.Lock()
			defer mu.Unlock()
			logs.WriteString(prefix + " " + args + "\n")
		}, funcr.Options{})
	})
	f.rc.answer = func(_ received, n int, _ http.Header) int {
		if n == 1 {
			time.Sleep(300 * time.Millisecond) // six times the schedule's first 50 ms
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	ev := emit(t, f.ts, "finding.created", "f1")
	eventually(t, 30*time.Second, "the retry", func() bool { return f.rc.delivered()[string(ev.ID)] == 1 })
	reqs := f.rc.requests()
	if gap := reqs[1].at.Sub(reqs[0].at); gap > 900*time.Millisecond {
		t.Errorf("the retry came %s after the first attempt began, want soon after its 300 ms", gap)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "panic") {
		t.Fatalf("the worker panicked:\n%s", logs.String())
	}
}

// An attempt lasts until the receiver's answer has ended, not just its headers: a body that
// trickles in is time the attempt took.
func TestAttemptDurationCoversTheBody(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), nil)
	f.rc.slowBody = 300 * time.Millisecond
	f.rc.answer = func(received, int, http.Header) int { return http.StatusOK }
	emit(t, f.ts, "finding.created", "f1")
	eventually(t, 10*time.Second, "the delivery", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && d[0].Status == store.DeliverySucceeded
	})
	if a := deliveries(t, f.ts, f.ep.ID)[0].Attempts[0]; a.DurationMS < 300 {
		t.Fatalf("the attempt took %d ms, want at least the body's 300", a.DurationMS)
	}
}

// Retry-After longer than the schedule's wait decides the next attempt.
func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), nil)
	f.rc.answer = func(_ received, n int, h http.Header) int {
		if n == 1 {
			h.Set("Retry-After", "1")
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	}
	ev := emit(t, f.ts, "finding.created", "f1")
	eventually(t, 30*time.Second, "the retry", func() bool { return f.rc.delivered()[string(ev.ID)] == 1 })
	reqs := f.rc.requests()
	if gap := reqs[1].at.Sub(reqs[0].at); gap < 950*time.Millisecond {
		t.Fatalf("retried after %s despite Retry-After: 1", gap)
	}
}

// A delivery that runs out of attempts fails; the last attempt says why.
func TestDeliveryFailsAfterTheLastAttempt(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), nil)
	f.rc.answer = func(received, int, http.Header) int { return http.StatusInternalServerError }
	emit(t, f.ts, "finding.created", "f1")
	eventually(t, 30*time.Second, "the delivery to fail", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && d[0].Status == store.DeliveryFailed
	})
	d := deliveries(t, f.ts, f.ep.ID)[0]
	if len(d.Attempts) != len(fastSchedule.Waits)+1 || d.NextRetryAt != nil {
		t.Fatalf("failed delivery: %d attempts, next %v", len(d.Attempts), d.NextRetryAt)
	}
}

// 410 Gone disables the endpoint at once: no retry, and later events are not fanned out to it.
func TestGoneDisablesAtOnce(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), nil)
	f.rc.answer = func(received, int, http.Header) int { return http.StatusGone }
	emit(t, f.ts, "finding.created", "f1")
	eventually(t, 10*time.Second, "the disable", func() bool { return f.hw.reason(f.ep.ID) != "" })
	if r := f.hw.reason(f.ep.ID); !strings.Contains(r, "410") {
		t.Fatalf("reason %q", r)
	}
	emit(t, f.ts, "finding.created", "f2")
	time.Sleep(500 * time.Millisecond)
	if n := len(f.rc.requests()); n != 1 {
		t.Fatalf("%d requests after a 410, want 1", n)
	}
	if d := deliveries(t, f.ts, f.ep.ID); len(d) != 1 || d[0].Status != store.DeliveryFailed {
		t.Fatalf("deliveries after the disable: %+v", d)
	}
}

// clock is a test clock that moves only when told.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// An endpoint whose deliveries all fail for the disable period is disabled (proved with a
// clock moved by days); once re-enabled its held deliveries resume and succeed.
func TestFailingEndpointIsDisabledAndResumesWhenReenabled(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			c := &clock{}
			c.ns.Store(time.Now().UnixNano())
			f := newFixture(t, b.DSN(t), func(cfg *delivery.Config) {
				cfg.Now = c.now
				cfg.Schedule = delivery.Schedule{Waits: []time.Duration{time.Hour, 2 * time.Hour, 4 * 24 * time.Hour, 24 * time.Hour, time.Hour}}
				cfg.DisabledRecheck = 100 * time.Millisecond
				cfg.MaxSnooze = 50 * time.Millisecond
			})
			f.rc.ignoreTime = true
			var failing atomic.Bool
			failing.Store(true)
			f.rc.answer = func(received, int, http.Header) int {
				if failing.Load() {
					return http.StatusBadGateway
				}
				return http.StatusOK
			}
			ev := emit(t, f.ts, "finding.created", "f1")
			waitAttempts := func(n int) {
				eventually(t, 20*time.Second, fmt.Sprintf("attempt %d", n), func() bool {
					d := deliveries(t, f.ts, f.ep.ID)
					return len(d) == 1 && len(d[0].Attempts) >= n
				})
			}
			waitAttempts(1)
			for n, step := range []time.Duration{time.Hour, 2 * time.Hour, 4 * 24 * time.Hour} {
				if f.hw.reason(f.ep.ID) != "" {
					t.Fatalf("disabled after %d attempts, before 5 days of failure", n+1)
				}
				c.advance(step + time.Minute)
				waitAttempts(n + 2)
			}
			// 4 days, 3 hours of failure: not yet. A day more: the next failure disables it.
			if f.hw.reason(f.ep.ID) != "" {
				t.Fatal("disabled before the period")
			}
			c.advance(24 * time.Hour)
			waitAttempts(5)
			eventually(t, 10*time.Second, "the disable", func() bool { return f.hw.reason(f.ep.ID) != "" })
			if r := f.hw.reason(f.ep.ID); !strings.Contains(r, "120h0m0s") {
				t.Fatalf("reason %q", r)
			}
			// Held while disabled: its next attempt is due, but nothing is sent.
			c.advance(2 * time.Hour)
			held := len(f.rc.requests())
			time.Sleep(500 * time.Millisecond)
			if len(f.rc.requests()) != held {
				t.Fatal("a disabled endpoint got a request")
			}
			failing.Store(false)
			f.dir.setEnabled(f.ep.ID, true)
			eventually(t, 20*time.Second, "delivery after re-enabling", func() bool { return f.rc.delivered()[string(ev.ID)] == 1 })
		})
	}
}

// A webhook already failing when a stall holds its deliveries is judged, once the stall
// clears, on the time it failed, not on the time held (proved with a clock moved by days): an
// hour of failures, five days held, and a failure after: not disabled, although the streak
// began more than five days before; the streak's time goes on counting after, so five days of
// failure later it is.
func TestTimeHeldDoesNotCountAsFailing(t *testing.T) {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) {
		cfg.Now = c.now
		cfg.Schedule = delivery.Schedule{Waits: []time.Duration{time.Hour, 5 * 24 * time.Hour, time.Hour}}
		cfg.DisabledRecheck = 20 * time.Millisecond
		cfg.MaxSnooze = 50 * time.Millisecond
	})
	f.rc.ignoreTime = true
	f.rc.answer = func(received, int, http.Header) int { return http.StatusBadGateway }
	waitAttempts := func(n int) {
		t.Helper()
		eventually(t, 20*time.Second, fmt.Sprintf("attempt %d", n), func() bool {
			d := deliveries(t, f.ts, f.ep.ID)
			return len(d) == 1 && len(d[0].Attempts) >= n
		})
	}
	emit(t, f.ts, "finding.created", "f1")
	waitAttempts(1) // failing from here
	stalled := f.ep
	stalled.Stall = "SecretNotFound: secret gitops-signing named by spec.secretRef does not exist"
	f.dir.add(stalled)
	c.advance(time.Hour + time.Minute)
	waitAttempts(2) // the retry is due, and held
	c.advance(5 * 24 * time.Hour)
	f.dir.add(f.ep) // the stall clears within the hold (a week)
	waitAttempts(3)
	if d := deliveries(t, f.ts, f.ep.ID)[0]; !d.Attempts[1].Held || d.Attempts[2].Held || d.Tries() != 2 {
		t.Fatalf("attempts %+v", d.Attempts)
	}
	time.Sleep(200 * time.Millisecond) // a disable would show by now
	if r := f.hw.reason(f.ep.ID); r != "" {
		t.Fatalf("disabled for %q after an hour of failures and five days held", r)
	}
	c.advance(5*24*time.Hour + time.Minute)
	waitAttempts(4)
	eventually(t, 10*time.Second, "the disable", func() bool { return f.hw.reason(f.ep.ID) != "" })
	if r := f.hw.reason(f.ep.ID); !strings.Contains(r, "120h0m0s") || !strings.Contains(r, "held by a stall") {
		t.Fatalf("reason %q", r)
	}
}

// During a rotation window both secrets sign: a receiver that knows only the old one and a
// receiver that knows only the new one both verify. After the window only the new one signs.
func TestRotationSignsWithBothSecrets(t *testing.T) {
	oldSecret, newSecret := newSecret(t), newSecret(t)
	now := time.Now()
	secret := &corev1.Secret{Data: map[string][]byte{
		delivery.SecretKey: []byte(newSecret), delivery.PreviousSecretKey: []byte(oldSecret),
		delivery.PreviousExpiresKey: []byte(now.Add(delivery.RotationWindow).UTC().Format(time.RFC3339)),
	}}
	if got := delivery.SigningSecrets(secret, now); len(got) != 2 || got[0] != newSecret || got[1] != oldSecret {
		t.Fatalf("in the window: %v", got)
	}
	if got := delivery.SigningSecrets(secret, now.Add(delivery.RotationWindow+time.Second)); len(got) != 1 || got[0] != newSecret {
		t.Fatalf("after the window: %v", got)
	}
	f := newFixture(t, backends[0].DSN(t), nil)
	f.ep.Secrets = delivery.SigningSecrets(secret, now)
	f.dir.add(f.ep)
	oldOnly, newOnly := newReceiver(t, oldSecret), newReceiver(t, newSecret)
	for _, rc := range []*receiver{oldOnly, newOnly} {
		ep := f.ep
		ep.URL = rc.srv.URL
		d, err := f.svc.SendTest(context.Background(), ep)
		if err != nil || d.Status != store.DeliverySucceeded {
			t.Fatalf("test send: %+v, %v", d, err)
		}
	}
	f.ep.Secrets = delivery.SigningSecrets(secret, now.Add(delivery.RotationWindow+time.Second))
	f.ep.URL = oldOnly.srv.URL
	oldOnly.t = &testing.T{} // the failure below is the point; keep it off this test's record
	if d, _ := f.svc.SendTest(context.Background(), f.ep); d.Status != store.DeliveryFailed {
		t.Fatal("the old secret still verifies after the window")
	}
}

// A failing event holds back only its own subject's later events: the other subject's flow
// on, and its own arrive in order once it succeeds.
func TestOrderIsKeptPerSubject(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			// The failing event's retries take at least 900 ms: longer than the other subject needs.
			f := newFixture(t, b.DSN(t), func(cfg *delivery.Config) {
				cfg.Schedule = delivery.Schedule{Waits: []time.Duration{300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}}
			})
			var first string
			f.rc.answer = func(r received, n int, _ http.Header) int {
				if r.id == first && n <= 3 {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			}
			var a []string
			first = string(emit(t, f.ts, "interview.started", "A").ID)
			a = append(a, first)
			for range 4 {
				a = append(a, string(emit(t, f.ts, "interview.completed", "A").ID))
				emit(t, f.ts, "interview.completed", "B")
			}
			eventually(t, 30*time.Second, "all nine", func() bool { return len(f.rc.delivered()) == 9 })
			order := map[string]int{}
			var firstOK time.Time
			lastB := time.Time{}
			for i, r := range f.rc.requests() {
				if r.status < 300 {
					if _, ok := order[r.id]; !ok {
						order[r.id] = i
					}
					if r.id == first {
						firstOK = r.at
					}
					if r.subject == "B" {
						lastB = r.at
					}
				}
			}
			for i := 1; i < len(a); i++ {
				if order[a[i]] < order[a[i-1]] {
					t.Fatalf("subject A out of order: event %d before %d", i, i-1)
				}
			}
			if !lastB.Before(firstOK) {
				t.Fatalf("subject B was held back by A's failing event (B done %s, A's first %s)", lastB, firstOK)
			}
		})
	}
}

// An address the egress policy refuses is a failed attempt that says why; nothing is sent.
func TestRefusedAddressIsLogged(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) {
		cfg.Client = egress.Policy{}.Client(10*time.Second, 1<<20) // no loopback
	})
	emit(t, f.ts, "finding.created", "f1")
	eventually(t, 10*time.Second, "the attempt", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && len(d[0].Attempts) >= 1
	})
	a := deliveries(t, f.ts, f.ep.ID)[0].Attempts[0]
	if a.StatusCode != 0 || !strings.Contains(a.Error, "127.0.0.1") || len(f.rc.requests()) != 0 {
		t.Fatalf("attempt %+v, %d requests", a, len(f.rc.requests()))
	}
}

// A URL the policy refuses by the time of the send (here http to a public name, as kubectl may
// write, after the operator's allowlist shrank) is a failed attempt naming the reason,
// checked before anything is dialled.
func TestURLIsCheckedBeforeEachSend(t *testing.T) {
	var checks atomic.Int32
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) {
		cfg.CheckURL = func(raw string) error {
			if checks.Add(1) == 1 { // the fan-out, under the allowlist before it shrank
				return nil
			}
			return egress.Policy{}.CheckURL(raw)
		}
	})
	f.ep.URL = "http://receiver.example/hook"
	f.dir.add(f.ep)
	emit(t, f.ts, "finding.created", "f1")
	eventually(t, 10*time.Second, "the attempt", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && len(d[0].Attempts) >= 1
	})
	if a := deliveries(t, f.ts, f.ep.ID)[0].Attempts[0]; a.StatusCode != 0 || !strings.Contains(a.Error, "https") {
		t.Fatalf("attempt %+v", a)
	}
}

// A pending delivery of an event its webhook no longer takes is failed unsent: the events
// may have been narrowed, and the URL moved, by a caller who may not read this one.
func TestAnEventNoLongerSubscribedIsNotSentAgain(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) {
		cfg.Schedule.Waits = []time.Duration{time.Second, time.Second} // time to move the webhook
	})
	f.rc.answer = func(received, int, http.Header) int { return http.StatusServiceUnavailable }
	emit(t, f.ts, "interview.started", "interview/1")
	eventually(t, 10*time.Second, "the first attempt", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && len(d[0].Attempts) == 1
	})
	moved := f.ep
	moved.Events = []string{"campaign.published"}
	f.dir.add(moved)
	eventually(t, 10*time.Second, "the delivery failed unsent", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && d[0].Status == store.DeliveryFailed
	})
	d := deliveries(t, f.ts, f.ep.ID)[0]
	if last := d.Attempts[len(d.Attempts)-1]; len(d.Attempts) != 2 || !strings.Contains(last.Error, "no longer subscribes to interview.started") {
		t.Fatalf("attempts %+v", d.Attempts)
	}
	if n := len(f.rc.requests()); n != 1 {
		t.Fatalf("the receiver got %d requests, want the first only", n)
	}
}

// A webhook the controller says cannot deliver (Stalled, here NoTeam, as a Team claiming its
// namespace again shows until the controller looks) gets nothing sent while that holds,
// although its receiver answers: the delivery is held, logged once with why, and the hold
// counts toward neither its retries nor the webhook's health. Once the stall clears, it goes
// out.
func TestStalledWebhookIsSentNothing(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) { cfg.DisabledRecheck = 20 * time.Millisecond })
	stalled := f.ep
	stalled.Stall = "NoTeam: namespace team-a belongs to no Team, so no event reaches it"
	f.dir.add(stalled)
	ev := emit(t, f.ts, "finding.created", "f1")
	eventually(t, 10*time.Second, "the held attempt", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && len(d[0].Attempts) >= 1
	})
	time.Sleep(500 * time.Millisecond) // 25 looks, longer than the whole retry schedule
	d := deliveries(t, f.ts, f.ep.ID)[0]
	if a := d.Attempts[0]; len(d.Attempts) != 1 || d.Status != store.DeliveryPending || !a.Held || a.StatusCode != 0 ||
		!strings.Contains(a.Error, "NoTeam") {
		t.Fatalf("held delivery: %s after %+v", d.Status, d.Attempts)
	}
	if n := len(f.rc.requests()); n != 0 {
		t.Fatalf("a stalled webhook was sent %d requests", n)
	}
	if h, _ := f.ts.Health(context.Background(), f.ep.ID); h.ConsecutiveFailures != 0 || h.FailingSince != nil || f.hw.reason(f.ep.ID) != "" {
		t.Fatalf("a hold moved health: %+v, disabled %q", h, f.hw.reason(f.ep.ID))
	}
	f.dir.add(f.ep)
	eventually(t, 10*time.Second, "the delivery once the stall cleared", func() bool { return f.rc.delivered()[string(ev.ID)] == 1 })
	eventually(t, 10*time.Second, "the log", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)[0]
		return d.Status == store.DeliverySucceeded && len(d.Attempts) == 2 && !d.Attempts[1].Held
	})
}

// A hold that outlasts StallHold is taken for a stall nobody will mend: the delivery fails
// unsent, its last attempt naming the stall and how long it was held, and still no failure
// counts against the receiver.
func TestAHoldEndsAfterStallHold(t *testing.T) {
	f := stalledFixture(t, 300*time.Millisecond)
	eventually(t, 10*time.Second, "the delivery to fail", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && d[0].Status == store.DeliveryFailed
	})
	d := deliveries(t, f.ts, f.ep.ID)[0]
	if len(d.Attempts) != 2 || !d.Attempts[0].Held || !d.Attempts[1].Held || d.NextRetryAt != nil ||
		!strings.Contains(d.Attempts[1].Error, "SecretNotFound") || !strings.Contains(d.Attempts[1].Error, "longer than 300ms") {
		t.Fatalf("a hold past StallHold: %+v", d.Attempts)
	}
	if h, _ := f.ts.Health(context.Background(), f.ep.ID); h.ConsecutiveFailures != 0 || len(f.rc.requests()) != 0 {
		t.Fatalf("health %+v, %d requests", h, len(f.rc.requests()))
	}
}

// stalledFixture is a fixture whose webhook the controller has stalled (its signing Secret
// gone), held for stallHold, with one event emitted to it.
func stalledFixture(t *testing.T, stallHold time.Duration) *fixture {
	t.Helper()
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) {
		cfg.DisabledRecheck, cfg.StallHold = 20*time.Millisecond, stallHold
	})
	stalled := f.ep
	stalled.Stall = "SecretNotFound: secret gitops-signing named by spec.secretRef does not exist"
	f.dir.add(stalled)
	emit(t, f.ts, "finding.created", "f1")
	return f
}

// A held delivery is due when its hold ends, not at once: its job looks every DisabledRecheck
// whether the stall cleared without writing, so the repair pass, which requeues due
// deliveries untouched for two minutes, would otherwise reread it at every pass for the whole
// hold (and a batch of held ones would crowd out deliveries whose job was lost). The pass
// passes it over until the hold ends, and finds it then.
func TestAHeldDeliveryIsDueWhenItsHoldEnds(t *testing.T) {
	const hold = time.Hour
	f := stalledFixture(t, hold)
	eventually(t, 10*time.Second, "the held attempt", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && len(d[0].Attempts) == 1
	})
	d := deliveries(t, f.ts, f.ep.ID)[0]
	if d.NextRetryAt == nil || !d.NextRetryAt.Equal(d.Attempts[0].At.Add(hold)) {
		t.Fatalf("a delivery held at %s is due at %v, want when its hold ends", d.Attempts[0].At, d.NextRetryAt)
	}
	stranded := func(cutoff time.Time) bool {
		ds, err := f.s.StrandedDeliveries(context.Background(), cutoff, 500)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(ds, func(s store.Delivery) bool { return s.ID == d.ID })
	}
	// A pass half an hour on, and one after the hold's end (each looks two minutes back).
	if stranded(time.Now().Add(30 * time.Minute)) {
		t.Fatal("the repair pass rereads a held delivery before its hold ends")
	}
	if !stranded(d.NextRetryAt.Add(time.Second)) {
		t.Fatal("the repair pass never finds a held delivery whose job was lost")
	}
}

// An event gets no delivery to an endpoint whose URL the policy refuses (the Webhook
// controller shows it as URLRefused), as none to a disabled one: it would fail every attempt
// for days. Once the URL is one the policy takes, the next event is delivered there.
func TestRefusedURLGetsNoDelivery(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) { cfg.CheckURL = egress.Policy{AllowLoopback: true}.CheckURL })
	refused := f.ep
	refused.ID, refused.Name, refused.URL = store.WebhookID(uuid.NewString()), "refused", "http://receiver.example/hook"
	f.dir.add(refused)
	emit(t, f.ts, "finding.created", "f1")
	eventually(t, 10*time.Second, "the delivery to the accepted URL", func() bool { return len(f.rc.delivered()) == 1 })
	time.Sleep(300 * time.Millisecond) // fifteen relay passes
	if d := deliveries(t, f.ts, refused.ID); len(d) != 0 {
		t.Fatalf("the refused URL got %d deliveries: %+v", len(d), d)
	}

	fixed := newReceiver(t, f.ep.Secrets...)
	refused.URL = fixed.srv.URL + "/hook"
	f.dir.add(refused)
	ev := emit(t, f.ts, "finding.created", "f2")
	eventually(t, 10*time.Second, "the delivery to the fixed URL", func() bool { return fixed.delivered()[string(ev.ID)] == 1 })
	if d := deliveries(t, f.ts, refused.ID); len(d) != 1 || d[0].EventID != ev.ID {
		t.Fatalf("after the fix: %+v; want the one new event", d)
	}
}

// A test send is logged with its one attempt, never retried, and never moves health.
func TestTestSendIsLoggedOnly(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), nil)
	f.rc.answer = func(received, int, http.Header) int { return http.StatusInternalServerError }
	d, err := f.svc.SendTest(context.Background(), f.ep)
	if err != nil || d.Status != store.DeliveryFailed || len(d.Attempts) != 1 || !d.Test || d.EventType != delivery.EventTest {
		t.Fatalf("test send: %+v, %v", d, err)
	}
	if _, err := f.svc.Redeliver(context.Background(), f.ep.Team, d.ID); err == nil {
		t.Fatal("a test delivery was redelivered")
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(f.rc.requests()); n != 1 {
		t.Fatalf("%d requests for one test", n)
	}
	if h, _ := f.ts.Health(context.Background(), f.ep.ID); h.ConsecutiveFailures != 0 || h.FailingSince != nil {
		t.Fatalf("a test moved health: %+v", h)
	}
}

// A test send takes one of the endpoint's in-flight places, as deliveries do: while the
// places are taken (by a delivery or by another test) it waits SlotWait and is refused with
// ErrEndpointBusy, sending and logging nothing, and the receiver never has more requests
// open than the cap.
func TestTestSendRespectsTheInFlightCap(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), func(cfg *delivery.Config) {
		cfg.InFlight, cfg.SlotWait = 1, 200*time.Millisecond
	})
	var open, most atomic.Int32
	hold := make(chan struct{})
	var free sync.Once
	t.Cleanup(func() { free.Do(func() { close(hold) }) }) // a failure never leaves the receiver waiting
	f.rc.answer = func(received, int, http.Header) int {
		n := open.Add(1)
		defer open.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-hold
		return http.StatusNoContent
	}
	// refused checks that a test sent beside what holds the only place is refused and logged
	// nowhere.
	refused := func(beside string) {
		t.Helper()
		eventually(t, 10*time.Second, beside+" in flight", func() bool { return open.Load() == 1 })
		before := len(deliveries(t, f.ts, f.ep.ID))
		if d, err := f.svc.SendTest(context.Background(), f.ep); !errors.Is(err, delivery.ErrEndpointBusy) {
			t.Fatalf("a test beside %s: %+v, %v; want ErrEndpointBusy", beside, d, err)
		}
		if after := len(deliveries(t, f.ts, f.ep.ID)); after != before {
			t.Fatalf("a refused test logged %d deliveries", after-before)
		}
	}

	emit(t, f.ts, "finding.created", "f1")
	refused("a delivery")
	hold <- struct{}{}
	eventually(t, 10*time.Second, "the delivery", func() bool { return len(f.rc.delivered()) == 1 })

	first := make(chan error, 1)
	go func() {
		_, err := f.svc.SendTest(context.Background(), f.ep)
		first <- err
	}()
	refused("another test")
	hold <- struct{}{}
	if err := <-first; err != nil {
		t.Fatal(err)
	}

	free.Do(func() { close(hold) }) // the place is free: a test is sent
	if d, err := f.svc.SendTest(context.Background(), f.ep); err != nil || d.Status != store.DeliverySucceeded {
		t.Fatalf("a test with the place free: %+v, %v", d, err)
	}
	if m, n := most.Load(), len(f.rc.requests()); m != 1 || n != 3 {
		t.Fatalf("the receiver took %d requests, %d at once at most; want 3, one at a time", n, m)
	}
}

// Redeliver sends a finished delivery again with the same webhook-id.
func TestRedeliver(t *testing.T) {
	f := newFixture(t, backends[0].DSN(t), nil)
	ev := emit(t, f.ts, "finding.created", "f1")
	eventually(t, 10*time.Second, "the delivery", func() bool {
		d := deliveries(t, f.ts, f.ep.ID)
		return len(d) == 1 && d[0].Status == store.DeliverySucceeded
	})
	d := deliveries(t, f.ts, f.ep.ID)[0]
	if _, err := f.svc.Redeliver(context.Background(), f.ep.Team, d.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the redelivery", func() bool { return f.rc.delivered()[string(ev.ID)] == 2 })
}
