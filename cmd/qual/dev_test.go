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
	qualscheme "qual.cx/operator/internal/scheme"
)

// devChildArgs, when set, makes the test binary run `qual` with these newline-separated
// arguments instead of the tests. controller-runtime allows a controller name once per
// process, so each `qual dev` run (and `qual manager` in its own test) needs its own process;
// it also lets the test stop it with a real SIGINT, as Ctrl-C does.
const devChildArgs = "QUAL_DEV_TEST_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(devChildArgs); args != "" {
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
	checkCluster(t, vars["KUBECONFIG"])
	first.stop(t)

	second := startDev(t, dir, addr)
	checkSameSecrets(t, vars, second.vars)
	checkAPI(t, second.vars, token)
	second.stop(t)
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
	cmd          *exec.Cmd
	exited       chan error
	controlPlane []int // the etcd and kube-apiserver it started
	vars         map[string]string
}

// startDev runs `qual dev` and returns once it has announced itself, with dev.env parsed.
func startDev(t *testing.T, dir, addr string) *devProcess {
	t.Helper()
	logs, err := os.CreateTemp(t.TempDir(), "qual-dev-*.log")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"dev", "--dir", dir, "--addr", addr}
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
	p := &devProcess{cmd: cmd, exited: make(chan error, 1)}
	announced := make(chan struct{})
	go p.readStdout(stdout, announced)
	t.Cleanup(func() { p.kill(t, logs.Name()) })
	select {
	case <-announced:
	case err := <-p.exited:
		t.Fatalf("qual dev exited before it was ready: %v\n%s", err, tail(logs.Name()))
	case <-time.After(45 * time.Second):
		t.Fatalf("qual dev was not ready in 45 s\n%s", tail(logs.Name()))
	}
	p.controlPlane = childPIDs(t, cmd.Process.Pid)
	if p.vars, err = readDevEnv(filepath.Join(dir, "dev.env")); err != nil {
		t.Fatal(err)
	}
	return p
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

// stop sends SIGINT, as Ctrl-C does, and expects a clean exit that takes the control plane along.
func (p *devProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err // for kill in the cleanup
		if err != nil {
			t.Errorf("qual dev exited with %v after SIGINT", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("qual dev did not stop within 20 s of SIGINT")
	}
	for _, pid := range p.controlPlane {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("control-plane process %d is still running after qual dev stopped", pid)
		}
	}
}

// kill ends whatever a failed test left running and logs the end of its output.
func (p *devProcess) kill(t *testing.T, logs string) {
	select {
	case err := <-p.exited:
		p.exited <- err
		return
	default:
	}
	t.Logf("killing qual dev and its control plane; its last logs:\n%s", tail(logs))
	for _, pid := range append([]int{p.cmd.Process.Pid}, p.controlPlane...) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := <-p.exited; err != nil {
		t.Logf("qual dev: %v", err)
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
	return string(data[max(0, len(data)-4000):])
}
