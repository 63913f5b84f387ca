package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"k8s.io/utils/ptr"

	"qual.cx/operator/internal/jobs"
	"qual.cx/operator/internal/store"
)

// uniqueLive makes a delivery's job unique among live jobs only: a redelivery of a finished
// delivery gets a new job, while a repair pass cannot add a second one beside a live one.
var uniqueLive = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{ //nolint:gochecknoglobals // a constant River cannot declare as one
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}}

// deliverArgs is a delivery's job.
type deliverArgs struct {
	Team     string `json:"team_id"`
	Delivery string `json:"delivery_id"`
}

func (deliverArgs) Kind() string { return jobs.KindDelivery }

// enqueue queues a job per delivery, in order, unless one lives (opts are s.opts), or always
// (a redelivery: the delivery was finished, so its old job is done with it even if River has
// not yet marked it completed).
func (s *Service) enqueue(ctx context.Context, ds []store.Delivery, opts *river.InsertOpts) error {
	params := make([]river.InsertManyParams, len(ds))
	for i, d := range ds {
		params[i] = river.InsertManyParams{Args: deliverArgs{Team: string(d.TeamID), Delivery: string(d.ID)}, InsertOpts: opts}
	}
	return s.jobs.InsertMany(ctx, params)
}

// worker sends one delivery per job run.
type worker struct {
	jobs.WorkerDefaults[deliverArgs]
	s *Service
}

// Work makes one attempt when the delivery is due, its endpoint is on and can be sent to, and
// no older delivery of its subject is pending; otherwise it snoozes (a snooze costs no River
// attempt), or holds the delivery while its endpoint cannot be sent to (hold). A failed
// attempt snoozes until the next one is due, so the schedule is ours, not River's.
func (w *worker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	ts := s.cfg.Store.Team(store.TeamID(job.Args.Team))
	d, err := ts.GetDelivery(ctx, store.DeliveryID(job.Args.Delivery))
	if errors.Is(err, store.ErrNotFound) {
		return nil // erased with its data
	}
	if err == nil && d.Status != store.DeliveryPending {
		// Finished, maybe by a run that died before handing off (a rescued job): hand off now;
		// queuing a delivery whose job lives is a no-op.
		s.handOff(ctx, ts, d)
		return nil
	}
	if err != nil {
		return fmt.Errorf("delivery %s: %w", job.Args.Delivery, err)
	}
	if wait := s.wait(ctx, ts, d); wait > 0 {
		return s.snooze(wait)
	}
	ep, ok, err := s.cfg.Directory.Endpoint(ctx, d.TeamID, d.WebhookID)
	switch {
	case err != nil:
		return fmt.Errorf("delivery %s: endpoint: %w", d.ID, err)
	case !ok:
		// Final: a webhook or team deleted never comes back (a Team made again is a new UID,
		// another tenant of the store). Nothing is sent, and the receiver is not blamed.
		return s.failUnsent(ctx, ts, d, "the webhook or its team no longer exists")
	case !ep.Enabled:
		return s.snooze(s.cfg.DisabledRecheck)
	case !d.Test && !ep.Subscribes(d.EventType):
		// Its events may have been narrowed by a caller who may not read this one, and its
		// URL moved with them (the REST API checks the events a webhook will receive, not
		// those its pending deliveries carry): sending it would hand the event's data to a
		// receiver nobody who may read it chose.
		return s.failUnsent(ctx, ts, d, "the webhook no longer subscribes to "+d.EventType+", so it is not sent")
	}
	if why := ep.unsendable(); why != "" {
		return s.hold(ctx, ts, d, why)
	}
	release, ok := s.slot(ctx, ep.ID)
	if !ok {
		return s.snooze(s.cfg.OrderWait)
	}
	defer release()
	return s.attempt(ctx, ts, d, ep)
}

// failUnsent fails a delivery for good without sending it, saying why. The receiver had no
// part in it, so the attempt is a held one (no response, no effect on the webhook's health).
func (s *Service) failUnsent(ctx context.Context, ts store.TeamStore, d store.Delivery, why string) error {
	_, err := ts.RecordAttempt(ctx, d.ID, store.AttemptResult{Status: store.DeliveryFailed, At: s.now(), Error: why, Held: true})
	if err = ignoreFinished(err); err == nil {
		s.handOff(ctx, ts, d)
	}
	return err
}

// wait says how long a delivery must wait before its next attempt: until a retry is due, and
// while an older delivery of its subject to the same endpoint is pending. A first attempt is
// due at once (the store stamps it with its own clock, not the service's), and so is a held
// delivery, whose due time is its hold's end (hold): it waits on the stall, not on a time.
func (s *Service) wait(ctx context.Context, ts store.TeamStore, d store.Delivery) time.Duration {
	if since, _ := heldSince(d); since == nil && d.NextRetryAt != nil && len(d.Attempts) > 0 {
		if wait := d.NextRetryAt.Sub(s.now()); wait > 0 {
			return wait
		}
	}
	older, err := ts.OlderPendingDelivery(ctx, d)
	if err != nil || older {
		return s.cfg.OrderWait
	}
	return 0
}

// attempt sends the delivery once and records the outcome with the next step.
func (s *Service) attempt(ctx context.Context, ts store.TeamStore, d store.Delivery, ep Endpoint) error {
	ev, err := ts.GetEvent(ctx, d.EventID)
	if err != nil {
		return ignoreFinished(fmt.Errorf("delivery %s: event: %w", d.ID, err))
	}
	o := s.post(ctx, ep, ev)
	status, next := store.DeliverySucceeded, (*time.Time)(nil)
	if !o.ok() {
		status = store.DeliveryFailed
		if wait, ok := s.cfg.Schedule.Next(d.Tries()+1, o.retryAfter); ok && o.status != http.StatusGone {
			status, next = store.DeliveryPending, ptr.To(o.at.Add(wait))
		}
	}
	s.observe(o, status)
	// The attempt is recorded even when the job's context ended mid-send: the send happened.
	if _, err := ts.RecordAttempt(context.WithoutCancel(ctx), d.ID, o.result(status, next)); err != nil {
		return ignoreFinished(fmt.Errorf("delivery %s: record attempt: %w", d.ID, err))
	}
	if !o.ok() {
		s.judge(ctx, ts, ep, o)
	}
	if next != nil {
		return s.snooze(next.Sub(s.now()))
	}
	s.handOff(ctx, ts, d)
	return nil
}

// hold keeps a delivery its endpoint cannot be sent to (Endpoint.unsendable) without sending
// it. Every such cause is temporary as the dispatcher sees it: a Secret is mended, and a
// NoTeam verdict can lag a Team that claims the namespace again; a team or webhook gone for
// good is the Directory's !ok, which fails the delivery at once. The receiver had no part in
// it, so the held attempt counts toward neither the delivery's retries nor the webhook's
// health, and the delivery goes out as soon as the cause clears (looked at every
// DisabledRecheck). The log gets a held attempt when a hold begins or its reason changes, not
// at every look. A hold that outlasts StallHold is taken for one nobody will mend: the
// delivery fails, naming it. So the held delivery is due when its hold ends: that is its next
// retry time, and the repair pass, which requeues due deliveries no job has touched lately,
// passes it over until then instead of rereading it at every pass while its job looks.
func (s *Service) hold(ctx context.Context, ts store.TeamStore, d store.Delivery, why string) error {
	now := s.now()
	since, last := heldSince(d)
	if since == nil {
		since = &now
	}
	status, next := store.DeliveryPending, ptr.To(since.Add(s.cfg.StallHold))
	switch {
	case now.Sub(*since) >= s.cfg.StallHold:
		status, next = store.DeliveryFailed, nil
		why = fmt.Sprintf("%s; held since %s, longer than %s, so the delivery has failed", why,
			since.UTC().Format(time.RFC3339), s.cfg.StallHold)
	case why == last:
		return s.snooze(s.cfg.DisabledRecheck)
	}
	if _, err := ts.RecordAttempt(ctx, d.ID, store.AttemptResult{Status: status, NextRetryAt: next, At: now,
		Error: why, Held: true}); err != nil {
		return ignoreFinished(fmt.Errorf("delivery %s: record a held attempt: %w", d.ID, err))
	}
	s.m.attempts.WithLabelValues(heldOutcome(status)).Inc()
	if next == nil {
		s.handOff(ctx, ts, d)
		return nil
	}
	return s.snooze(s.cfg.DisabledRecheck)
}

// heldSince is when the delivery's current hold began (the first of its latest attempts that
// were all held) and the reason the last of them gives; nil and "" when the latest attempt
// was not held.
func heldSince(d store.Delivery) (since *time.Time, why string) {
	for i := len(d.Attempts) - 1; i >= 0 && d.Attempts[i].Held; i-- {
		since = &d.Attempts[i].At
	}
	if since == nil {
		return nil, ""
	}
	return since, d.Attempts[len(d.Attempts)-1].Error
}

// heldOutcome is the attempts metric's outcome of a held attempt.
func heldOutcome(status store.DeliveryStatus) string {
	if status == store.DeliveryFailed {
		return string(status)
	}
	return "held"
}

// handOff queues the next pending delivery of a finished delivery's subject: only the head of
// each subject's line has a job, so later ones never churn through the queue waiting (a
// repair pass queues it if this is lost).
func (s *Service) handOff(ctx context.Context, ts store.TeamStore, d store.Delivery) {
	if d.Subject == "" {
		return
	}
	next, err := ts.HeadPendingDelivery(ctx, d.WebhookID, d.Subject)
	if err == nil {
		err = s.enqueue(ctx, []store.Delivery{next}, &s.opts)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error(err, "queue the next delivery of a subject; the repair pass will", "delivery", d.ID)
	}
}

// observe counts an attempt by what it led to.
func (s *Service) observe(o outcome, status store.DeliveryStatus) {
	outcome := string(status)
	if status == store.DeliveryPending {
		outcome = "retry"
	}
	s.m.attempts.WithLabelValues(outcome).Inc()
	if o.status != 0 {
		s.m.duration.Observe(o.duration.Seconds())
	}
}

// judge disables an endpoint that answered 410 Gone, or whose deliveries have all failed for
// longer than DisableAfter. Time its deliveries were held by a stall is not failing time: the
// store moves the streak's start past it (store.WebhookHealth.FailingSince).
func (s *Service) judge(ctx context.Context, ts store.TeamStore, ep Endpoint, o outcome) {
	if s.cfg.Health == nil {
		return
	}
	reason := ""
	if o.status == http.StatusGone {
		reason = "the endpoint answered 410 Gone"
	} else if h, err := ts.Health(ctx, ep.ID); err == nil && h.FailingSince != nil && o.at.Sub(*h.FailingSince) >= s.cfg.DisableAfter {
		reason = fmt.Sprintf("every delivery failed for %s (not counting time held by a stall), since %s", s.cfg.DisableAfter,
			h.FailingSince.UTC().Format(time.RFC3339))
	}
	if reason == "" {
		return
	}
	if err := s.cfg.Health.Disable(ctx, ep, reason); err != nil {
		s.log.Error(err, "disable a failing webhook", "namespace", ep.Namespace, "webhook", ep.Name)
	}
}

// slot takes one of the endpoint's in-flight places, waiting up to SlotWait: a job put back
// in the queue would go behind every job queued since.
func (s *Service) slot(ctx context.Context, id store.WebhookID) (release func(), ok bool) {
	s.mu.Lock()
	ch, found := s.slots[id]
	if !found {
		ch = make(chan struct{}, s.cfg.InFlight)
		s.slots[id] = ch
	}
	s.mu.Unlock()
	t := time.NewTimer(s.cfg.SlotWait)
	defer t.Stop()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// ignoreFinished treats a delivery that finished or vanished meanwhile (a redelivery raced
// it, or its data was erased) as done.
func ignoreFinished(err error) error {
	if errors.Is(err, store.ErrInvalidState) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
