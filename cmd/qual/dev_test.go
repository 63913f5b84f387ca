package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/devprocs"
	qualscheme "qual.cx/operator/internal/scheme"
)

// devChildArgs, when set, makes the test binary run `qual` with these newline-separated
// arguments instead of the tests. controller-runtime allows a controller name once per
// process, so each `qual dev` run (and `qual manager` in its own test) needs its own process;
// it also lets the test stop it with a real SIGINT, as Ctrl-C does.
const devChildArgs = "QUAL_DEV_TEST_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(devChildArgs); args != "" {
		routeKlog()
		root := newRootCommand()
		root.SetArgs(strings.Split(args, "\n"))
		if err := root.ExecuteContext(ctrl.SetupSignalHandler()); err != nil {
			fmt.Fprintln(os.Stderr, "qual:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestDevRunsBootstrapsAndResumes runs `qual dev` twice on one state folder: the first run
// bootstraps the team and the key; the second resumes with the same key and session secret.
func TestDevRunsBootstrapsAndResumes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".qual")
	addr := freeAddr(t)

	first := startDev(t, dir, addr)
	vars := first.vars
	if want := "http://" + addr; vars["QUAL_URL"] != want {
		t.Errorf("QUAL_URL = %q, want %q", vars["QUAL_URL"], want)
	}
	if info, err := os.Stat(filepath.Join(dir, "dev.env")); err != nil {
		t.Error(err)
	} else if info.Mode().Perm() != 0o600 {
		t.Errorf("dev.env has mode %v, want 0600", info.Mode().Perm())
	}
	token := sessionToken(t, vars)
	checkAPI(t, vars, token)
	checkAPI(t, vars, vars["QUAL_SESSION_TOKEN"]) // the one dev.env hands out works the same
	checkCluster(t, vars["KUBECONFIG"])
	first.stop(t, os.Interrupt) // Ctrl-C

	second := startDev(t, dir, addr)
	checkSameSecrets(t, vars, second.vars)
	checkAPI(t, second.vars, token)
	checkReadyFollowsKube(t, second)
	second.stop(t, syscall.SIGHUP) // the terminal was closed
}

// checkReadyFollowsKube freezes the kube-apiserver (it takes connections and answers nothing,
// the outage a probe without a deadline never sees) and expects /ready to say 503 within a few
// seconds, then 200 again once it answers.
func checkReadyFollowsKube(t *testing.T, p *devProcess) {
	t.Helper()
	i := slices.IndexFunc(p.records, func(r devprocs.Record) bool { return r.Name == "kube-apiserver" })
	if i < 0 {
		t.Fatalf("no kube-apiserver among %v", p.records)
	}
	pid := p.records[i].PID
	readyIs := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(p.vars["QUAL_URL"] + "/api/v1/ready")
			if err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == want {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("/ready is not %d 10 s after the kube-apiserver changed (last: %v %v)", want, resp, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	readyIs(http.StatusServiceUnavailable)
	// Once the outage is known, a write is refused at once, not after the Kubernetes
	// client's timeouts (10 s and more) against a server that never answers.
	time.Sleep(2500 * time.Millisecond)
	status, got, err := postCampaign(&http.Client{Timeout: 8 * time.Second}, p.vars, "Written while frozen")
	if err != nil || status != http.StatusServiceUnavailable {
		t.Errorf("a write while the kube-apiserver is frozen: %d %s %v", status, got, err)
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	readyIs(http.StatusOK)
}

// TestDevRestartsAfterSIGKILL is the crash a user meets: `qual dev` killed with SIGKILL (a
// crash, the OOM killer). Run 1 leaves its control plane running, as it did before the
// parent-death signal (--tie-control-plane=false); run 2 on the same folder stops those
// processes (and only those: a recorded PID that is now another process is left alone),
// comes up in bounded time with the same data, and is itself SIGKILLed, which now takes its
// control plane down; run 3 comes up again, refuses a second qual dev on its folder, and
// stops on SIGTERM.
func TestDevRestartsAfterSIGKILL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".qual")
	addr := freeAddr(t)

	first := startDev(t, dir, addr, "--tie-control-plane=false")
	title := "Survives SIGKILL " + strconv.FormatInt(time.Now().UnixNano(), 36)
	createCampaign(t, first.vars, title)
	first.kill9(t)
	time.Sleep(time.Second) // what the parent-death signal would do, it would have done
	for _, r := range first.records {
		if _, st, why := r.Check(dir); st != devprocs.Same {
			t.Fatalf("with --tie-control-plane=false, %s did not outlive qual dev: %v %s", r, st, why)
		}
	}

	// A recorded PID that is not the recorded process (here a sleep with another start time
	// and executable, as when the PID was reused) must never be signalled.
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	sleeperExited := make(chan error, 1)
	go func() { sleeperExited <- sleeper.Wait() }()
	t.Cleanup(func() { _ = sleeper.Process.Kill() })
	appendRecord(t, dir, devprocs.Record{Name: "etcd", PID: sleeper.Process.Pid, StartTime: 1,
		Exe: first.records[0].Exe, Args: []string{first.records[0].Exe, "--data-dir=" + filepath.Join(dir, "etcd")}})

	began := time.Now()
	second := startDev(t, dir, addr)
	t.Logf("restart after SIGKILL, stopping the control plane left running: up in %s", time.Since(began).Round(100*time.Millisecond))
	for _, r := range first.records {
		if _, st, _ := r.Check(dir); st == devprocs.Same {
			t.Errorf("%s left by the killed run is still running", r)
		}
	}
	select {
	case err := <-sleeperExited:
		t.Errorf("the process under a mismatching record was signalled: %v", err)
	default:
	}
	checkSameSecrets(t, first.vars, second.vars)
	checkAPI(t, second.vars, sessionToken(t, second.vars))
	listCampaigns(t, second.vars, title)

	second.kill9(t)
	waitGone(t, dir, second.records, 10*time.Second)

	began = time.Now()
	third := startDev(t, dir, addr)
	t.Logf("restart after SIGKILL with the control plane already gone: up in %s", time.Since(began).Round(100*time.Millisecond))
	checkSameSecrets(t, first.vars, third.vars)
	listCampaigns(t, third.vars, title)

	out, took := devFails(t, dir, freeAddr(t))
	want := fmt.Sprintf("qual: another qual dev (pid %d) is running with the state folder %s", third.cmd.Process.Pid, dir)
	if !strings.HasPrefix(out, want) || took > 5*time.Second {
		t.Errorf("a second qual dev on the folder said, after %s:\n%s\nwant one line starting %q", took, out, want)
	}
	third.stop(t, syscall.SIGTERM)
}

// TestDevRefusesStateItDoesNotOwn: an etcd that qual dev did not start on the state folder,
// seen in /proc or only by the lock it holds on etcd's database, stops `qual dev` within
// seconds with one line that says what to do; that etcd is not touched.
func TestDevRefusesStateItDoesNotOwn(t *testing.T) {
	assets, err := controlPlaneAssets()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("an etcd on the data folder", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), ".qual")
		client := "http://" + freeAddr(t)
		etcd := exec.Command(filepath.Join(assets, "etcd"), "--data-dir", filepath.Join(dir, "etcd"), //nolint:gosec // the test's own etcd
			"--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", "http://"+freeAddr(t))
		if err := etcd.Start(); err != nil {
			t.Fatal(err)
		}
		etcdExited := make(chan struct{})
		go func() {
			_ = etcd.Wait()
			close(etcdExited)
		}()
		t.Cleanup(func() {
			_ = etcd.Process.Kill()
			<-etcdExited
		})
		db := filepath.Join(dir, "etcd", "member", "snap", "db")
		deadline := time.Now().Add(20 * time.Second)
		for held, _ := devprocs.Held(db); !held; held, _ = devprocs.Held(db) {
			if time.Now().After(deadline) {
				t.Fatal("the test's etcd did not open its database in 20 s")
			}
			time.Sleep(50 * time.Millisecond)
		}

		out, took := devFails(t, dir, freeAddr(t))
		want := fmt.Sprintf("qual: an etcd (pid %d) not started by qual dev holds %s: stop it or use another --dir\n", etcd.Process.Pid, filepath.Join(dir, "etcd"))
		if out != want || took > 5*time.Second {
			t.Errorf("qual dev said, after %s:\n%s\nwant:\n%s", took, out, want)
		}
		select {
		case <-etcdExited:
			t.Errorf("the etcd qual dev did not start has exited: %v", etcd.ProcessState)
		default:
		}
	})
	t.Run("a lock on etcd's database", func(t *testing.T) {
		// An etcd /proc does not show (another container): only its lock is visible.
		dir := filepath.Join(t.TempDir(), ".qual")
		db := filepath.Join(dir, "etcd", "member", "snap", "db")
		if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
			t.Fatal(err)
		}
		lock, err := devprocs.Lock(db)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = lock.Close() }()
		out, took := devFails(t, dir, freeAddr(t))
		want := fmt.Sprintf("holds the lock on %s: stop it or use another --dir\n", db)
		if !strings.HasPrefix(out, "qual: ") || !strings.HasSuffix(out, want) || strings.Count(out, "\n") != 1 || took > 5*time.Second {
			t.Errorf("qual dev said, after %s:\n%s\nwant one line ending %q", took, out, want)
		}
	})
}

// devFails runs `qual dev` expecting it to fail at once, and returns what it wrote to stderr
// and how long it took.
func devFails(t *testing.T, dir, addr string) (string, time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0]) //nolint:gosec // this test binary, re-run as `qual`
	cmd.Env = append(os.Environ(), devChildArgs+"="+strings.Join([]string{"dev", "--dir", dir, "--addr", addr}, "\n"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("qual dev exited 0; stderr:\n%s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("qual dev had not failed after 30 s (killed: %v); stderr:\n%s", <-done, lastChars(stderr.String()))
	}
	return stderr.String(), time.Since(began)
}

// lastChars is the end of a long output, for failure messages.
func lastChars(s string) string { return s[max(0, len(s)-4000):] }

// appendRecord adds a record to processes.json, as if qual dev had written it.
func appendRecord(t *testing.T, dir string, r devprocs.Record) {
	t.Helper()
	path := filepath.Join(dir, "processes.json")
	f, err := devprocs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Processes = append(f.Processes, r)
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
}

// waitGone waits until none of the recorded processes runs any more.
func waitGone(t *testing.T, dir string, records []devprocs.Record, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, r := range records {
		for {
			_, st, _ := r.Check(dir)
			if st != devprocs.Same {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still runs %s after qual dev was killed", r, timeout)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func createCampaign(t *testing.T, vars map[string]string, title string) {
	t.Helper()
	status, got, err := postCampaign(http.DefaultClient, vars, title)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusCreated {
		t.Fatalf("POST /campaigns: %d %s", status, got)
	}
}

// postCampaign creates a campaign with the dev key and says how the API answered.
func postCampaign(c *http.Client, vars map[string]string, title string) (int, []byte, error) {
	body := fmt.Sprintf(`{"title": %q, "questions": ["What almost stopped you signing up?"]}`, title)
	req, err := http.NewRequest(http.MethodPost, vars["QUAL_URL"]+"/api/v1/campaigns", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+vars["QUAL_API_KEY"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	got, err := io.ReadAll(resp.Body)
	return resp.StatusCode, got, err
}

// listCampaigns asserts the campaign titled title is listed, waiting for the API's cache.
func listCampaigns(t *testing.T, vars map[string]string, title string) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = getExpect(vars["QUAL_URL"]+"/api/v1/campaigns", vars["QUAL_API_KEY"], title); err == nil {
			return
		}
	}
	t.Errorf("the campaign created before the kill: %v", err)
}

// checkSameSecrets asserts a later run kept the keys and the session secret of dev.env.
func checkSameSecrets(t *testing.T, before, after map[string]string) {
	t.Helper()
	for _, k := range []string{"QUAL_API_KEY", "QUAL_ADMIN_KEY", "QUAL_JWT_SECRET"} {
		if before[k] == "" || after[k] != before[k] {
			t.Errorf("%s: %q before, %q after; want one unchanged value", k, before[k], after[k])
		}
	}
}

// checkAPI asserts the API is up, the bootstrap key works in the team, the admin key is a
// platform admin's, and a session token for the dev user works and is a platform admin's.
func checkAPI(t *testing.T, vars map[string]string, token string) {
	t.Helper()
	api := vars["QUAL_URL"] + "/api/v1"
	for _, c := range []struct{ path, bearer, want string }{
		{"/health", "", `"ok"`},
		{"/me", vars["QUAL_API_KEY"], `"auth_type":"api_key"`},
		{"/campaigns", vars["QUAL_API_KEY"], `"data"`},
		{"/me", token, `"user_id":"` + devUserID + `"`},
		{"/admin/stats", token, `"teams":1`},
		{"/admin/stats", vars["QUAL_ADMIN_KEY"], `"teams":1`},
	} {
		if err := getExpect(api+c.path, c.bearer, c.want); err != nil {
			t.Error(err)
		}
	}
	// The bootstrap key is a team's: no platform-admin power.
	if err := getExpect(api+"/admin/stats", vars["QUAL_API_KEY"], `"teams"`); err == nil || !strings.Contains(err.Error(), ": 403 ") {
		t.Errorf("the bootstrap key on /admin/stats: want 403, got %v", err)
	}
}

// checkCluster asserts, through the written kubeconfig, that the team is ready in its namespace.
func checkCluster(t *testing.T, kubeconfig string) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := qualscheme.New()
	if err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	team := &qualv1alpha1.Team{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "default"}, team); err != nil {
		t.Fatal(err)
	}
	if !meta.IsStatusConditionTrue(team.Status.Conditions, qualv1alpha1.ConditionReady) || team.Spec.Plan != qualv1alpha1.PlanEnterprise {
		t.Errorf("team default: plan %q, conditions %+v", team.Spec.Plan, team.Status.Conditions)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "team-default"}, &corev1.Namespace{}); err != nil {
		t.Errorf("namespace team-default: %v", err)
	}
	// The operator's namespace exists, the bootstrap key holds no platform-admin scope, and
	// the admission policies are in force: even a cluster admin cannot put one in a team.
	if err := k8s.Get(ctx, client.ObjectKey{Name: qualv1alpha1.SystemNamespace}, &corev1.Namespace{}); err != nil {
		t.Errorf("namespace %s: %v", qualv1alpha1.SystemNamespace, err)
	}
	key := &qualv1alpha1.APIKey{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "team-default", Name: devKeyName}, key); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(key.Spec.Scopes, "admin:read") || key.Annotations[qualv1alpha1.AnnotationCreatedBy] == "" {
		t.Errorf("bootstrap key: scopes %v, annotations %v", key.Spec.Scopes, key.Annotations)
	}
	devAdmin := &qualv1alpha1.APIKey{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: qualv1alpha1.SystemNamespace, Name: devAdminKeyName}, devAdmin); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(devAdmin.Spec.Scopes, []qualv1alpha1.Scope{"admin:read"}) || devAdmin.Spec.Type != qualv1alpha1.KeySecret {
		t.Errorf("dev admin key: type %s, scopes %v; want a secret key with admin:read alone", devAdmin.Spec.Type, devAdmin.Spec.Scopes)
	}
	admin := &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: "team-default", Name: "platform"},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeyScoped, Scopes: []qualv1alpha1.Scope{"admin:read"}}}
	if err := k8s.Create(ctx, admin, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "qual-apikey-admin-scope") {
		t.Errorf("an admin:read key in a team namespace: want the policy's refusal, got %v", err)
	}
}

// devProcess is one `qual dev` run in a child process.
type devProcess struct {
	dir          string
	cmd          *exec.Cmd
	exited       chan error
	controlPlane []int             // the etcd and kube-apiserver it started
	records      []devprocs.Record // and their records in processes.json
	vars         map[string]string
}

// startDev runs `qual dev` and returns once it has announced itself, with dev.env parsed.
func startDev(t *testing.T, dir, addr string, extra ...string) *devProcess {
	t.Helper()
	logs, err := os.CreateTemp(t.TempDir(), "qual-dev-*.log")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"dev", "--dir", dir, "--addr", addr}, extra...)
	cmd := exec.Command(os.Args[0]) //nolint:gosec // this test binary, re-run as `qual`
	cmd.Env = append(os.Environ(), devChildArgs+"="+strings.Join(args, "\n"))
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devProcess{dir: dir, cmd: cmd, exited: make(chan error, 1)}
	announced := make(chan struct{})
	go p.readStdout(stdout, announced)
	t.Cleanup(func() { p.kill(t, logs.Name()) })
	select {
	case <-announced:
	case err := <-p.exited:
		p.exited <- err // for kill in the cleanup
		t.Fatalf("qual dev exited before it was ready: %v\n%s", err, tail(logs.Name()))
	case <-time.After(45 * time.Second):
		t.Fatalf("qual dev was not ready in 45 s\n%s", tail(logs.Name()))
	}
	p.controlPlane = childPIDs(t, cmd.Process.Pid)
	if p.vars, err = readDevEnv(filepath.Join(dir, "dev.env")); err != nil {
		t.Fatal(err)
	}
	p.records = checkRecords(t, dir, cmd.Process.Pid, p.controlPlane)
	return p
}

// checkRecords asserts processes.json names the running qual dev and exactly its children,
// each provably the process recorded, and returns the records.
func checkRecords(t *testing.T, dir string, owner int, children []int) []devprocs.Record {
	t.Helper()
	f, err := devprocs.Load(filepath.Join(dir, "processes.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Owner.PID != owner {
		t.Errorf("processes.json: owner %d, want %d", f.Owner.PID, owner)
	}
	var pids []int
	for _, r := range f.Processes {
		pids = append(pids, r.PID)
		if _, st, why := r.Check(dir); st != devprocs.Same {
			t.Errorf("processes.json: %s does not check out: %v %s", r, st, why)
		}
	}
	slices.Sort(pids)
	if !slices.Equal(pids, slices.Sorted(slices.Values(children))) {
		t.Errorf("processes.json records %v, want the children %v", f.Processes, children)
	}
	return f.Processes
}

// readStdout closes announced at the banner, then drains stdout until the process exits.
func (p *devProcess) readStdout(stdout io.Reader, announced chan<- struct{}) {
	sc := bufio.NewScanner(stdout)
	seen := false
	for sc.Scan() {
		if !seen && strings.HasPrefix(sc.Text(), "Qual is running.") {
			seen = true
			close(announced)
		}
	}
	p.exited <- p.cmd.Wait()
}

// stop sends sig (SIGINT is Ctrl-C) and expects a clean exit that takes the control plane
// along and leaves no records.
func (p *devProcess) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err // for kill in the cleanup
		if err != nil {
			t.Errorf("qual dev exited with %v after %v", err, sig)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("qual dev did not stop within 20 s of %v", sig)
	}
	for _, pid := range p.controlPlane {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("control-plane process %d is still running after qual dev stopped", pid)
		}
	}
	if _, err := os.Stat(filepath.Join(p.dir, "processes.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("processes.json after a clean stop: %v; want it removed", err)
	}
}

// kill9 kills qual dev with SIGKILL, as a crash or the OOM killer does.
func (p *devProcess) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-p.exited
	p.exited <- err
}

// kill ends whatever a failed test left running and logs the end of its output.
func (p *devProcess) kill(t *testing.T, logs string) {
	defer killRecorded(p.dir, p.records) // what a SIGKILL with --tie-control-plane=false left
	select {
	case err := <-p.exited:
		p.exited <- err
		return
	default:
	}
	t.Logf("killing qual dev and its control plane; its last logs:\n%s", tail(logs))
	_ = p.cmd.Process.Kill()
	if err := <-p.exited; err != nil {
		t.Logf("qual dev: %v", err)
	}
	p.exited <- nil
}

// killRecorded SIGKILLs the recorded processes still provably running as recorded.
func killRecorded(dir string, records []devprocs.Record) {
	for _, r := range records {
		if _, st, _ := r.Check(dir); st == devprocs.Same {
			_ = syscall.Kill(r.PID, syscall.SIGKILL)
		}
	}
}

// childPIDs lists the processes whose parent is pid (etcd and kube-apiserver for `qual dev`).
func childPIDs(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var children []int
	for _, path := range stats {
		data, err := os.ReadFile(path) //nolint:gosec // /proc
		if err != nil {
			continue // the process has exited
		}
		// pid (comm) state ppid ...; comm may hold spaces, so parse after its closing paren.
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			children = append(children, child)
		}
	}
	if len(children) != 2 {
		t.Errorf("qual dev has %d child processes %v, want 2 (etcd, kube-apiserver)", len(children), children)
	}
	return children
}

// sessionToken signs a session JWT for the dev user with the dev.env secret, as a frontend would.
func sessionToken(t *testing.T, vars map[string]string) string {
	t.Helper()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": vars["QUAL_DEV_USER_ID"], "email": vars["QUAL_DEV_USER_EMAIL"], "aud": "authenticated",
		"exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(vars["QUAL_JWT_SECRET"]))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func getExpect(url, bearer, want string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %d %s; want 200 with %s", url, resp.StatusCode, truncate(string(body)), want)
	}
	return nil
}

// tail is the end of a log file, for failure messages.
func tail(path string) string {
	data, _ := os.ReadFile(path) //nolint:gosec // the test's own log file
	return lastChars(string(data))
}
