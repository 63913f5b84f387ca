package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/cursor"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/openapi"
	"qual.cx/operator/internal/interviewer"
	"qual.cx/operator/internal/interviews"
	"qual.cx/operator/internal/ratelimit"
)

// catchAll is the mux pattern of whatever no route matches.
const catchAll = "/"

// Server is the REST apiserver.
type Server struct {
	cfg     Config
	dir     *directory.Directory
	authn   *authn.Authenticator
	usage   *authn.UsageRecorder
	cursors *cursor.Codec
	mux     *http.ServeMux
	metrics *httpMetrics
	handler http.Handler
	// kube follows whether the Kubernetes API answers.
	kube *reachability
	// teamCreation serializes team creations, so per-user limits hold on this replica.
	teamCreation sync.Mutex
	// anon limits 401s and CORS preflights per client address (anonymous.go).
	anon anonymous
	// interviews runs interviews over the store.
	interviews *interviews.Service
	// queryParams are the query parameters each route documents (see authed); undocumented
	// lists the routes registered without a document entry, which New refuses.
	queryParams  map[string][]string
	undocumented []string
}

// New builds the server and subscribes it to the cache's informers. Start the cache after
// New; Handler answers 503 on /ready until the cache has synced. Background work (recording
// when keys were last used) runs until ctx ends.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dir := directory.NewWithLedger(cfg.Store)
	if err := dir.Watch(ctx, cfg.Cache); err != nil {
		return nil, err
	}
	metrics, err := newHTTPMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, dir: dir, cursors: cursor.NewCodec(cfg.CursorKey), mux: http.NewServeMux(), metrics: metrics,
		kube: &reachability{run: cfg.KubeProbe, interval: time.Second}, anon: anonymous{lim: ratelimit.NewMemory()}}
	s.cfg.Client = kubeWrites{Client: cfg.Client, kube: s.kube}
	s.interviews = &interviews.Service{
		Interviewers: interviews.Interviewers{Protocol: interviewer.NewProtocol(), LLM: cfg.LLM},
		Log:          cfg.Logger.WithName("interviews"),
	}
	s.usage = authn.NewUsageRecorder(cfg.Client, cfg.Logger.WithName("key-usage"))
	go s.usage.Run(ctx)
	go s.kube.watch(ctx)
	go s.purgeReplays(ctx)
	s.authn = authn.New(dir, authn.Options{
		Sessions: cfg.Sessions, AdminRole: cfg.AdminRole, AdminUsers: cfg.AdminUsers,
		Now: cfg.Now, Usage: s.usage, Binder: s, AdminNamespace: cfg.AdminNamespace, Log: cfg.Logger,
	})
	if s.queryParams, err = openapi.QueryParams(); err != nil {
		return nil, err
	}
	s.routes()
	if len(s.undocumented) > 0 {
		return nil, fmt.Errorf("apiserver: routes missing from the OpenAPI document: %v", s.undocumented)
	}
	s.mux.HandleFunc(catchAll, s.unrouted)
	s.handler = s.middleware(cleanPathsOnly(s.mux))
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on Config.Addr until ctx ends, then shuts down gracefully: it stops accepting,
// lets requests in flight finish for up to ShutdownTimeout, and returns.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Addr: s.cfg.Addr, Handler: s.handler,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: maxRequestTime,
		IdleTimeout: 120 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("apiserver: serve %s: %w", s.cfg.Addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("apiserver: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// NeedLeaderElection is false: every replica serves. It makes the server a manager runnable.
func (s *Server) NeedLeaderElection() bool { return false }

// Start runs the server, for use as a manager runnable.
func (s *Server) Start(ctx context.Context) error { return s.Run(ctx) }

// unrouted answers what no route matched: a CORS preflight, 405 with Allow for a known path,
// else 404, all in the envelope. It is the mux's catch-all, so matched requests are routed
// once, with no extra lookup.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		s.preflight(w, r)
		return
	}
	// No client of the API sends a method no route serves: such requests spend from the
	// address's unauthenticated budget, so a loop of them is throttled like bad credentials.
	if methodLabel(r.Method) == otherMethod {
		if limited := s.limitAnonymous(w, r); limited != nil {
			envelope.WriteError(w, limited)
			return
		}
	}
	if allow := s.allowedMethods(r); allow != "" {
		e := envelope.New(envelope.CodeMethodNotAllowed, "%s is not allowed here; use %s", r.Method, allow)
		e.Allow = allow
		envelope.WriteError(w, e)
		return
	}
	envelope.WriteError(w, envelope.New(envelope.CodeNotFound, "No route for %s", r.URL.Path))
}

// allowedMethods lists the methods the path has routes for; a GET route serves HEAD too.
func (s *Server) allowedMethods(r *http.Request) string {
	allow := ""
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != catchAll {
			if allow != "" {
				allow += ", "
			}
			allow += m
			if m == http.MethodGet {
				allow += ", " + http.MethodHead
			}
		}
	}
	return allow
}

// cleanPathsOnly answers a path with an empty, "." or ".." segment 404 in the envelope, as any
// unknown path. The mux would answer it with a redirect to the cleaned path and an HTML body,
// before authentication: a client following it silently reaches another route than it named.
func cleanPathsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != cleanPath(p) {
			envelope.WriteError(w, envelope.New(envelope.CodeNotFound, "No route for %s", p))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is p as the mux cleans it: rooted, with no empty, "." or ".." segment, and its
// trailing slash kept.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}
