// Package apiserver is the Qual REST API under /api/v1 (and its /v1 alias): routing,
// authentication, scopes, rate limits and the envelope, over the Kubernetes objects (through
// the informer cache and server-side apply) and the store.
package apiserver

import (
	"context"
	"errors"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/cachetrim"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/findings"
	"qual.cx/operator/internal/interviewer"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/session"
	"qual.cx/operator/internal/store"
)

// Config is what the server needs. Client, Cache, Store, Limiter and CursorKey are required.
type Config struct {
	// Addr is the listen address of Run, e.g. ":8090".
	Addr string
	// Client writes Kubernetes objects (server-side apply as FieldManager).
	Client client.Client
	// Cache is the informer cache REST reads come from; the server registers its informers
	// on it, so start the cache after New (a manager's cache in `qual dev` is fine).
	Cache cache.Cache
	// KubeProbe checks that the Kubernetes API answers, for /ready (see KubeProbe); nil
	// makes readiness follow the informer cache's sync alone.
	KubeProbe func(context.Context) error
	// Store holds interviews, messages, idempotency records and, later, findings.
	Store store.Store
	// LLM returns the interviewer of the operator's chat model for campaigns that ask for
	// one, or nil while none is configured; nil holds every interview with the protocol.
	LLM func(context.Context) interviewer.Interviewer
	// Egress decides which webhook URLs the API accepts (egress.Policy.CheckURL); the zero
	// Policy takes https to public addresses only.
	Egress egress.Policy
	// Deliveries sends webhook test events and redeliveries (internal/delivery's Service);
	// nil answers those two endpoints with 503.
	Deliveries Deliverer
	// SecretReader reads past the informer cache, one get by name: webhooks' signing Secrets
	// (the apiserver may not list or watch Secrets), and a key or Team whose write lost a
	// race to another write the cache does not show yet. nil reads through Client, which
	// then must not cache Secrets (and re-reads Teams from its cache, so a write racing
	// others may run out of tries).
	SecretReader client.Reader
	// Analyses queues analysis jobs (findings.NewQueue over Store); nil answers analyze
	// with 503. Whether this process also works the queue is the queue's own setting.
	Analyses *findings.Queue
	// Limiter spends the plans' budgets: ratelimit.NewMemory for one replica,
	// ratelimit.NewRedis for several (in a ratelimit.Failover, which fails closed or open
	// while Redis is down). /ready asks a Limiter that is a ratelimit.ReadinessChecker.
	Limiter ratelimit.Limiter
	// Plans are the plans' budgets; nil is the contract's table (plans.Default).
	Plans plans.Table
	// Sessions verifies session JWTs; nil accepts API keys only.
	Sessions *session.Verifier
	// CursorKey signs pagination cursors; replicas must share it.
	CursorKey []byte
	// AdminRole is the JWT role (claim `role` or `app_metadata.role`) of platform admins.
	AdminRole string
	// AdminUsers are user IDs or e-mails of platform admins.
	AdminUsers []string
	// AdminNamespace is the operator's own namespace (default qual-system). Its API keys
	// belong to no team and are platform admins' keys; only there may a key hold admin:read.
	AdminNamespace string
	// AnonymousLimit is the budget, per client address, of requests answered 401 and of CORS
	// preflights; zero is DefaultAnonymousLimit.
	AnonymousLimit ratelimit.Limit
	// TrustedProxies are the peers whose X-Forwarded-For names the client; empty: none, the
	// connection's peer is the client.
	TrustedProxies []netip.Prefix
	// PublicURL is the address clients reach the server at (e.g. "https://api.qual.example"),
	// the base of the share links' page URLs; empty: the scheme and host each request came to.
	PublicURL string
	// Teams bounds team creation per user: each team costs the cluster a namespace, Roles
	// and RoleBindings. Zero fields take DefaultMaxOwnedTeams and DefaultTeamsPerHour.
	Teams TeamLimits
	// Logger receives access logs and errors.
	Logger logr.Logger
	// Metrics registers the per-route metrics; nil uses a private registry.
	Metrics prometheus.Registerer
	// WriteWait bounds how long a write waits for the informer cache to show it before it
	// answers from the write's own response (default 3s): reads right after a write see it
	// unless the cache lags more than that.
	WriteWait time.Duration
	// ShutdownTimeout bounds graceful shutdown in Run (default 20s).
	ShutdownTimeout time.Duration
	// Now is the clock; tests may pin it.
	Now func() time.Time
}

func (c *Config) validate() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("apiserver: Config.Client is required"))
	}
	if c.Cache == nil {
		errs = append(errs, errors.New("apiserver: Config.Cache is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("apiserver: Config.Store is required"))
	}
	if c.Limiter == nil {
		errs = append(errs, errors.New("apiserver: Config.Limiter is required"))
	}
	if len(c.CursorKey) < 16 {
		errs = append(errs, errors.New("apiserver: Config.CursorKey must be at least 16 bytes"))
	}
	if c.Plans == nil {
		c.Plans = plans.Default
	}
	if c.AdminNamespace == "" {
		c.AdminNamespace = DefaultAdminNamespace
	}
	c.Teams = c.Teams.withDefaults()
	if c.AnonymousLimit.Quota == 0 {
		c.AnonymousLimit = DefaultAnonymousLimit
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.WriteWait == 0 {
		c.WriteWait = 3 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 20 * time.Second
	}
	if c.Metrics == nil {
		c.Metrics = prometheus.NewRegistry()
	}
	return errors.Join(errs...)
}

// DefaultAdminNamespace is the operator's namespace in the shipped manifests.
const DefaultAdminNamespace = "qual-system"

// TeamLimits bound how many teams one user creates.
type TeamLimits struct {
	// MaxOwned is how many teams one user may own; creating one more is 403.
	MaxOwned int
	// PerHour is how many teams one user may create per hour; past it, 429.
	PerHour int
}

// The team limits when none are configured.
const (
	DefaultMaxOwnedTeams = 10
	DefaultTeamsPerHour  = 5
)

func (l TeamLimits) withDefaults() TeamLimits {
	if l.MaxOwned <= 0 {
		l.MaxOwned = DefaultMaxOwnedTeams
	}
	if l.PerHour <= 0 {
		l.PerHour = DefaultTeamsPerHour
	}
	return l
}

// CacheOptions are the informer cache options of an apiserver with a cache of its own: of
// Namespaces it needs only those a team has claimed (labelled with the team's UID).
func CacheOptions() cache.Options {
	claimed, _ := labels.NewRequirement(qualv1alpha1.LabelTeamUID, selection.Exists, nil) // a valid key: never fails
	return cache.Options{DefaultTransform: cachetrim.Transform, ByObject: map[client.Object]cache.ByObject{
		&corev1.Namespace{}: {Label: labels.NewSelector().Add(*claimed)},
	}}
}
