package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/interviews"
	qualscheme "qual.cx/operator/internal/scheme"
	"qual.cx/operator/internal/store"
)

// managerFlags configure `qual manager`.
type managerFlags struct {
	metricsAddr, probeAddr string
	leaderElect            bool
	leaderElectionNS       string
	namespaces             []string
	operatorNamespace      string
	dispatcherImage        string
	dispatcherStoreSecret  string
	dispatcherReplicas     int32
	dispatcherCPU          string
	dispatcherMemory       string
	concurrency            int
	interviewIdle          time.Duration
	// egress holds the operator's exceptions to the egress policy, for the dispatcher and
	// for the Webhook controller's check of spec.url.
	egress egressFlags
	// stallHold, rescueAfter and attemptTimeout are passed on to the dispatcher when set.
	stallHold, rescueAfter, attemptTimeout time.Duration
}

func (f *managerFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; 0 turns it off")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz; 0 turns them off")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "elect one active manager among replicas")
	fs.StringVar(&f.leaderElectionNS, "leader-election-namespace", "", "namespace of the leader election lease (default: the pod's)")
	fs.IntVar(&f.concurrency, "concurrency", 4, "objects of one kind reconciled at once")
	fs.StringSliceVar(&f.namespaces, "namespaces", nil, "namespaces whose Campaigns, Webhooks and APIKeys to reconcile (default: all; the operator namespace is always added)")
	fs.StringVar(&f.operatorNamespace, "operator-namespace", qualv1alpha1.SystemNamespace, "the operator's namespace: no team may own it, the dispatcher runs there, and its service accounts are granted team namespaces' Secrets")
	fs.StringVar(&f.dispatcherImage, "dispatcher-image", "qual:latest", "image of the webhook dispatcher Deployment")
	fs.StringVar(&f.dispatcherStoreSecret, "dispatcher-store-secret", controllers.DefaultStoreSecret, "Secret in the operator namespace whose \"dsn\" key the dispatcher reads the store's address from")
	fs.Int32Var(&f.dispatcherReplicas, "dispatcher-replicas", 1, "replicas of the dispatcher")
	fs.StringVar(&f.dispatcherCPU, "dispatcher-cpu", "50m", "CPU request of a dispatcher")
	fs.StringVar(&f.dispatcherMemory, "dispatcher-memory", "64Mi", "memory request and limit of a dispatcher")
	f.egress.registerAllow(fs)
	fs.DurationVar(&f.stallHold, "stall-hold", 0, "the dispatcher's --stall-hold, passed on when set (default: the dispatcher's, "+delivery.DefaultStallHold.String()+")")
	fs.DurationVar(&f.rescueAfter, "rescue-after", 0, "the dispatcher's --rescue-after, passed on when set, at least "+delivery.MinRescueAfter.String()+" (default: the dispatcher's, "+delivery.DefaultRescueAfter.String()+")")
	fs.DurationVar(&f.attemptTimeout, "webhook-attempt-timeout", 0, "the dispatcher's --webhook-attempt-timeout, passed on when set, below "+delivery.MaxAttemptTimeout.String()+" (default: the dispatcher's)")
	fs.DurationVar(&f.interviewIdle, "interview-idle-timeout", interviews.DefaultIdleTimeout, "an interview nobody answers for this long is abandoned (checked every minute, by the leader)")
}

// dispatcher turns the flags into the dispatcher configuration.
func (f *managerFlags) dispatcher() (controllers.DispatcherConfig, error) {
	cpu, err := resource.ParseQuantity(f.dispatcherCPU)
	if err != nil {
		return controllers.DispatcherConfig{}, fmt.Errorf("--dispatcher-cpu: %w", err)
	}
	mem, err := resource.ParseQuantity(f.dispatcherMemory)
	if err != nil {
		return controllers.DispatcherConfig{}, fmt.Errorf("--dispatcher-memory: %w", err)
	}
	if f.dispatcherReplicas < 0 {
		return controllers.DispatcherConfig{}, fmt.Errorf("--dispatcher-replicas must not be negative")
	}
	if f.stallHold < 0 {
		return controllers.DispatcherConfig{}, fmt.Errorf("--stall-hold must not be negative")
	}
	// Refused here rather than by a dispatcher that would not start.
	if f.rescueAfter != 0 {
		if err := checkRescueAfter(f.rescueAfter); err != nil {
			return controllers.DispatcherConfig{}, err
		}
	}
	if f.attemptTimeout != 0 {
		if err := checkAttemptTimeout(f.attemptTimeout); err != nil {
			return controllers.DispatcherConfig{}, err
		}
	}
	return controllers.DispatcherConfig{
		Image:            f.dispatcherImage,
		Replicas:         f.dispatcherReplicas,
		StoreSecret:      f.dispatcherStoreSecret,
		EgressAllow:      f.egress.allow,
		EgressAllowHosts: f.egress.allowHosts,
		StallHold:        f.stallHold,
		RescueAfter:      f.rescueAfter,
		AttemptTimeout:   f.attemptTimeout,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: mem},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: mem},
		},
	}, nil
}

// cachedNamespaces are the namespaces the manager watches: all when none are given, else the
// given ones and the operator's, where the dispatcher runs.
func (f *managerFlags) cachedNamespaces() []string {
	if len(f.namespaces) == 0 || slices.Contains(f.namespaces, f.operatorNamespace) {
		return f.namespaces
	}
	return append(slices.Clone(f.namespaces), f.operatorNamespace)
}

func newManagerCommand(g *globalFlags) *cobra.Command {
	f := &managerFlags{}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the controllers: teams, campaigns, API keys and webhooks",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := g.restConfig()
			if err != nil {
				return err
			}
			db, err := store.Open(ctx, g.store)
			if err != nil {
				return fmt.Errorf("open store: %w", err)
			}
			defer func() { _ = db.Close() }()
			mgr, err := newManager(ctx, cfg, f, db)
			if err != nil {
				return err
			}
			return mgr.Start(ctx)
		},
	}
	f.register(cmd)
	return cmd
}

// newManager builds a manager with every controller, probes and metrics.
func newManager(ctx context.Context, cfg *rest.Config, f *managerFlags, db store.Store) (ctrl.Manager, error) {
	dispatcher, err := f.dispatcher()
	if err != nil {
		return nil, err
	}
	scheme, err := qualscheme.New()
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   controllers.CacheOptions(f.operatorNamespace, f.cachedNamespaces()),
		Metrics:                 metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:  f.probeAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "manager.qual.cx",
		LeaderElectionNamespace: f.leaderElectionNS,
		// Step down promptly on shutdown so a new leader need not wait out the lease.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	policy, err := f.egress.policy()
	if err != nil {
		return nil, err
	}
	opts := controllers.Options{
		Dispatcher:      dispatcher,
		Concurrency:     f.concurrency,
		SystemNamespace: f.operatorNamespace,
		Egress:          policy,
	}
	if db != nil {
		opts = opts.WithStore(mgr.GetClient(), db)
	}
	if _, err := controllers.Setup(ctx, mgr, opts); err != nil {
		return nil, err
	}
	if f.interviewIdle <= 0 {
		return nil, fmt.Errorf("--interview-idle-timeout must be positive")
	}
	sweeper := &interviews.Sweeper{Store: db, IdleTimeout: f.interviewIdle, Log: mgr.GetLogger().WithName("interview-sweep")}
	if err := mgr.Add(sweeper); err != nil {
		return nil, fmt.Errorf("add the interview sweep: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("cache", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return fmt.Errorf("informer cache not synced")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("ready check: %w", err)
	}
	return mgr, nil
}
