// Package dataapitest runs the aggregated API against a real control plane for tests and
// benchmarks: kube-apiserver and etcd with a front proxy, the Team controller, a SQLite
// store, and a dataapi server on localhost registered through the manifests of
// config/aggregated, reading namespaces and Campaigns from an informer cache as the
// qual-apiserver service account, with exactly the rights config/ grants it.
package dataapitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/controllers"
	"qual.cx/operator/dataapi"
	"qual.cx/operator/dataapi/frontproxy"
	"qual.cx/operator/internal/controlplane"
	qpoll "qual.cx/operator/internal/poll"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
)

// serviceAccount is the identity the aggregated server runs as in a cluster.
const serviceAccount = "system:serviceaccount:qual-system:qual-apiserver"

// Env is a running control plane with the aggregated API registered.
type Env struct {
	Env    *envtest.Environment
	Config *rest.Config  // a cluster admin
	Client client.Client // a cluster admin
	Store  store.Store
	// Port is the aggregated server's; Stopped reports whether StopServer stopped it.
	Port    int
	dir     string
	stopSrv context.CancelFunc
	srvDone chan error
	stop    []func()
}

// Start brings everything up; call Stop even after an error.
func Start(ctx context.Context) (*Env, error) {
	e := &Env{}
	dir, err := os.MkdirTemp("", "qual-dataapi-")
	if err != nil {
		return e, fmt.Errorf("dataapitest: folder: %w", err)
	}
	e.dir = dir
	e.stop = append(e.stop, func() { _ = os.RemoveAll(dir) })
	if err := e.startControlPlane(); err != nil {
		return e, err
	}
	db, closeStore, err := testenv.TempStore(ctx)
	if err != nil {
		return e, err
	}
	e.Store = db
	e.stop = append(e.stop, closeStore)
	if err := e.startControllers(ctx); err != nil {
		return e, err
	}
	if err := e.install(ctx); err != nil {
		return e, err
	}
	if err := e.StartServer(ctx); err != nil {
		return e, err
	}
	return e, e.WaitAvailable(ctx, true)
}

// Stop stops everything Start started, the last first.
func (e *Env) Stop() {
	e.StopServer()
	for i := len(e.stop) - 1; i >= 0; i-- {
		e.stop[i]()
	}
}

func (e *Env) startControlPlane() error {
	flags, err := frontproxy.Write(e.dir)
	if err != nil {
		return err
	}
	env, err := testenv.New()
	if err != nil {
		return err
	}
	args := env.ControlPlane.GetAPIServer().Configure()
	for k, v := range flags {
		args.Set(k, v)
	}
	e.Env = env
	e.stop = append(e.stop, func() { _ = env.Stop() })
	if e.Config, err = testenv.Start(env); err != nil {
		return err
	}
	e.Client, err = client.New(e.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		return fmt.Errorf("dataapitest: client: %w", err)
	}
	return nil
}

// startControllers runs the Team controller (with the others), which claims namespaces and
// writes the Roles the access tests rely on.
func (e *Env) startControllers(ctx context.Context) error {
	system := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: qualv1alpha1.SystemNamespace}}
	if err := e.Client.Create(ctx, system); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("dataapitest: namespace: %w", err)
	}
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme: e.Env.Scheme, Cache: controllers.CacheOptions("", nil),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fmt.Errorf("dataapitest: manager: %w", err)
	}
	if _, err := controllers.Setup(ctx, mgr, controllers.Options{}); err != nil {
		return fmt.Errorf("dataapitest: controllers: %w", err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(mctx) }()
	e.stop = append(e.stop, func() { cancel(); <-done })
	return nil
}

// install applies config/rbac and config/aggregated, but for the Service, which
// RegisterLocal replaces with one for localhost.
func (e *Env) install(ctx context.Context) error {
	root, err := controlplane.ModuleRoot()
	if err != nil {
		return err
	}
	for _, dir := range []string{"rbac", "aggregated"} {
		files, err := filepath.Glob(filepath.Join(root, "config", dir, "*.yaml"))
		if err != nil {
			return fmt.Errorf("dataapitest: %w", err)
		}
		for _, f := range files {
			if filepath.Base(f) == "kustomization.yaml" {
				continue
			}
			objs, err := readManifests(f)
			if err != nil {
				return err
			}
			for _, o := range objs {
				if o.GetKind() == "Service" {
					continue
				}
				if err := e.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
					return fmt.Errorf("dataapitest: %s %s from %s: %w", o.GetKind(), o.GetName(), f, err)
				}
			}
		}
	}
	return nil
}

// StartServer starts the aggregated server (again, after StopServer) on a new port and
// points the APIService at it.
func (e *Env) StartServer(ctx context.Context) error {
	kubeconfig, saConfig, err := e.serviceAccountConfig()
	if err != nil {
		return err
	}
	kube, err := cache.New(saConfig, cache.Options{Scheme: e.Env.Scheme, ByObject: apiserver.CacheOptions().ByObject})
	if err != nil {
		return fmt.Errorf("dataapitest: cache: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sctx, cancel := context.WithCancel(ctx)
	go func() { _ = kube.Start(sctx) }()
	if !kube.WaitForCacheSync(sctx) {
		cancel()
		return errors.New("dataapitest: cache did not sync")
	}
	// Campaigns are read from the cache too; ask for their informer before serving.
	if _, err := kube.GetInformer(sctx, &qualv1alpha1.Campaign{}); err != nil {
		cancel()
		return fmt.Errorf("dataapitest: campaign informer: %w", err)
	}
	certDir := filepath.Join(e.dir, "serving")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		cancel()
		return fmt.Errorf("dataapitest: %w", err)
	}
	srv, err := dataapi.New(dataapi.Config{
		Addr: "127.0.0.1:0", CertDir: certDir, AlternateDNS: []string{dataapi.ServiceName + "." + qualv1alpha1.SystemNamespace + ".svc"},
		Kubeconfig: kubeconfig, ContinueKey: key, Store: e.Store, Kube: kube, Logger: ctrl.Log.WithName("dataapi"),
	})
	if err != nil {
		cancel()
		return err
	}
	e.Port, e.stopSrv, e.srvDone = srv.Port(), cancel, make(chan error, 1)
	go func() { e.srvDone <- srv.Run(sctx) }()
	ca, err := dataapi.ServingCA(certDir)
	if err != nil {
		return err
	}
	return dataapi.RegisterLocal(ctx, e.Client, qualv1alpha1.SystemNamespace, e.Port, ca)
}

// StopServer stops the aggregated server, leaving the APIService pointing at nothing.
func (e *Env) StopServer() {
	if e.stopSrv == nil {
		return
	}
	e.stopSrv()
	if err := <-e.srvDone; err != nil {
		ctrl.Log.Error(err, "the aggregated server stopped with an error")
	}
	e.stopSrv = nil
}

// WaitAvailable waits until the APIService's Available condition is want.
func (e *Env) WaitAvailable(ctx context.Context, want bool) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	return qpoll.Until(ctx, 200*time.Millisecond, fmt.Sprintf("APIService Available=%v", want), func() error {
		ok, msg, err := dataapi.APIServiceAvailable(ctx, e.Client)
		if err != nil {
			return err
		}
		if ok != want {
			return fmt.Errorf("available=%v: %s", ok, msg)
		}
		return nil
	})
}

// User returns a config authenticating as name (with groups), through the kube-apiserver.
func (e *Env) User(name string, groups ...string) (*rest.Config, error) {
	u, err := e.Env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("dataapitest: user %s: %w", name, err)
	}
	return u.Config(), nil
}

// serviceAccountConfig writes a kubeconfig of the qual-apiserver service account's name.
func (e *Env) serviceAccountConfig() (string, *rest.Config, error) {
	u, err := e.Env.AddUser(envtest.User{Name: serviceAccount}, nil)
	if err != nil {
		return "", nil, fmt.Errorf("dataapitest: service account user: %w", err)
	}
	raw, err := u.KubeConfig()
	if err != nil {
		return "", nil, fmt.Errorf("dataapitest: kubeconfig: %w", err)
	}
	path := filepath.Join(e.dir, "qual-apiserver.kubeconfig")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return "", nil, fmt.Errorf("dataapitest: kubeconfig: %w", err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		return "", nil, fmt.Errorf("dataapitest: kubeconfig: %w", err)
	}
	return path, cfg, nil
}

func readManifests(path string) ([]*unstructured.Unstructured, error) {
	raw, err := os.ReadFile(path) //nolint:gosec // the repository's manifests
	if err != nil {
		return nil, fmt.Errorf("dataapitest: %w", err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("dataapitest: %s: %w", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}
