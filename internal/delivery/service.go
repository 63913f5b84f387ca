package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"qual.cx/operator/internal/jobs"
	"qual.cx/operator/internal/store"
)

// QueueName is the River queue deliveries run on.
const QueueName = "webhooks"

// Defaults of Config.
const (
	DefaultDisableAfter   = 5 * 24 * time.Hour
	DefaultInFlight       = 4
	DefaultPollInterval   = 200 * time.Millisecond
	DefaultStatusInterval = 10 * time.Second
	DefaultRetention      = 30 * 24 * time.Hour
	DefaultMaxPayload     = 256 << 10
	DefaultRescueAfter    = time.Minute
	DefaultStallHold      = 7 * 24 * time.Hour
)

// Directory finds the Webhook objects deliveries go to.
type Directory interface {
	// Endpoints lists a team's webhooks, enabled or not; their Secrets are not read.
	Endpoints(team store.TeamID) []Endpoint
	// Endpoint finds one of a team's webhooks with its signing secrets; ok is false when it
	// no longer exists or its team's namespace is being deleted.
	Endpoint(ctx context.Context, team store.TeamID, id store.WebhookID) (ep Endpoint, ok bool, err error)
}

// HealthWriter shows delivery health where people look: the Webhook objects.
type HealthWriter interface {
	// Report rolls an endpoint's health up into its status.
	Report(ctx context.Context, h store.WebhookHealth) error
	// Disable turns an endpoint off and says why.
	Disable(ctx context.Context, ep Endpoint, reason string) error
}

// Config configures a Service.
type Config struct {
	Store     store.Store
	Directory Directory
	// Client sends the requests; build it with egress.Policy.Client so private addresses stay
	// out of reach and each attempt is bounded.
	Client *http.Client
	// CheckURL vets an endpoint's URL (egress.Policy.CheckURL) when an event is fanned out,
	// where a refused one gets no delivery, and before each send, where it fails the attempt:
	// a Webhook written with kubectl never passed the API's check, and the operator's
	// allowlist may have shrunk since. Nil checks nothing beyond what Client refuses at dial
	// time.
	CheckURL func(string) error
	// Health receives health roll-ups and disables; nil writes none (tests, the API process).
	Health HealthWriter
	// Schedule is the retry schedule (default DefaultSchedule, ±10% jitter, Retry-After up to
	// a day).
	Schedule Schedule
	// DisableAfter disables an endpoint whose deliveries have all failed for this long.
	DisableAfter time.Duration
	// Workers is how many deliveries this process sends at once; 0: none, it only queues
	// them (the apiserver, which sends tests synchronously and queues redeliveries).
	Workers int
	// InFlight caps the deliveries this process sends to one endpoint at once.
	InFlight int
	// PollInterval is how often the outbox is read for new events, and idle SQLite workers
	// look for jobs.
	PollInterval time.Duration
	// OrderWait is how long a delivery queued out of turn (by a repair pass) waits before
	// looking again whether an older one of its subject is done (default PollInterval).
	OrderWait time.Duration
	// SlotWait is how long a delivery waits for a free in-flight place at its endpoint
	// before going back to the queue (default 5 s).
	SlotWait time.Duration
	// DisabledRecheck is how often deliveries of a disabled endpoint look whether it was
	// re-enabled, and held deliveries of a stalled one whether the stall cleared (default 1
	// minute).
	DisabledRecheck time.Duration
	// StallHold is how long a delivery is held while its endpoint cannot be sent to (stalled,
	// or without a secret that signs) before it fails, naming the stall (default a week). Keep
	// it well below Retention: a finished delivery is pruned once it is Retention old, so the
	// failure a hold ends in shows in the log for the difference.
	StallHold time.Duration
	// StatusInterval bounds how often an endpoint's status is written.
	StatusInterval time.Duration
	// Retention is how long finished deliveries and their events are kept.
	Retention time.Duration
	// MaxPayload caps a delivery's body; a bigger event fails without being sent.
	MaxPayload int
	// RescueAfter re-runs a delivery whose process died mid-send (see jobs.Config): after a
	// minute by default, twice the longest a run may last (jobTimeout), so a delivery
	// rescued is no longer being sent by the run that took it. Deliveries are ordered per
	// subject, so until then that subject's later events wait too.
	RescueAfter time.Duration
	// Now is the clock (default time.Now); tests move it to prove day-long rules in seconds.
	Now func() time.Time
	// MaxSnooze caps how long a job sleeps before it looks at its delivery again (0: no
	// cap). Tests that move Now set it, since River sleeps on the real clock.
	MaxSnooze time.Duration
	// Metrics registers the service's Prometheus series (nil: none).
	Metrics prometheus.Registerer
	// ID names this process among the queue's clients (tests).
	ID     string
	Logger logr.Logger
}

func (c Config) withDefaults() Config {
	if c.Schedule.Waits == nil {
		c.Schedule = Schedule{Waits: DefaultSchedule, Jitter: 0.1, MaxRetryAfter: 24 * time.Hour}
	}
	if c.Schedule.MaxRetryAfter == 0 {
		c.Schedule.MaxRetryAfter = 24 * time.Hour
	}
	c.DisableAfter = orDefault(c.DisableAfter, DefaultDisableAfter)
	c.PollInterval = orDefault(c.PollInterval, DefaultPollInterval)
	c.OrderWait = orDefault(c.OrderWait, c.PollInterval)
	c.SlotWait = orDefault(c.SlotWait, 5*time.Second)
	c.DisabledRecheck = orDefault(c.DisabledRecheck, time.Minute)
	c.StallHold = orDefault(c.StallHold, DefaultStallHold)
	c.StatusInterval = orDefault(c.StatusInterval, DefaultStatusInterval)
	c.Retention = orDefault(c.Retention, DefaultRetention)
	c.RescueAfter = orDefault(c.RescueAfter, DefaultRescueAfter)
	if c.InFlight <= 0 {
		c.InFlight = DefaultInFlight
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// snooze puts the job back for d, or for MaxSnooze if that is shorter. A d already past (an
// attempt that took longer than the wait before the next one) makes the job available at
// once: River refuses a negative snooze with a panic.
func (s *Service) snooze(d time.Duration) error {
	if s.cfg.MaxSnooze > 0 {
		d = min(d, s.cfg.MaxSnooze)
	}
	return river.JobSnooze(max(d, 0))
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// jobTimeout bounds one job run: an attempt (the client's timeout, 10 s in production) and
// its store writes. A run is cancelled then, whatever the attempt does, which is what makes
// a rescue after DefaultRescueAfter safe: the run that took the job has ended by then.
const jobTimeout = 30 * time.Second

// MinRescueAfter is the shortest RescueAfter a dispatcher runs with: a run is cut off after
// jobTimeout, but still records its attempt (the send happened) and hands off after that,
// and River's rescuer may act a little early by the clocks of other replicas, so a rescue
// sooner than rescueMargin past the cut could send a delivery beside the run it replaces.
// Tests set seconds: their runs are milliseconds.
const MinRescueAfter = jobTimeout + rescueMargin

// rescueMargin is what MinRescueAfter leaves a run cut off at jobTimeout to end in.
const rescueMargin = jobTimeout / 2

// MaxAttemptTimeout bounds the HTTP client's timeout of one attempt (the dispatcher's
// --webhook-attempt-timeout), exclusive: a run is cut off at jobTimeout, so an attempt
// allowed that long or longer would be cut off by the run's bound, not its own, and the
// operator's setting would silently mean less.
const MaxAttemptTimeout = jobTimeout

// Service fans events out to endpoints and delivers them.
type Service struct {
	cfg  Config
	jobs *jobs.Client
	m    *metrics
	opts river.InsertOpts
	log  logr.Logger
	// slots caps in-flight sends per endpoint.
	mu    sync.Mutex
	slots map[store.WebhookID]chan struct{}
	// halt ends the loops Start began; wg waits for them.
	halt context.CancelFunc
	wg   sync.WaitGroup
}

// New builds the service on the store's database; it touches nothing until Start.
func New(ctx context.Context, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.Store == nil || cfg.Directory == nil || cfg.Client == nil {
		return nil, errors.New("delivery: Store, Directory and Client are required")
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: cfg.Logger, slots: map[store.WebhookID]chan struct{}{}, m: m,
		opts: river.InsertOpts{Queue: QueueName, MaxAttempts: 25, UniqueOpts: uniqueLive}}
	c, err := jobs.New(ctx, jobs.Config{
		Store: cfg.Store, Queue: QueueName, Kind: deliverArgs{}.Kind(), Workers: cfg.Workers,
		Register:   func(w *river.Workers) { river.AddWorker(w, &worker{s: s}) },
		JobTimeout: min(jobTimeout, cfg.RescueAfter), RescueAfter: cfg.RescueAfter, MaxAttempts: 25,
		PollInterval: cfg.PollInterval, ID: cfg.ID, Logger: cfg.Logger,
		// A delivery is a few milliseconds of work: River's 100 ms default would cap a replica
		// at ten times its workers per second.
		FetchCooldown: 10 * time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	s.jobs = c
	return s, nil
}

// Start readies the queue and, when the process sends deliveries, starts its workers and the
// loops that feed and tend them, until ctx ends.
func (s *Service) Start(ctx context.Context) {
	s.jobs.Start(ctx)
	if s.cfg.Workers <= 0 {
		return
	}
	ctx, s.halt = context.WithCancel(ctx)
	s.every(ctx, s.cfg.PollInterval, s.relay)
	s.every(ctx, max(time.Minute, s.cfg.PollInterval*10), s.repair)
	s.every(ctx, s.cfg.StatusInterval, s.rollUp())
	s.every(ctx, time.Hour, s.prune)
}

// Stop stops the loops and the workers, waiting for sends in flight until ctx ends (the rest
// run again later).
func (s *Service) Stop(ctx context.Context) error {
	if s.halt != nil {
		s.halt()
	}
	err := s.jobs.Stop(ctx)
	s.wg.Wait()
	return err
}

// Close releases the queue's connections; call it after Stop.
func (s *Service) Close() { s.jobs.Close() }

// every runs fn now and then every interval until ctx ends; fn returning true runs it again
// at once (there is more to do).
func (s *Service) every(ctx context.Context, interval time.Duration, fn func(context.Context) bool) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for ctx.Err() == nil {
			if s.jobs.Ready() && fn(ctx) {
				continue
			}
			select {
			case <-ctx.Done():
			case <-time.After(interval):
			}
		}
	}()
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// ErrEndpointBusy is a test send refused because the endpoint already has InFlight sends
// from this process: nothing was sent or logged.
var ErrEndpointBusy = errors.New("delivery: the endpoint has as many sends in flight as this process allows")

// SendTest sends a webhook.test event to the endpoint now and returns the logged delivery.
// It is never retried and never moves the endpoint's health; a failing receiver is a failed
// delivery, not an error. It takes one of the endpoint's in-flight places, as a delivery
// does (waiting up to SlotWait), so tests sent in a loop cannot push a receiver past the
// cap; with none free it is ErrEndpointBusy.
func (s *Service) SendTest(ctx context.Context, ep Endpoint) (store.Delivery, error) {
	release, ok := s.slot(ctx, ep.ID)
	if !ok {
		if err := ctx.Err(); err != nil {
			return store.Delivery{}, fmt.Errorf("delivery: wait to test: %w", err)
		}
		return store.Delivery{}, ErrEndpointBusy
	}
	defer release()
	ts := s.cfg.Store.Team(ep.Team)
	payload := fmt.Appendf(nil, `{"webhook_id":%q,"message":"This is a test event."}`, ep.ID)
	var d store.Delivery
	var ev store.Event
	err := ts.InTx(ctx, func(tx store.TeamStore) error {
		var err error
		if ev, err = tx.AddEvent(ctx, store.NewEvent{Type: EventTest, Subject: string(ep.ID), Payload: payload}); err != nil {
			return err
		}
		if err = tx.MarkEventDispatched(ctx, ev.ID); err != nil {
			return err
		}
		d, err = tx.CreateDelivery(ctx, store.NewDelivery{WebhookID: ep.ID, EventID: ev.ID, Test: true})
		return err
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("delivery: log test: %w", err)
	}
	o := s.post(ctx, ep, ev)
	status := store.DeliveryFailed
	if o.ok() {
		status = store.DeliverySucceeded
	}
	d, err = ts.RecordAttempt(context.WithoutCancel(ctx), d.ID, o.result(status, nil))
	if err != nil {
		return store.Delivery{}, fmt.Errorf("delivery: record test: %w", err)
	}
	return d, nil
}

// Redeliver queues a finished delivery again, due now.
func (s *Service) Redeliver(ctx context.Context, team store.TeamID, id store.DeliveryID) (store.Delivery, error) {
	d, err := s.cfg.Store.Team(team).Redeliver(ctx, id, s.now())
	if err != nil {
		return store.Delivery{}, fmt.Errorf("delivery: redeliver: %w", err)
	}
	once := river.InsertOpts{Queue: QueueName, MaxAttempts: s.opts.MaxAttempts}
	if err := s.enqueue(ctx, []store.Delivery{d}, &once); err != nil {
		// The delivery is pending: the repair loop queues it if this insert was lost.
		s.log.Error(err, "queue a redelivery; the repair pass will", "delivery", d.ID)
	}
	return d, nil
}

func (o outcome) result(status store.DeliveryStatus, next *time.Time) store.AttemptResult {
	return store.AttemptResult{StatusCode: o.status, DurationMS: o.duration.Milliseconds(), Error: o.err,
		ResponseExcerpt: o.excerpt, Status: status, NextRetryAt: next, At: o.at, Held: o.held}
}
