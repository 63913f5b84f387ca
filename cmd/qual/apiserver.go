package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"qual.cx/operator/apiserver"
	"qual.cx/operator/internal/analysis"
	llmanalysis "qual.cx/operator/internal/analysis/llm"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/interviewer"
	"qual.cx/operator/internal/interviews"
	"qual.cx/operator/internal/ratelimit"
	qualscheme "qual.cx/operator/internal/scheme"
	"qual.cx/operator/internal/session"
	"qual.cx/operator/internal/store"
)

// apiserverFlags configure the REST apiserver; `qual apiserver` exposes all of them, `qual dev`
// sets most itself.
type apiserverFlags struct {
	addr        string
	jwtSecret   string
	jwksURL     string
	jwtAudience string
	redisURL    string
	redisFail   string
	cursorKey   string
	adminRole   string
	adminUsers  []string
	adminNS     string
	teams       apiserver.TeamLimits
	anonPerMin  int
	proxies     []string
	metricsAddr string
	llmSecret   string
	analysis    analysisFlags
	publicURL   string
	// delivery configures test sends and redeliveries; only its egress flags are exposed.
	delivery dispatcherFlags
	// deliveries, when set, is the process's running delivery service (`qual dev`), used
	// instead of an insert-only one.
	deliveries *delivery.Service
	// aggregated is the data.qual.cx aggregated API beside the REST API.
	aggregated aggregatedFlags
}

func (f *apiserverFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", ":8090", "listen address of the REST API")
	fs.StringVar(&f.jwtSecret, "jwt-secret", os.Getenv("QUAL_JWT_SECRET"), "HS256 secret of session tokens, at least 32 bytes (default: QUAL_JWT_SECRET)")
	fs.StringVar(&f.jwksURL, "jwks-url", "", "JWK Set URL of asymmetric session-token keys")
	fs.StringVar(&f.jwtAudience, "jwt-audience", session.DefaultAudience, "aud a session token must carry when it carries one")
	fs.StringVar(&f.redisURL, "redis-url", "", "Redis URL for rate limits shared by replicas (default: in memory, one replica)")
	fs.StringVar(&f.redisFail, "redis-fail", "closed", "while Redis is down: closed refuses requests with 503 (and /ready fails), open lets each replica enforce the plan limits on its own")
	fs.StringVar(&f.cursorKey, "cursor-key", os.Getenv("QUAL_CURSOR_KEY"), "key signing pagination cursors, at least 16 bytes, shared by replicas (default: QUAL_CURSOR_KEY, else random)")
	fs.StringVar(&f.adminRole, "admin-role", "", "JWT role of platform admins")
	fs.StringSliceVar(&f.adminUsers, "admin-users", nil, "user IDs or e-mails of platform admins, comma-separated")
	fs.StringVar(&f.adminNS, "admin-namespace", apiserver.DefaultAdminNamespace, "the operator's namespace: its API keys are platform admins' (tenants must not be able to write it)")
	fs.IntVar(&f.teams.MaxOwned, "max-owned-teams", apiserver.DefaultMaxOwnedTeams, "teams one user may own")
	fs.IntVar(&f.teams.PerHour, "teams-per-hour", apiserver.DefaultTeamsPerHour, "teams one user may create per hour")
	fs.IntVar(&f.anonPerMin, "unauthenticated-per-minute", apiserver.DefaultAnonymousLimit.Quota, "requests answered 401 and CORS preflights one client address may make per minute")
	fs.StringSliceVar(&f.proxies, "trusted-proxies", nil, "CIDRs of proxies whose X-Forwarded-For names the client, comma-separated (default: none)")
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8091", "address of the Prometheus metrics endpoint; 0 turns it off")
	f.analysis.register(fs)
	f.delivery.defaults()
	f.delivery.egress.register(fs)
	fs.StringVar(&f.publicURL, "public-url", "", "the address clients reach the REST API at (e.g. https://api.qual.example), the base of graph share links (default: the scheme and host of each request)")
	f.aggregated.register(fs)
	fs.StringVar(&f.llmSecret, "llm-secret", "qual-llm", "Secret in --admin-namespace configuring the chat model that llm interviewers and llm analyzers use (keys baseURL, model, apiKey); while it is missing, those campaigns use the protocol interviewer and the built-in analyzer; empty turns the model off")
}

// serverDeps are what the apiserver borrows from the process that hosts it.
type serverDeps struct {
	client  client.Client
	reader  client.Reader // uncached, for the Secrets the server reads
	cache   cache.Cache
	events  events.EventRecorder
	store   store.Store
	metrics prometheus.Registerer
	// kube reaches the Kubernetes API, which /ready probes.
	kube *rest.Config
}

// config turns the flags into an apiserver.Config. The returned func releases what config
// opened (a Redis client); call it after the server has stopped.
func (f *apiserverFlags) config(ctx context.Context, log logr.Logger, d serverDeps) (apiserver.Config, func(), error) {
	probe, err := apiserver.KubeProbe(d.kube)
	if err != nil {
		return apiserver.Config{}, nil, err
	}
	sessions, err := f.sessions(ctx, log)
	if err != nil {
		return apiserver.Config{}, nil, err
	}
	limiter, closeLimiter, err := f.limiter(log)
	if err != nil {
		return apiserver.Config{}, nil, err
	}
	cursorKey, err := f.cursorKeyBytes(log)
	if err != nil {
		closeLimiter()
		return apiserver.Config{}, nil, err
	}
	if err := checkPublicURL(f.publicURL); err != nil {
		closeLimiter()
		return apiserver.Config{}, nil, err
	}
	proxies := make([]netip.Prefix, len(f.proxies))
	for i, p := range f.proxies {
		if proxies[i], err = netip.ParsePrefix(p); err != nil {
			closeLimiter()
			return apiserver.Config{}, nil, fmt.Errorf("--trusted-proxies: %w", err)
		}
	}
	model := f.llm(ctx, log, d.reader)
	queue, stopQueue, err := f.analysis.start(ctx, log, d.store, model, limiter, d.metrics)
	if err != nil {
		closeLimiter()
		return apiserver.Config{}, nil, err
	}
	deliveries, policy, stopDeliveries, err := f.deliveryService(ctx, log, d)
	if err != nil {
		stopQueue()
		closeLimiter()
		return apiserver.Config{}, nil, err
	}
	return apiserver.Config{
		Addr: f.addr, Client: d.client, Cache: d.cache, Store: d.store, Limiter: limiter, LLM: model.interviewer(),
		Sessions: sessions, CursorKey: cursorKey, AdminRole: f.adminRole, AdminUsers: f.adminUsers,
		AdminNamespace: f.adminNS, Teams: f.teams, Logger: log, Metrics: d.metrics, TrustedProxies: proxies,
		AnonymousLimit: ratelimit.Limit{Quota: f.anonPerMin, Window: time.Minute}, PublicURL: f.publicURL, Analyses: queue,
		Deliveries: deliveries, Egress: policy, SecretReader: d.reader, KubeProbe: probe,
	}, func() { stopDeliveries(); stopQueue(); closeLimiter() }, nil
}

// deliveryService returns what sends test events and queues redeliveries: the process's
// running service when it has one, else one that sends no queued deliveries itself.
func (f *apiserverFlags) deliveryService(ctx context.Context, log logr.Logger, d serverDeps) (*delivery.Service, egress.Policy, func(), error) {
	policy, err := f.delivery.egress.policy()
	if err != nil {
		return nil, egress.Policy{}, nil, err
	}
	if f.deliveries != nil {
		return f.deliveries, policy, func() {}, nil
	}
	dir, err := kubeDirectory(ctx, d.cache, d.reader, d.client, d.events)
	if err != nil {
		return nil, egress.Policy{}, nil, err
	}
	svc, stop, err := f.delivery.service(ctx, log.WithName("deliveries"), d.store, dir, nil, 0, nil)
	if err != nil {
		return nil, egress.Policy{}, nil, err
	}
	svc.Start(ctx) // no workers: it only readies the queue for redeliveries
	return svc, policy, stop, nil
}

// checkPublicURL accepts an empty --public-url or an http(s) origin, without a path.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url %q: want http(s)://host[:port]", s)
	}
	return nil
}

// llm starts following the LLM provider Secret, or returns nil when --llm-secret is empty.
func (f *apiserverFlags) llm(ctx context.Context, log logr.Logger, reader client.Reader) *chatModel {
	if f.llmSecret == "" || reader == nil {
		return nil
	}
	log = log.WithName("llm")
	p := &interviews.Provider{Reader: reader, Secret: types.NamespacedName{Namespace: f.adminNS, Name: f.llmSecret},
		Pool: interviewer.NewPool(nil, log), Log: log}
	go p.Run(ctx)
	return &chatModel{provider: p, log: log}
}

// chatModel is the operator's chat model, as the interviewer and the analyzer use it.
type chatModel struct {
	provider *interviews.Provider
	log      logr.Logger
}

// interviewer is the model's interviewer for llm campaigns; nil when there is no model.
func (m *chatModel) interviewer() func(context.Context) interviewer.Interviewer {
	if m == nil {
		return nil
	}
	return m.provider.Interviewer
}

// analyzer is the analyzer of campaigns that ask for it: the model's, with builtin as its
// fallback, or nil while no model is configured.
func (m *chatModel) analyzer(builtin analysis.Analyzer, metrics *llmanalysis.Metrics) func(context.Context) analysis.Analyzer {
	if m == nil {
		return nil
	}
	return llmanalysis.For(m.provider.Model, builtin, metrics, m.log.WithName("analyzer"))
}

// sessions builds the session-token verifier, or nil (API keys only) when neither a secret
// nor a JWKS URL is configured.
func (f *apiserverFlags) sessions(ctx context.Context, log logr.Logger) (*session.Verifier, error) {
	if f.jwtSecret == "" && f.jwksURL == "" {
		log.Info("no --jwt-secret or --jwks-url: session tokens are refused, API keys only")
		return nil, nil
	}
	v, err := session.NewVerifier(ctx, session.Config{
		Secret: []byte(f.jwtSecret), JWKSURL: f.jwksURL, Audience: f.jwtAudience,
		Logger: slog.New(logr.ToSlogHandler(log.WithName("sessions"))),
	})
	if err != nil {
		return nil, fmt.Errorf("session verifier: %w", err)
	}
	return v, nil
}

// limiter returns the rate limiter and a func that closes it. A Redis limiter fails in the
// direction of --redis-fail while Redis is down, and returns to Redis by itself.
func (f *apiserverFlags) limiter(log logr.Logger) (ratelimit.Limiter, func(), error) {
	mode := ratelimit.FailClosed
	if f.redisFail != "" { // qual dev sets no flag
		var err error
		if mode, err = ratelimit.ParseFailMode(f.redisFail); err != nil {
			return nil, nil, fmt.Errorf("--redis-fail: %w", err)
		}
	}
	if f.redisURL == "" {
		return ratelimit.NewMemory(), func() {}, nil
	}
	opts, err := redis.ParseURL(f.redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis-url: %w", err)
	}
	rc := redis.NewClient(opts)
	lim := ratelimit.NewFailover(ratelimit.NewRedis(rc, "qual:"), ratelimit.FailoverOptions{Mode: mode, Logger: log.WithName("ratelimit")})
	return lim, func() { _ = rc.Close() }, nil
}

// cursorKeyBytes returns the configured cursor key or a random one. A random key is fine for
// one replica, but cursors from one replica fail on another, so it warns.
func (f *apiserverFlags) cursorKeyBytes(log logr.Logger) ([]byte, error) {
	if f.cursorKey != "" {
		return []byte(f.cursorKey), nil
	}
	key, err := randomHex(32)
	if err != nil {
		return nil, fmt.Errorf("generate cursor key: %w", err)
	}
	log.Info("WARNING: no --cursor-key or QUAL_CURSOR_KEY: using a random one; replicas must share one or their pagination cursors fail on each other")
	return []byte(key), nil
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func newAPIServerCommand(g *globalFlags) *cobra.Command {
	f := &apiserverFlags{}
	cmd := &cobra.Command{
		Use:   "apiserver",
		Short: "Serve the REST API under /api/v1 over the Kubernetes objects and the store",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAPIServer(cmd.Context(), g, f)
		},
	}
	f.register(cmd)
	return cmd
}

// runAPIServer serves the REST API from its own informer cache until ctx ends.
func runAPIServer(ctx context.Context, g *globalFlags, f *apiserverFlags) error {
	log := ctrl.Log.WithName("apiserver")
	cfg, err := g.restConfig()
	if err != nil {
		return err
	}
	scheme, err := qualscheme.New()
	if err != nil {
		return err
	}
	cl, err := cluster.New(cfg, func(o *cluster.Options) {
		o.Scheme = scheme
		o.Cache = apiserver.CacheOptions()
	})
	if err != nil {
		return fmt.Errorf("create cluster client: %w", err)
	}
	db, err := store.Open(ctx, g.store)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() { _ = db.Close() }()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srvCfg, release, err := f.config(ctx, log, serverDeps{client: cl.GetClient(), reader: cl.GetAPIReader(), cache: cl.GetCache(),
		events: cl.GetEventRecorder("qual-apiserver"), store: db, metrics: reg, kube: cfg})
	if err != nil {
		return err
	}
	defer release()
	// New registers its informers on the cache, so it must come before the cache starts.
	srv, err := apiserver.New(ctx, srvCfg)
	if err != nil {
		return fmt.Errorf("create apiserver: %w", err)
	}
	agg, err := f.aggregated.server(log, g.kubeconfig, srvCfg.CursorKey, db, cl.GetCache())
	if err != nil {
		return err
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return cl.Start(ctx) })
	eg.Go(func() error { return srv.Run(ctx) })
	if agg != nil {
		eg.Go(func() error { return agg.Run(ctx) })
	}
	eg.Go(func() error { return serveMetrics(ctx, f.metricsAddr, reg) })
	return eg.Wait()
}

// serveMetrics serves reg on addr until ctx ends; addr "0" turns it off.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry) error {
	if addr == "0" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics: serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("metrics: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: serve %s: %w", addr, err)
	}
	return nil
}
