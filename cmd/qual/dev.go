package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/golang-jwt/jwt/v5"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/dataapi"
	"qual.cx/operator/internal/admission"
	"qual.cx/operator/internal/controlplane"
	"qual.cx/operator/internal/keys"
	qpoll "qual.cx/operator/internal/poll"
	qualscheme "qual.cx/operator/internal/scheme"
	"qual.cx/operator/internal/store"
)

// The objects `qual dev` bootstraps, and the dev user who owns them.
const (
	devTeam      = "default"
	devKeyName   = "bootstrap"
	devUserID    = "00000000-0000-4000-8000-000000000001"
	devUserEmail = "dev@qual.local"
	// devAdminKeyName is the platform admin's key, in the operator's namespace: the only
	// place a key may hold admin:read, and where the REST API takes any key as an admin's.
	devAdminKeyName = "dev-admin"
	// devStartTimeout bounds each bootstrap wait: the team's namespace, the key, the API.
	devStartTimeout = time.Minute
)

// devAdminScopes are the dev admin key's: the platform-admin scope alone.
func devAdminScopes() []qualv1alpha1.Scope { return []qualv1alpha1.Scope{"admin:read"} }

// devScopes are every scope a team's key may hold: the bootstrap key may do anything in its
// team. admin:read is not among them: an admission policy keeps keys holding it out of team
// namespaces. The dev admin key, in qual-system, and the dev user's session are platform
// admins.
func devScopes() []qualv1alpha1.Scope {
	return []qualv1alpha1.Scope{
		"campaigns:read", "campaigns:write", "campaigns:delete", "campaigns:publish",
		"interviews:read", "interviews:write", "findings:read", "findings:write",
		"graph:read", "graph:share", "teams:read", "teams:write", "webhooks:manage",
	}
}

// devFlags configure `qual dev`. The manager and apiserver settings it does not expose are
// the manager's defaults or chosen for one local process.
type devFlags struct {
	dir string
	// tie makes etcd and kube-apiserver stop when this process dies, however it dies
	// (Linux). Tests turn it off to leave them running, as a crash elsewhere would.
	tie bool
	mgr managerFlags
	api apiserverFlags
	// agg is the running aggregated API server, registered once the manager is up.
	agg *dataapi.Server
}

func newDevCommand() *cobra.Command {
	f := &devFlags{}
	f.mgr.register(&cobra.Command{}) // the manager's defaults, without exposing its flags here
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything locally: a control plane, the controllers and the REST API, bootstrapped",
		Long: `Starts kube-apiserver and etcd (built once by hack/control-plane.sh, or KUBEBUILDER_ASSETS),
installs the CRDs and the admission policies, creates the namespace qual-system, runs the
controllers and the REST API in this process with a SQLite store, creates the team "default"
with a bootstrap API key holding every team scope, and a platform-admin key (admin:read) in
qual-system, and writes <dir>/dev.env and <dir>/kubeconfig. State persists in <dir>; run it
again to resume.

etcd and kube-apiserver stop with this process, and are recorded in <dir>/processes.json
while they run: should they outlive it, the next run stops them first (only them: a process
is stopped only when its PID, start time, executable and command line are the recorded
ones). It refuses to start, saying why, when another qual dev or an etcd it did not start
uses <dir>. Their logs are <dir>/etcd.log and <dir>/kube-apiserver.log.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.dir, "dir", ".qual", "state folder: etcd data, SQLite store, kubeconfig and dev.env")
	fs.StringVar(&f.api.addr, "addr", "127.0.0.1:8090", "listen address of the REST API")
	fs.StringVar(&f.api.aggregated.addr, "aggregated-addr", "", "TLS listen address of the data.qual.cx aggregated API (default: a free loopback port)")
	fs.StringVar(&f.mgr.metricsAddr, "metrics-bind-address", "", "address of the metrics endpoint (default: a free loopback port)")
	fs.StringVar(&f.mgr.probeAddr, "health-probe-bind-address", "", "address of /healthz and /readyz (default: a free loopback port)")
	fs.BoolVar(&f.tie, "tie-control-plane", true, "stop etcd and kube-apiserver when this process dies, however it dies (Linux; tests turn it off)")
	_ = fs.MarkHidden("tie-control-plane")
	return cmd
}

// runDev runs the local environment until ctx ends, then stops the control plane.
func runDev(ctx context.Context, out io.Writer, f *devFlags) (err error) {
	log := ctrl.Log.WithName("dev")
	// A closed terminal sends SIGHUP: stop as on Ctrl-C, control plane included.
	ctx, stopHUP := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer stopHUP()
	dir, err := filepath.Abs(f.dir)
	if err != nil {
		return fmt.Errorf("state folder: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state folder: %w", err)
	}
	state := devState{dir: dir, shown: f.dir}
	lock, err := lockDevState(state)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Close() }() // after the control plane has stopped
	prev, err := readDevEnv(filepath.Join(dir, "dev.env"))
	if err != nil {
		return err
	}
	if err := f.complete(prev); err != nil {
		return err
	}
	if err := checkListenAddr(f.api.addr); err != nil {
		return err
	}
	cp, err := startControlPlane(log, state, f.tie)
	if err != nil {
		return err
	}
	defer func() {
		log.Info("stopping the control plane")
		if stopErr := cp.Stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("stop control plane: %w", stopErr))
		}
	}()
	if ctx.Err() != nil {
		return nil // Ctrl-C while the control plane started, which cannot be interrupted
	}
	if err := installAdmission(ctx, cp.cfg); err != nil {
		if ctx.Err() != nil {
			return nil // Ctrl-C while waiting for the policies
		}
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeAdminKubeconfig(cp.cp, kubeconfig); err != nil {
		return err
	}
	f.api.aggregated.kubeconfig, f.api.aggregated.certDir = kubeconfig, devAggregatedDir(dir)
	log.Info("control plane up", "host", cp.cfg.Host, "kubeconfig", kubeconfig)
	return runDevComponents(ctx, out, f, cp.cfg, devPaths{
		dir: dir, kubeconfig: kubeconfig, prevKey: prev["QUAL_API_KEY"], prevAdminKey: prev["QUAL_ADMIN_KEY"],
	})
}

// complete fills what `qual dev` decides itself: loopback ports, a session secret that
// survives restarts (so tokens minted earlier keep working), and the dev user as admin.
func (f *devFlags) complete(prev map[string]string) error {
	f.mgr.leaderElect = false // one process; no lease to wait for
	// The aggregated API binds its port when it is made and registers the port it got: a
	// port picked now and bound later, after the control plane has started, may by then be
	// one of its connections' (a restart found 127.0.0.1:<picked> in use).
	if f.api.aggregated.addr == "" {
		f.api.aggregated.addr = "127.0.0.1:0"
	}
	for _, addr := range []*string{&f.mgr.metricsAddr, &f.mgr.probeAddr} {
		if *addr != "" {
			continue
		}
		free, err := freeLoopbackAddr()
		if err != nil {
			return err
		}
		*addr = free
	}
	f.api.jwtSecret = firstNonEmpty(os.Getenv("QUAL_JWT_SECRET"), prev["QUAL_JWT_SECRET"])
	if f.api.jwtSecret == "" {
		secret, err := randomHex(32)
		if err != nil {
			return fmt.Errorf("generate JWT secret: %w", err)
		}
		f.api.jwtSecret = secret
	}
	// One replica: a fresh cursor key per run is enough and needs no warning.
	key, err := randomHex(32)
	if err != nil {
		return fmt.Errorf("generate cursor key: %w", err)
	}
	f.api.cursorKey = key
	f.api.adminUsers = []string{devUserEmail}
	// llm campaigns use the model a `qual-llm` Secret in qual-system names, as in a cluster.
	f.api.adminNS, f.api.llmSecret = apiserver.DefaultAdminNamespace, "qual-llm"
	// Analyses run in this process, on the queue in its SQLite file; webhook deliveries too,
	// with the dispatcher's limits (an attempt's timeout, how much of an answer is kept).
	f.api.analysis.defaults()
	f.api.delivery.defaults()
	return nil
}

// installAdmission creates the operator's namespace, where platform-admin keys live, and
// installs the admission policies of config/admission, returning once they are enforced so
// nothing bootstrapped afterwards slips past them.
func installAdmission(ctx context.Context, cfg *rest.Config) error {
	scheme, err := qualscheme.New()
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: qualv1alpha1.SystemNamespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, devStartTimeout)
	defer cancel()
	if err := admission.Install(ctx, c, "qual-dev"); err != nil {
		return err
	}
	if err := admission.WaitEnforced(ctx, c, metav1.NamespaceDefault); err != nil {
		return fmt.Errorf("admission policies: %w", err)
	}
	return nil
}

// controlPlaneAssets is KUBEBUILDER_ASSETS, or the folder hack/control-plane.sh builds, found
// from the module root above the working directory.
func controlPlaneAssets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := controlplane.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("find kube-apiserver and etcd: set KUBEBUILDER_ASSETS or run inside the source tree: %w", err)
	}
	return controlplane.Assets(root)
}

// writeAdminKubeconfig adds a system:masters user and writes its kubeconfig, for kubectl.
func writeAdminKubeconfig(cp *envtest.ControlPlane, path string) error {
	user, err := cp.AddUser(envtest.User{Name: "qual-dev", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// devPaths are the files of one `qual dev` state folder.
type devPaths struct {
	dir, kubeconfig string
	prevKey         string // QUAL_API_KEY of the previous run, if any
	prevAdminKey    string // QUAL_ADMIN_KEY of the previous run, if any
}

// runDevComponents runs the manager, with the apiserver as one of its runnables, and
// bootstraps once they are up.
func runDevComponents(ctx context.Context, out io.Writer, f *devFlags, cfg *rest.Config, p devPaths) error {
	db, err := store.Open(ctx, filepath.Join(p.dir, "qual.db"))
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() { _ = db.Close() }()
	mgr, release, err := newDevManager(ctx, f, cfg, db)
	if err != nil {
		return err
	}
	defer release()
	c, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return mgr.Start(ctx) })
	eg.Go(func() error {
		// Stopped before it was done (Ctrl-C, or the manager failed and says why): no error.
		if err := bootstrapAndAnnounce(ctx, out, c, f, p); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	})
	return eg.Wait()
}

// newDevManager builds the manager with every controller and adds the apiserver to it,
// sharing its client and cache. Call the returned func once the manager has stopped.
func newDevManager(ctx context.Context, f *devFlags, cfg *rest.Config, db store.Store) (ctrl.Manager, func(), error) {
	f.mgr.egress.allowLoopback = true // as the dev dispatcher delivers to local receivers
	mgr, err := newManager(ctx, cfg, &f.mgr, db)
	if err != nil {
		return nil, nil, err
	}
	stopDeliveries, err := addDevDispatcher(ctx, f, mgr, db)
	if err != nil {
		return nil, nil, err
	}
	srvCfg, releaseAPI, err := f.api.config(ctx, ctrl.Log.WithName("apiserver"), serverDeps{
		client: mgr.GetClient(), reader: mgr.GetAPIReader(), cache: mgr.GetCache(), store: db, metrics: ctrlmetrics.Registry,
		events: mgr.GetEventRecorder("qual-apiserver"), kube: cfg,
	})
	if err != nil {
		stopDeliveries()
		return nil, nil, err
	}
	release := func() { releaseAPI(); stopDeliveries() }
	srv, err := apiserver.New(ctx, srvCfg)
	if err == nil {
		err = mgr.Add(srv)
	}
	if err == nil {
		f.agg, err = f.api.aggregated.server(ctrl.Log, "", srvCfg.CursorKey, db, mgr.GetCache())
	}
	if err == nil {
		err = mgr.Add(manager.RunnableFunc(f.agg.Run))
	}
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("add the apiserver: %w", err)
	}
	return mgr, release, nil
}

// addDevDispatcher runs webhook delivery in this process, on the manager's cache, once it has
// synced; the REST API's test sends and redeliveries go through the same service. Loopback
// receivers are allowed, as in api.md's local development.
func addDevDispatcher(ctx context.Context, f *devFlags, mgr ctrl.Manager, db store.Store) (func(), error) {
	f.api.delivery.egress.allowLoopback = true
	dir, err := kubeDirectory(ctx, mgr.GetCache(), mgr.GetAPIReader(), mgr.GetClient(), mgr.GetEventRecorder("qual-dispatcher"))
	if err != nil {
		return nil, err
	}
	svc, stop, err := f.api.delivery.service(ctx, ctrl.Log.WithName("dispatcher"), db, dir, dir, devDeliveryWorkers, ctrlmetrics.Registry)
	if err != nil {
		return nil, err
	}
	f.api.deliveries = svc
	err = mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return nil // stopping before the cache synced
		}
		svc.Start(ctx)
		<-ctx.Done()
		return nil
	}))
	if err != nil {
		stop()
		return nil, fmt.Errorf("add the dispatcher: %w", err)
	}
	return stop, nil
}

// devDeliveryWorkers is how many deliveries `qual dev` sends at once.
const devDeliveryWorkers = 8

// bootstrapAndAnnounce creates the dev team and keys, waits until the API takes the keys,
// then writes dev.env and tells the user how to use it.
func bootstrapAndAnnounce(ctx context.Context, out io.Writer, c client.Client, f *devFlags, p devPaths) error {
	log := ctrl.Log.WithName("dev")
	ns, err := ensureDevTeam(ctx, c)
	if err != nil {
		return err
	}
	apiKey, err := ensureKey(ctx, log, c, bootstrapKey(ns), p.prevKey)
	if err != nil {
		return err
	}
	adminKey, err := ensureKey(ctx, log, c, devAdminKey(), p.prevAdminKey)
	if err != nil {
		return err
	}
	url, err := localURL(f.api.addr)
	if err != nil {
		return err
	}
	if err := waitForAPI(ctx, url, apiKey, adminKey); err != nil {
		return err
	}
	if err := registerDevAggregated(ctx, c, f.agg, f.api.aggregated.certDir); err != nil {
		return err
	}
	session, err := devSessionToken(f.api.jwtSecret, f.api.jwtAudience, time.Now())
	if err != nil {
		return err
	}
	envFile := filepath.Join(p.dir, "dev.env")
	err = writeDevEnv(envFile, [][2]string{
		{"QUAL_URL", url}, {"QUAL_API_KEY", apiKey}, {"QUAL_ADMIN_KEY", adminKey}, {"QUAL_JWT_SECRET", f.api.jwtSecret},
		{"QUAL_DEV_USER_ID", devUserID}, {"QUAL_DEV_USER_EMAIL", devUserEmail}, {"QUAL_SESSION_TOKEN", session},
		{"KUBECONFIG", p.kubeconfig},
	})
	if err != nil {
		return err
	}
	printDevUsage(out, envFile, url, p.kubeconfig, &f.mgr)
	return nil
}

// devSessionLifetime is how long the dev user's session token in dev.env lasts; every start
// writes a new one.
const devSessionLifetime = 7 * 24 * time.Hour

// devSessionToken is a session token of the dev user, signed as a sign-in provider would sign
// it (HS256 with the dev secret), so that the routes only a session may use (POST /teams,
// members) can be tried without writing a JWT by hand.
func devSessionToken(secret, audience string, now time.Time) (string, error) {
	claims := jwt.MapClaims{"sub": devUserID, "email": devUserEmail, "iat": now.Unix(),
		"exp": now.Add(devSessionLifetime).Unix()}
	if audience != "" {
		claims["aud"] = audience
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("sign the dev session token: %w", err)
	}
	return token, nil
}

// ensureDevTeam creates the team "default" unless it exists (edits made since are kept) and
// waits until its namespace is in place.
func ensureDevTeam(ctx context.Context, c client.Client) (string, error) {
	now := metav1.Now()
	team := &qualv1alpha1.Team{
		ObjectMeta: metav1.ObjectMeta{Name: devTeam},
		Spec: qualv1alpha1.TeamSpec{
			DisplayName: "Default team", Plan: qualv1alpha1.PlanEnterprise,
			Members: []qualv1alpha1.TeamMember{{Email: devUserEmail, UserID: devUserID, Role: qualv1alpha1.RoleOwner, AddedAt: &now}},
		},
	}
	if err := c.Create(ctx, team); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create team %s: %w", devTeam, err)
	}
	var ns string
	err := poll(ctx, "team "+devTeam+" ready with its namespace", func() error {
		if err := c.Get(ctx, client.ObjectKey{Name: devTeam}, team); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(team.Status.Conditions, qualv1alpha1.ConditionReady) || team.Status.Namespace == "" {
			return fmt.Errorf("not ready yet: %v", team.Status.Conditions)
		}
		ns = team.Status.Namespace
		return c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
	})
	return ns, err
}

// bootstrapKey is the APIKey "bootstrap" in the dev team's namespace: every team scope.
func bootstrapKey(ns string) *qualv1alpha1.APIKey {
	return &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: devKeyName},
		Spec:       qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, DisplayName: "qual dev bootstrap key", Scopes: devScopes(), Owner: devUserEmail},
	}
}

// devAdminKey is the APIKey "dev-admin" in qual-system: a platform admin's, admin:read only.
func devAdminKey() *qualv1alpha1.APIKey {
	return &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Namespace: qualv1alpha1.SystemNamespace, Name: devAdminKeyName},
		Spec:       qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, DisplayName: "qual dev platform-admin key", Scopes: devAdminScopes(), Owner: devUserEmail},
	}
}

// ensureKey returns the plaintext of the secret key want (its namespace, name and spec
// without a credential): the previous run's, prev, when the object still matches it, else a
// new key (the old object is replaced, since a credential cannot change and its plaintext
// exists only in dev.env).
func ensureKey(ctx context.Context, log logr.Logger, c client.Client, want *qualv1alpha1.APIKey, prev string) (string, error) {
	name := client.ObjectKeyFromObject(want)
	existing := &qualv1alpha1.APIKey{}
	switch err := c.Get(ctx, name, existing); {
	case err == nil && keyMatches(existing, prev, want.Spec.Scopes):
		log.Info("reusing an API key", "key", name)
		return prev, nil
	case err == nil:
		log.Info("replacing an API key: its plaintext is not in dev.env, or its scopes changed", "key", name)
		if err := deleteAndWait(ctx, c, existing); err != nil {
			return "", err
		}
	case !apierrors.IsNotFound(err):
		return "", fmt.Errorf("get APIKey %s: %w", name, err)
	}
	minted, err := keys.Mint(want.Spec.Type)
	if err != nil {
		return "", err
	}
	key := want.DeepCopy()
	key.Spec.Credential = &qualv1alpha1.APIKeyCredential{HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour}
	if err := c.Create(ctx, key); err != nil {
		return "", fmt.Errorf("create APIKey %s: %w", name, err)
	}
	return minted.Plaintext, nil
}

// keyMatches reports whether key is live with the given scopes, and prev is its plaintext.
// A bootstrap key from an older run that held admin:read is replaced.
func keyMatches(key *qualv1alpha1.APIKey, prev string, scopes []qualv1alpha1.Scope) bool {
	return prev != "" && key.DeletionTimestamp == nil && !key.Spec.Revoked && slices.Equal(key.Spec.Scopes, scopes) &&
		key.Spec.Credential != nil && key.Spec.Credential.HashRef == keys.HashRef(prev)
}

func deleteAndWait(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", obj.GetName(), err)
	}
	return poll(ctx, obj.GetName()+" deleted", func() error {
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errors.Join(err, errors.New("still there"))
	})
}

// waitForAPI waits until the REST API authenticates both keys: the apiserver's cache has
// seen them.
func waitForAPI(ctx context.Context, url, apiKey, adminKey string) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	get := func(path, key string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return nil
	}
	return poll(ctx, "the REST API accepting the bootstrap and admin keys", func() error {
		if err := get("/api/v1/me", apiKey); err != nil {
			return err
		}
		return get("/api/v1/admin/stats", adminKey)
	})
}

// poll runs check until it succeeds, ctx ends or devStartTimeout passes.
func poll(ctx context.Context, what string, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, devStartTimeout)
	defer cancel()
	return qpoll.Until(ctx, 200*time.Millisecond, what, check)
}

// writeDevEnv writes KEY=value lines, shell-quoted where needed, readable by the owner only.
func writeDevEnv(path string, vars [][2]string) error {
	var b strings.Builder
	b.WriteString("# Written by `qual dev`. Use with: set -a; source " + path + "; set +a\n")
	for _, kv := range vars {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], shellQuote(kv[1]))
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write dev.env: %w", err)
	}
	// Rename so a reader never sees half a file.
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write dev.env: %w", err)
	}
	return nil
}

// readDevEnv reads the KEY=value lines writeDevEnv wrote; a missing file is empty.
func readDevEnv(path string) (map[string]string, error) {
	vars := map[string]string{}
	f, err := os.Open(path) //nolint:gosec // the state folder the user chose
	if errors.Is(err, os.ErrNotExist) {
		return vars, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read dev.env: %w", err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && !strings.HasPrefix(k, "#") {
			vars[k] = shellUnquote(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dev.env: %w", err)
	}
	return vars, nil
}

// shellQuote single-quotes s unless every character is safe bare in a shell.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:@%+=,", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellUnquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], `'\''`, "'")
	}
	return s
}

func printDevUsage(out io.Writer, envFile, url, kubeconfig string, mf *managerFlags) {
	_, _ = fmt.Fprintf(out, `
Qual is running. Ctrl-C stops it; run it again to resume with the same data.

  REST API    %[2]s/api/v1   (QUAL_API_KEY has every scope in the team "default";
              QUAL_ADMIN_KEY is a platform admin's, admin:read; QUAL_SESSION_TOKEN is
              %[4]s's session for 7 days, the team's owner and a platform admin)
  Kubernetes  %[3]s
  Metrics     http://%[5]s/metrics   Probes http://%[6]s/healthz

In another shell:
  set -a; source %[1]s; set +a
  curl -H "Authorization: Bearer $QUAL_API_KEY" $QUAL_URL/api/v1/campaigns
  curl -H "Authorization: Bearer $QUAL_API_KEY" -H "Content-Type: application/json" \
       -d '{"title": "Onboarding research", "questions": ["What almost stopped you signing up?"]}' \
       $QUAL_URL/api/v1/campaigns
  curl -H "Authorization: Bearer $QUAL_ADMIN_KEY" $QUAL_URL/api/v1/admin/stats
  kubectl --kubeconfig %[3]s get qual -A
  kubectl --kubeconfig %[3]s get interviews,findings -A   (the store, via data.qual.cx)
(kubectl is not bundled; any kubectl works with that kubeconfig.)
`, envFile, url, kubeconfig, devUserEmail, mf.metricsAddr, mf.probeAddr)
}

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// localURL is the http URL a local client reaches a listen address at: an empty or
// unspecified host (":8090", "0.0.0.0:8090") becomes the loopback address.
func localURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
