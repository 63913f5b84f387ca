package delivery

import (
	"context"
	"time"

	"qual.cx/operator/internal/store"
)

// relayBatch is how many outbox events one relay pass fans out.
const relayBatch = 500

// relay fans undispatched events out to the endpoints that take them and queues the
// deliveries. Replicas relay at once safely: each event is claimed by one of them.
func (s *Service) relay(ctx context.Context) bool {
	ds, err := s.cfg.Store.DispatchEvents(ctx, relayBatch, s.fanout)
	if err != nil {
		s.fail(ctx, err, "relay the outbox")
		return false
	}
	s.m.relayed.Add(float64(len(ds)))
	if err := s.enqueue(ctx, s.heads(ctx, ds), &s.opts); err != nil {
		// The deliveries are stored: the repair pass queues them.
		s.fail(ctx, err, "queue deliveries; the repair pass will", "deliveries", len(ds))
	}
	return len(ds) > 0
}

// heads keeps the deliveries that are first in their subject's line to their endpoint: the
// first of each (webhook, subject) in the batch, when nothing older of it is pending. The rest
// are queued by handOff as the line moves. A delivery without a subject has no line.
func (s *Service) heads(ctx context.Context, ds []store.Delivery) []store.Delivery {
	type line struct {
		webhook store.WebhookID
		subject string
	}
	seen := map[line]bool{}
	out := ds[:0:0]
	for _, d := range ds {
		l := line{d.WebhookID, d.Subject}
		if d.Subject != "" && seen[l] {
			continue
		}
		seen[l] = true
		// An error keeps the delivery: its job then waits for the older one, as it should.
		if older, err := s.cfg.Store.Team(d.TeamID).OlderPendingDelivery(ctx, d); err == nil && older {
			continue
		}
		out = append(out, d)
	}
	return out
}

// fanout lists the deliveries of one event: one per enabled endpoint of its team that takes it
// at a URL the policy accepts. A refused URL (applied with kubectl; the Webhook controller
// reports it as URLRefused under the same policy) gets no delivery, as a disabled endpoint
// gets none: each would fail every attempt for days, until the endpoint was disabled.
func (s *Service) fanout(ev store.Event) []store.NewDelivery {
	var out []store.NewDelivery
	for _, ep := range s.cfg.Directory.Endpoints(ev.TeamID) {
		if ep.Enabled && ep.Subscribes(ev.Type) && s.accepts(ep.URL) {
			out = append(out, store.NewDelivery{WebhookID: ep.ID, EventID: ev.ID})
		}
	}
	return out
}

// accepts says the policy takes the URL (CheckURL, when set).
func (s *Service) accepts(url string) bool {
	return s.cfg.CheckURL == nil || s.cfg.CheckURL(url) == nil
}

// repairBatch bounds one repair pass.
const repairBatch = 500

// repair queues again the due deliveries no job has touched for a while: their job was lost
// between the store's commit and the queue's insert. A delivery whose job lives is left alone
// (jobs are unique per live delivery). The store leaves out deliveries not yet due (a retry
// waiting, a hold that has not ended), so they neither fill the batch nor are read at each
// pass.
func (s *Service) repair(ctx context.Context) bool {
	ds, err := s.cfg.Store.StrandedDeliveries(ctx, s.now().Add(-2*time.Minute), repairBatch)
	if err != nil {
		s.fail(ctx, err, "look for stranded deliveries")
		return false
	}
	if err := s.enqueue(ctx, ds, &s.opts); err != nil {
		s.fail(ctx, err, "queue stranded deliveries", "deliveries", len(ds))
	}
	return false
}

// rollUp returns the pass that shows health changes on the Webhook objects: each endpoint at
// most once per StatusInterval, however many deliveries it takes.
func (s *Service) rollUp() func(context.Context) bool {
	since := time.Time{}
	return func(ctx context.Context) bool {
		if s.cfg.Health == nil {
			return false
		}
		start := s.now()
		hs, err := s.cfg.Store.WebhookHealth(ctx, since, 1000)
		if err != nil {
			s.fail(ctx, err, "read webhook health")
			return false
		}
		for _, h := range hs {
			if err := s.cfg.Health.Report(ctx, h); err != nil {
				s.fail(ctx, err, "report webhook health", "webhook", h.WebhookID)
				return false
			}
		}
		// A health row is stamped with its attempt's start and commits when the attempt
		// ends, up to a job's run later: the next pass rereads that far back, so a slow or
		// timed-out attempt is never passed over (Report writes only what changed).
		since = start.Add(-jobTimeout - time.Second)
		return false
	}
}

// pruneBatch bounds one prune statement.
const pruneBatch = 1000

// prune deletes finished deliveries and their events older than Retention.
func (s *Service) prune(ctx context.Context) bool {
	n, err := s.cfg.Store.PruneDeliveries(ctx, s.now().Add(-s.cfg.Retention), pruneBatch)
	if err != nil {
		s.fail(ctx, err, "prune the delivery log")
		return false
	}
	return n == pruneBatch
}

// fail logs a pass's error, unless the pass was cut short because the service is stopping.
func (s *Service) fail(ctx context.Context, err error, msg string, kv ...any) {
	if ctx.Err() != nil {
		return
	}
	s.log.Error(err, msg, kv...)
}
