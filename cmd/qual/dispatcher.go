package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
	qualscheme "qual.cx/operator/internal/scheme"
	"qual.cx/operator/internal/store"
)

// egressFlags say which addresses webhook deliveries may reach; the apiserver checks URLs
// with them and sends test events, the dispatcher sends everything else.
type egressFlags struct {
	allow          []string
	allowHosts     []string
	allowLoopback  bool
	attemptTimeout time.Duration
	maxResponse    int64
}

func (f *egressFlags) register(fs *pflag.FlagSet) {
	f.registerAllow(fs)
	fs.DurationVar(&f.attemptTimeout, "webhook-attempt-timeout", 10*time.Second, "how long one delivery attempt may take; the dispatcher's must be below "+delivery.MaxAttemptTimeout.String()+", where a delivery's run is cut off")
	fs.Int64Var(&f.maxResponse, "webhook-max-response", 64<<10, "bytes of a receiver's response read at most")
}

// registerAllow registers the operator's exceptions alone: the manager passes them on to the
// dispatcher it runs and holds Webhook URLs to them.
func (f *egressFlags) registerAllow(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.allow, "egress-allow", nil, "CIDRs webhook deliveries may reach although private (e.g. 10.20.0.0/16), comma-separated")
	fs.StringSliceVar(&f.allowHosts, "egress-allow-hosts", nil, "host names webhook URLs may use over http and at private addresses (never cloud metadata), comma-separated")
}

// policy is the egress policy the flags describe.
func (f *egressFlags) policy() (egress.Policy, error) {
	p := egress.Policy{AllowLoopback: f.allowLoopback, AllowHosts: f.allowHosts}
	for _, s := range f.allow {
		prefix, err := netip.ParsePrefix(s)
		if err != nil {
			return egress.Policy{}, fmt.Errorf("--egress-allow %q: %w", s, err)
		}
		p.Allow = append(p.Allow, prefix)
	}
	return p, nil
}

// dispatcherFlags configure delivery: `qual dispatcher` exposes them, `qual dev` uses their
// defaults.
type dispatcherFlags struct {
	egress         egressFlags
	workers        int
	inFlight       int
	schedule       []time.Duration
	disableAfter   time.Duration
	stallHold      time.Duration
	retention      time.Duration
	statusInterval time.Duration
	rescueAfter    time.Duration
	poll           time.Duration
	metricsAddr    string
}

func (f *dispatcherFlags) register(fs *pflag.FlagSet) {
	f.egress.register(fs)
	fs.IntVar(&f.workers, "workers", 32, "deliveries this replica sends at once")
	fs.IntVar(&f.inFlight, "max-in-flight-per-endpoint", delivery.DefaultInFlight, "deliveries this replica sends to one endpoint at once")
	fs.DurationSliceVar(&f.schedule, "retry-schedule", delivery.DefaultSchedule, "waits before each retry of a failed delivery (±10% jitter); after the last it has failed")
	fs.DurationVar(&f.disableAfter, "disable-after", delivery.DefaultDisableAfter, "an endpoint whose deliveries have all failed for this long is disabled")
	fs.DurationVar(&f.stallHold, "stall-hold", delivery.DefaultStallHold, "a delivery held while its webhook is stalled (a signing Secret missing or invalid, NoTeam, ...) fails after this long, naming the stall; keep it well below --delivery-retention, or the failure is pruned with it")
	fs.DurationVar(&f.retention, "delivery-retention", delivery.DefaultRetention, "finished deliveries, their attempts and their events are deleted after this long")
	fs.DurationVar(&f.statusInterval, "status-interval", delivery.DefaultStatusInterval, "an endpoint's Webhook status is written at most this often")
	fs.DurationVar(&f.rescueAfter, "rescue-after", delivery.DefaultRescueAfter, "a delivery whose replica died mid-send is sent again this long after its attempt began (River looks every 30 s); at least "+delivery.MinRescueAfter.String()+", as a run lasts 30 s and then records its attempt, and a rescue sooner could send beside it. Each job carries it: the analyses' --analysis-rescue-after is theirs")
	fs.DurationVar(&f.poll, "poll-interval", delivery.DefaultPollInterval, "how often the outbox is read for new events")
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8092", "address of the Prometheus metrics endpoint; 0 turns it off")
}

// checkRescueAfter refuses a --rescue-after that could rescue a delivery while the run that
// took it still ends: the dispatcher's, and the manager's that it passes on.
func checkRescueAfter(d time.Duration) error {
	if d < delivery.MinRescueAfter {
		return fmt.Errorf("--rescue-after must be at least %v, got %v: a delivery's run, cut off at its bound, still records its attempt, and a rescue sooner could send the delivery beside it",
			delivery.MinRescueAfter, d)
	}
	return nil
}

// checkAttemptTimeout refuses a --webhook-attempt-timeout a delivery's run could not honour
// (the run is cut off at its own bound first, so the flag would silently mean less), and
// none at all: the dispatcher's, and the manager's that it passes on.
func checkAttemptTimeout(d time.Duration) error {
	if d <= 0 || d >= delivery.MaxAttemptTimeout {
		return fmt.Errorf("--webhook-attempt-timeout must be positive and below %v, got %v: a delivery's run is cut off at %v, so an attempt would never be given that long",
			delivery.MaxAttemptTimeout, d, delivery.MaxAttemptTimeout)
	}
	return nil
}

// defaults are the flags' defaults, for `qual dev`.
func (f *dispatcherFlags) defaults() {
	fs := pflag.NewFlagSet("dispatcher", pflag.ContinueOnError)
	f.register(fs)
}

// service builds the delivery service; workers 0 makes one that only sends tests and queues
// redeliveries (the apiserver's). Start it once the directory's cache has synced (an event
// relayed before would find no endpoint); the returned func stops it.
func (f *dispatcherFlags) service(ctx context.Context, log logr.Logger, db store.Store, dir delivery.Directory,
	health delivery.HealthWriter, workers int, reg prometheus.Registerer) (*delivery.Service, func(), error) {
	policy, err := f.egress.policy()
	if err != nil {
		return nil, nil, err
	}
	svc, err := delivery.New(ctx, delivery.Config{
		Store: db, Directory: dir, Health: health, Client: policy.Client(f.egress.attemptTimeout, f.egress.maxResponse),
		CheckURL:     policy.CheckURL,
		Schedule:     delivery.Schedule{Waits: f.schedule, Jitter: 0.1},
		DisableAfter: f.disableAfter, StallHold: f.stallHold, Workers: workers, InFlight: f.inFlight, PollInterval: f.poll,
		StatusInterval: f.statusInterval, Retention: f.retention, RescueAfter: f.rescueAfter, Logger: log, Metrics: reg,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("delivery: %w", err)
	}
	return svc, func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := svc.Stop(stop); err != nil {
			log.Error(err, "stop the delivery workers")
		}
		svc.Close()
	}, nil
}

// kubeDirectory builds the Kubernetes directory of endpoints on a cache not yet started.
func kubeDirectory(ctx context.Context, c cache.Cache, reader client.Reader, writer client.Client, rec events.EventRecorder) (*delivery.Kube, error) {
	k, err := delivery.NewKube(ctx, c, reader, writer, rec)
	if err != nil {
		return nil, fmt.Errorf("webhook directory: %w", err)
	}
	return k, nil
}

func newDispatcherCommand(g *globalFlags) *cobra.Command {
	f := &dispatcherFlags{}
	cmd := &cobra.Command{
		Use:   "dispatcher",
		Short: "Deliver webhook events: relay the outbox, sign, send, retry and report health",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkRescueAfter(f.rescueAfter); err != nil {
				return err
			}
			if err := checkAttemptTimeout(f.egress.attemptTimeout); err != nil {
				return err
			}
			return runDispatcher(cmd.Context(), g, f)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// runDispatcher delivers events until ctx ends. It reads Webhooks and namespaces from its own
// informer cache and signing Secrets one by one.
func runDispatcher(ctx context.Context, g *globalFlags, f *dispatcherFlags) error {
	log := ctrl.Log.WithName("dispatcher")
	cfg, err := g.restConfig()
	if err != nil {
		return err
	}
	scheme, err := qualscheme.New()
	if err != nil {
		return err
	}
	cl, err := cluster.New(cfg, func(o *cluster.Options) { o.Scheme = scheme })
	if err != nil {
		return fmt.Errorf("create cluster client: %w", err)
	}
	db, err := store.Open(ctx, g.store)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() { _ = db.Close() }()
	dir, err := kubeDirectory(ctx, cl.GetCache(), cl.GetAPIReader(), cl.GetClient(), cl.GetEventRecorder("qual-dispatcher"))
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return cl.Start(ctx) })
	eg.Go(func() error {
		if !cl.GetCache().WaitForCacheSync(ctx) {
			return errors.New("dispatcher: the informer cache did not sync")
		}
		svc, stop, err := f.service(ctx, log, db, dir, dir, f.workers, reg)
		if err != nil {
			return err
		}
		svc.Start(ctx)
		<-ctx.Done()
		stop()
		return nil
	})
	eg.Go(func() error { return serveMetrics(ctx, f.metricsAddr, reg) })
	return eg.Wait()
}
