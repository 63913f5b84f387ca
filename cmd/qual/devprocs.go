package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"qual.cx/operator/config/crd"
	"qual.cx/operator/internal/devprocs"
)

// A `qual dev` started by a shim script (see devprocs.WriteShim) is not `qual dev` at all:
// it becomes etcd or kube-apiserver, set to stop when the qual dev that started it dies.
func init() { devprocs.RunShim() }

const (
	// devStopGrace is how long a control-plane process left by an earlier run gets to exit
	// after SIGTERM before SIGKILL.
	devStopGrace = 10 * time.Second
	// etcdStartTimeout and apiserverStartTimeout bound one start of each. envtest's
	// Environment would retry a failed start 5 times; a failure here is reported at once.
	etcdStartTimeout      = 30 * time.Second
	apiserverStartTimeout = time.Minute
)

// devState names the files of one `qual dev` state folder. Messages name them as the user
// spelled --dir (shown); the processes get absolute paths (dir).
type devState struct{ dir, shown string }

func (s devState) path(name string) string   { return filepath.Join(s.dir, name) }
func (s devState) pretty(name string) string { return filepath.Join(s.shown, name) }
func (s devState) etcdDir() string           { return s.path("etcd") }
func (s devState) certDir() string           { return s.path("kube-apiserver") }
func (s devState) records() string           { return s.path("processes.json") }

// lockDevState takes the state folder for this run: one `qual dev` per folder. The lock is
// the kernel's, so a run that was killed holds it no more.
func lockDevState(s devState) (*os.File, error) {
	lock, err := devprocs.Lock(s.path("dev.lock"))
	if errors.Is(err, devprocs.ErrLocked) {
		who := "another qual dev"
		if f, err := devprocs.Load(s.records()); err == nil && f.Owner.PID != 0 {
			who = fmt.Sprintf("another qual dev (pid %d)", f.Owner.PID)
		}
		return nil, fmt.Errorf("%s is running with the state folder %s: stop it (Ctrl-C in its terminal) or use another --dir", who, s.shown)
	}
	return lock, err
}

// checkListenAddr fails at once when the REST API cannot listen on addr, rather than after
// the control plane has started.
func checkListenAddr(addr string) error {
	l, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("the REST API address %s is in use: stop what listens there or use another --addr", addr)
	}
	if err != nil {
		return fmt.Errorf("the REST API cannot listen on --addr %s: %w", addr, err)
	}
	return l.Close()
}

// devControlPlane is the etcd and kube-apiserver of one run, recorded in processes.json
// while they run.
type devControlPlane struct {
	cp     *envtest.ControlPlane
	cfg    *rest.Config
	rec    *devprocs.Recorder
	logs   []*os.File
	log    logr.Logger
	closed bool
}

// startControlPlane starts etcd, with its data in the state folder so objects survive
// restarts, and kube-apiserver, and installs the embedded CRDs; installAdmission follows.
// First it stops what a run that died without cleaning up left running, and fails with one
// line saying what to do when a process it did not start uses the state folder.
func startControlPlane(log logr.Logger, s devState, tie bool) (*devControlPlane, error) {
	assets, err := controlPlaneAssets()
	if err != nil {
		return nil, err
	}
	etcdBin, apiserverBin, err := controlPlaneBinaries(assets)
	if err != nil {
		return nil, err
	}
	crds, err := crd.CRDs()
	if err != nil {
		return nil, err
	}
	if err := stopLeftovers(log, s); err != nil {
		return nil, err
	}
	if err := checkForeign(s); err != nil {
		return nil, err
	}
	// envtest writes fresh certificates at each start, and only into an empty folder.
	if err := os.RemoveAll(s.certDir()); err != nil {
		return nil, fmt.Errorf("clear %s: %w", s.pretty("kube-apiserver"), err)
	}
	if err := os.MkdirAll(s.certDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.pretty("kube-apiserver"), err)
	}
	etcdPath, apiserverPath := etcdBin, apiserverBin
	if tie && devprocs.ShimSupported {
		if etcdPath, apiserverPath, err = writeShims(s, etcdBin, apiserverBin); err != nil {
			return nil, err
		}
	}

	d := &devControlPlane{log: log}
	etcdLog, err := d.openLog(s, "etcd.log")
	if err != nil {
		return nil, err
	}
	apiserverLog, err := d.openLog(s, "kube-apiserver.log")
	if err != nil {
		d.closeLogs()
		return nil, err
	}
	// A child is ours once it runs the real binary with a command line naming this state
	// folder: not the shell or qual stage of a shim, nor envtest's `etcd --help`.
	d.rec, err = devprocs.NewRecorder(s.records(), func(p devprocs.Proc) (string, bool) {
		switch {
		case p.Exe == etcdBin && devprocs.NamesPath(p.Args, s.etcdDir()):
			return "etcd", true
		case p.Exe == apiserverBin && devprocs.NamesPath(p.Args, s.certDir()):
			return "kube-apiserver", true
		}
		return "", false
	})
	if err != nil {
		d.closeLogs()
		return nil, err
	}
	d.cp = &envtest.ControlPlane{
		Etcd: &envtest.Etcd{
			Path: etcdPath, DataDir: s.etcdDir(), Out: etcdLog, Err: etcdLog,
			StartTimeout: startTimeout(etcdStartTimeout), StopTimeout: 20 * time.Second,
		},
		APIServer: &envtest.APIServer{
			Path: apiserverPath, CertDir: s.certDir(), Out: apiserverLog, Err: apiserverLog,
			StartTimeout: startTimeout(apiserverStartTimeout), StopTimeout: 20 * time.Second,
		},
	}
	if err := withAggregation(d.cp.APIServer, s.certDir()); err != nil {
		d.closeLogs()
		return nil, err
	}
	stopWatch := d.rec.Watch(100 * time.Millisecond)
	err = d.start(s)
	if watchErr := stopWatch(); watchErr != nil {
		log.Error(watchErr, "record the control-plane processes", "file", s.records())
	}
	if err == nil {
		err = installCRDs(d.cfg, crds)
	}
	if err != nil {
		if stopErr := d.Stop(); stopErr != nil {
			log.Error(stopErr, "stop the control plane after a failed start")
		}
		return nil, err
	}
	return d, nil
}

// controlPlaneBinaries returns the real paths of etcd and kube-apiserver in assets: what
// /proc/PID/exe of their processes shows.
func controlPlaneBinaries(assets string) (etcd, apiserver string, err error) {
	for _, b := range []struct {
		name string
		to   *string
	}{{"etcd", &etcd}, {"kube-apiserver", &apiserver}} {
		p, err := filepath.EvalSymlinks(filepath.Join(assets, b.name))
		if err != nil {
			return "", "", fmt.Errorf("%s not found in %s: run hack/control-plane.sh or set KUBEBUILDER_ASSETS to a folder holding etcd and kube-apiserver", b.name, assets)
		}
		if *b.to, err = filepath.Abs(p); err != nil {
			return "", "", err
		}
	}
	return etcd, apiserver, nil
}

// startTimeout is KUBEBUILDER_CONTROLPLANE_START_TIMEOUT when set (as envtest reads it), else def.
func startTimeout(def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return def
}

// writeShims writes <dir>/bin/etcd and <dir>/bin/kube-apiserver, which run the binaries
// through this program so that they stop when this process dies (devprocs.WriteShim):
// kube-apiserver with SIGKILL, since its clean shutdown waits 20 s and more for the etcd that
// is going too, and holds nothing to lose; etcd with SIGTERM, which it handles in a moment
// once kube-apiserver's connections are gone.
func writeShims(s devState, etcdBin, apiserverBin string) (etcd, apiserver string, err error) {
	self, err := os.Executable()
	if err != nil {
		return "", "", fmt.Errorf("find this program: %w", err)
	}
	if err := os.MkdirAll(s.path("bin"), 0o700); err != nil {
		return "", "", fmt.Errorf("create %s: %w", s.pretty("bin"), err)
	}
	etcd, apiserver = filepath.Join(s.path("bin"), "etcd"), filepath.Join(s.path("bin"), "kube-apiserver")
	if err := devprocs.WriteShim(etcd, self, etcdBin, syscall.SIGTERM); err != nil {
		return "", "", err
	}
	if err := devprocs.WriteShim(apiserver, self, apiserverBin, syscall.SIGKILL); err != nil {
		return "", "", err
	}
	return etcd, apiserver, nil
}

// start starts etcd, then kube-apiserver, once each, and provisions the admin user.
func (d *devControlPlane) start(s devState) error {
	if err := d.cp.Etcd.Start(); err != nil {
		return startFailure("etcd", err, s.pretty("etcd.log"), d.logs[0].Name())
	}
	d.cp.APIServer.EtcdURL = d.cp.Etcd.URL
	if err := d.cp.APIServer.Start(); err != nil {
		return startFailure("kube-apiserver", err, s.pretty("kube-apiserver.log"), d.logs[1].Name())
	}
	// As envtest's Environment: fast clients, since this API server serves one developer.
	admin, err := d.cp.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, &rest.Config{QPS: 1000, Burst: 2000})
	if err != nil {
		return fmt.Errorf("provision the admin user of kube-apiserver: %w", err)
	}
	d.cfg = admin.Config()
	return nil
}

// installCRDs waits for the namespace "default", which kube-apiserver creates shortly after
// it is healthy (the admission policies are probed there), and installs the CRDs.
func installCRDs(cfg *rest.Config, crds []*apiextensionsv1.CustomResourceDefinition) error {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	ctx := context.Background()
	err = poll(ctx, "the namespace default", func() error {
		return c.Get(ctx, client.ObjectKey{Name: corev1.NamespaceDefault}, &corev1.Namespace{})
	})
	if err != nil {
		return err
	}
	if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{CRDs: crds}); err != nil {
		return fmt.Errorf("install the CRDs: %w", err)
	}
	return nil
}

func (d *devControlPlane) openLog(s devState, name string) (*os.File, error) {
	f, err := os.OpenFile(s.path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) //nolint:gosec // the state folder
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", s.pretty(name), err)
	}
	d.logs = append(d.logs, f)
	return f, nil
}

func (d *devControlPlane) closeLogs() {
	for _, f := range d.logs {
		_ = f.Close()
	}
}

// Stop stops kube-apiserver and etcd and, once both are gone, removes their records.
func (d *devControlPlane) Stop() error {
	if d.closed {
		return nil
	}
	d.closed = true
	err := d.cp.Stop()
	d.closeLogs()
	if err != nil {
		return err // the records stay: the next run stops what is left
	}
	return d.rec.Remove()
}

// stopLeftovers stops the processes an earlier run recorded that still run and are provably
// the ones it started; a PID now someone else's is left alone.
func stopLeftovers(log logr.Logger, s devState) error {
	f, err := devprocs.Load(s.records())
	if err != nil {
		return fmt.Errorf("%w: delete it if no qual dev runs on %s", err, s.shown)
	}
	// kube-apiserver first, as a clean stop does: it writes to etcd until it goes.
	for i := len(f.Processes) - 1; i >= 0; i-- {
		rec := f.Processes[i]
		switch _, st, why := rec.Check(s.dir); st {
		case devprocs.Other:
			log.Info("leaving alone a process an earlier qual dev recorded: it is not that process", "name", rec.Name, "pid", rec.PID, "why", why)
		case devprocs.Same:
			log.Info("stopping what an earlier qual dev left running", "name", rec.Name, "pid", rec.PID, "qualDevPID", f.Owner.PID)
			if err := devprocs.Stop(rec, s.dir, devStopGrace); err != nil {
				return fmt.Errorf("cannot stop %s, left running by an earlier qual dev: %w; stop it yourself (kill -9 %d) and run qual dev again", rec, err, rec.PID)
			}
		case devprocs.Gone:
		}
	}
	if err := os.Remove(s.records()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", s.pretty("processes.json"), err)
	}
	return nil
}

// checkForeign fails when a process this command did not start uses the state folder's
// etcd data or kube-apiserver certificates: an etcd would wait forever for the lock the
// other holds on the database, and envtest would report only a timeout, five times over.
func checkForeign(s devState) error {
	for _, u := range []struct{ flag, path, shown, what string }{
		{"data-dir", s.etcdDir(), s.pretty("etcd"), "holds"},
		{"cert-dir", s.certDir(), s.pretty("kube-apiserver"), "uses"},
	} {
		procs, err := devprocs.Using(u.flag, u.path)
		if err != nil {
			return err
		}
		if len(procs) > 0 {
			p := procs[0]
			return fmt.Errorf("%s %s (pid %d) not started by qual dev %s %s: stop it or use another --dir",
				article(p.Name()), p.Name(), p.PID, u.what, u.shown)
		}
	}
	db := filepath.Join(s.etcdDir(), "member", "snap", "db")
	held, err := devprocs.Held(db)
	if err != nil {
		return err
	}
	if held {
		return fmt.Errorf("a process not started by qual dev (an etcd in another container or of another user?) holds the lock on %s: stop it or use another --dir",
			filepath.Join(s.pretty("etcd"), "member", "snap", "db"))
	}
	return nil
}

func article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

// startFailure says in one line why a control-plane process did not start: the last error
// it logged when there is one, and where its log is.
func startFailure(name string, err error, shownLog, logPath string) error {
	if why := lastLoggedError(logPath); why != "" {
		return fmt.Errorf("%s did not start: %s (see %s)", name, why, shownLog)
	}
	return fmt.Errorf("%s did not start: %w (see %s)", name, err, shownLog)
}

// klogError matches the header of a klog error or fatal line: E0102 15:04:05.000000 ...
var klogError = regexp.MustCompile(`^[EF]\d{4} [\d:.]+\s+\d+ [^\]]+\] (.*)$`)

// lastLoggedError is the last error line of an etcd (JSON lines) or kube-apiserver (klog)
// log, shortened to one line, or "".
func lastLoggedError(path string) string {
	f, err := os.Open(path) //nolint:gosec // the state folder
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	last := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		var entry struct{ Level, Msg, Error string }
		switch {
		case strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &entry) == nil:
			if entry.Level == "error" || entry.Level == "fatal" || entry.Level == "panic" {
				last = strings.TrimSuffix(entry.Msg+": "+entry.Error, ": ")
			}
		case klogError.MatchString(line):
			last = klogError.FindStringSubmatch(line)[1]
		}
	}
	last = strings.Join(strings.Fields(last), " ")
	if len(last) > 300 {
		last = last[:300] + "..."
	}
	return last
}
