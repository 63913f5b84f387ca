package controllers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/campaigndata"
	"qual.cx/operator/internal/events"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
)

// The suite runs the real manager with all four controllers against one real control plane.
var (
	cfg         *rest.Config
	k8s         client.Client // direct to the API server, no cache
	mgrClient   client.Client // the manager's cached client
	reconcilers *controllers.Reconcilers
	campaignDB  = &faultyData{}
	webhookDB   = &swappableWebhookData{}
	outbox      = &faultyOutbox{}
	// conflicts counts the status patches refused on purpose for objects named conflict-*.
	conflicts atomic.Int32
	// flakes counts the status patches refused on purpose for objects named flaky-*.
	flakes atomic.Int32
	db     store.Store
	// managerLogs holds what the manager logged at V(1) and above.
	managerLogs = &capturedLogs{}
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.Level(zapcore.Level(zapLevel()))))
	os.Exit(testenv.Main(m, false, setup))
}

// setup starts the manager with every controller and a real SQLite store.
func setup(env *envtest.Environment, c *rest.Config) (func(), error) {
	cfg = c
	var err error
	if k8s, err = client.New(cfg, client.Options{Scheme: env.Scheme}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var closeStore func()
	if db, closeStore, err = testenv.TempStore(ctx); err != nil {
		cancel()
		return nil, err
	}
	stop := func() { cancel(); closeStore() }
	if err := startManager(ctx); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

func startManager(ctx context.Context) error {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 k8s.Scheme(),
		Cache:                  controllers.CacheOptions("", nil),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		NewClient:              newConflictingClient,
		Logger:                 logr.New(teeSink{ctrl.Log.GetSink(), captureSink{logs: managerLogs}}),
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	// The dispatcher runs in the operator's namespace, which an installation creates.
	system := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: qualv1alpha1.SystemNamespace}}
	if err := k8s.Create(ctx, system); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	reconcilers, err = controllers.Setup(ctx, mgr, controllers.Options{
		Dispatcher:   testDispatcher,
		Egress:       testEgress,
		CampaignData: campaignDB,
		WebhookData:  webhookDB,
		Events:       outbox,
		Credentials:  db,
	})
	if err != nil {
		return err
	}
	mgrClient = mgr.GetClient()
	campaignDB.Cleaner = campaigndata.Cleaner{Namespaces: mgr.GetClient(), Store: db}
	outbox.Outbox = events.Outbox{Namespaces: mgr.GetClient(), Store: db}
	webhookDB.use(mgr.GetClient(), db)
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return errors.New("cache did not sync")
	}
	return nil
}

// newConflictingClient refuses the first status patch of every object named conflict-*
// with a 409, as a concurrent writer would cause, to prove the write is retried, not lost;
// and, for an object named flaky-*, every other status patch that names no resourceVersion
// (a pass's closing status write), so that a pass's record of what it did is lost again and
// again while racing writers change the spec. Writes locked to the copy read are let through:
// they conflict for real when the object moved, and refusing them too would fail every pass
// that makes two writes, backing the controller off for longer than a test waits.
func newConflictingClient(config *rest.Config, options client.Options) (client.Client, error) {
	c, err := client.NewWithWatch(config, options)
	if err != nil {
		return nil, err
	}
	var refused, patches sync.Map
	conflict := func(obj client.Object) error {
		return apierrors.NewConflict(schema.GroupResource{Group: "qual.cx", Resource: "status"}, obj.GetName(), errors.New("injected"))
	}
	return interceptor.NewClient(c, interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			switch name := obj.GetName(); {
			case strings.HasPrefix(name, "conflict-"):
				if _, done := refused.LoadOrStore(string(obj.GetUID()), true); !done {
					conflicts.Add(1)
					return conflict(obj)
				}
			case strings.HasPrefix(name, "flaky-") && !locked(obj, patch):
				n, _ := patches.LoadOrStore(string(obj.GetUID()), &atomic.Int32{})
				if n.(*atomic.Int32).Add(1)%2 == 1 {
					flakes.Add(1)
					return conflict(obj)
				}
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}), nil
}

// locked reports whether a patch applies only to the resourceVersion it names.
func locked(obj client.Object, patch client.Patch) bool {
	data, err := patch.Data(obj)
	return err == nil && bytes.Contains(data, []byte(`"resourceVersion"`))
}

func zapLevel() int8 {
	if os.Getenv("QUAL_TEST_VERBOSE") != "" {
		return -2
	}
	return 2 // errors only: a passing run stays quiet
}

// faultyData is the real store cleanup, made to fail on demand so the finalizer's hold on a
// campaign whose data cannot be deleted can be observed.
type faultyData struct {
	campaigndata.Cleaner
	failing atomic.Bool
}

func (d *faultyData) DeleteCampaignData(ctx context.Context, c *qualv1alpha1.Campaign) error {
	if d.failing.Load() {
		return errors.New("store unavailable")
	}
	return d.Cleaner.DeleteCampaignData(ctx, c)
}

// faultyOutbox is the real outbox, made to fail on demand so a retried reconcile can be seen
// writing the events it missed, once.
type faultyOutbox struct {
	events.Outbox
	failing atomic.Bool
}

func (o *faultyOutbox) Emit(ctx context.Context, team string, evs ...store.NewEvent) error {
	if o.failing.Load() {
		return errors.New("store unavailable")
	}
	return o.Outbox.Emit(ctx, team, evs...)
}

// eventually waits for check to pass.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, what, check)
}

// conditionIs checks one condition of an object's status.
func conditionIs(conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) error {
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		return fmt.Errorf("no %s condition yet", typ)
	}
	if c.Status != status || (reason != "" && c.Reason != reason) {
		return fmt.Errorf("%s is %s/%s (%s), want %s/%s", typ, c.Status, c.Reason, c.Message, status, reason)
	}
	return nil
}

// reconcileIsSteady runs the reconciler once more on a settled object and fails if that
// wrote anything: the resourceVersion must not move.
func reconcileIsSteady(t *testing.T, r interface {
	Reconcile(context.Context, ctrl.Request) (ctrl.Result, error)
}, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	key := client.ObjectKeyFromObject(obj)
	// Wait until the cache has caught up with the API server, so the extra pass reads what
	// the controller last wrote.
	eventually(t, "cache catches up", func() error {
		fresh, cached := obj.DeepCopyObject().(client.Object), obj.DeepCopyObject().(client.Object)
		if err := k8s.Get(ctx, key, fresh); err != nil {
			return err
		}
		if err := mgrClient.Get(ctx, key, cached); err != nil {
			return err
		}
		if fresh.GetResourceVersion() != cached.GetResourceVersion() {
			return errors.New("cache is behind")
		}
		obj.SetResourceVersion(fresh.GetResourceVersion())
		return nil
	})
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatalf("extra reconcile: %v", err)
	}
	after := obj.DeepCopyObject().(client.Object)
	if err := k8s.Get(ctx, key, after); err != nil {
		t.Fatal(err)
	}
	if after.GetResourceVersion() != obj.GetResourceVersion() {
		t.Fatalf("a reconcile of a settled object wrote to it: resourceVersion %s -> %s", obj.GetResourceVersion(), after.GetResourceVersion())
	}
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1_000_000_000)
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8s.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func requestFor(obj client.Object) ctrl.Request {
	return ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
}

// clientAs is a client that impersonates user, as `kubectl --as` does: RBAC and admission
// policies see that user, with no groups beyond system:authenticated.
func clientAs(t *testing.T, user string) client.Client {
	t.Helper()
	c, err := testenv.ClientAs(cfg, user)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
