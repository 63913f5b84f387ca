package faults_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/testenv"
)

// TestManagerKilledMidReconcile kills `qual manager` (SIGKILL, as an OOM kill or a node loss
// would) while it reconciles 1,000 campaigns and 100 keys it mints itself, starts it again,
// and checks that everything converges with no duplicated side effect: every key has exactly
// one Secret, and its status describes the plaintext in that Secret; every campaign is
// Ready with its finalizer once, and a published campaign keeps its first publish time.
func TestManagerKilledMidReconcile(t *testing.T) {
	env, err := testenv.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	k8s, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kubeconfig := writeKubeconfig(t, env, dir)
	bin := buildQual(t, dir)
	ctx := context.Background()

	manager := startManager(t, bin, kubeconfig, dir)
	const teams, campaigns, keysPerTeam = 4, 250, 25
	for i := range teams {
		team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crash-%d", i)}, Spec: qualv1alpha1.TeamSpec{
			DisplayName: "Crash", Members: []qualv1alpha1.TeamMember{{Email: "o@crash.example", Role: qualv1alpha1.RoleOwner}}}}
		if err := k8s.Create(ctx, team); err != nil {
			t.Fatal(err)
		}
	}
	for i := range teams {
		testenv.Eventually(t, 60*time.Second, "namespace", func() error {
			return k8s.Get(ctx, client.ObjectKey{Name: fmt.Sprintf("team-crash-%d", i)}, &corev1.Namespace{})
		})
	}
	// Create everything from 8 writers, and kill the manager while it works.
	var wg sync.WaitGroup
	work := make(chan client.Object)
	for range 8 {
		wg.Go(func() {
			for obj := range work {
				if err := k8s.Create(ctx, obj); err != nil {
					t.Error(err)
				}
			}
		})
	}
	killed := false
	for i := range teams {
		ns := fmt.Sprintf("team-crash-%d", i)
		for j := range campaigns {
			state := qualv1alpha1.StateDraft
			if j%2 == 0 {
				state = qualv1alpha1.StateActive
			}
			work <- &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("c-%d", j)},
				Spec: qualv1alpha1.CampaignSpec{Title: fmt.Sprintf("Crash %d", j), Mode: qualv1alpha1.ModeResearch,
					MaxQuestions: 5, State: state}}
			if j < keysPerTeam {
				work <- &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("k-%d", j)},
					Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret}}
			}
		}
		if i == teams/2 && !killed {
			waitSomeReady(t, k8s)
			manager.kill(t)
			killed = true
			t.Logf("killed the manager with %d of %d campaigns reconciled", reconciled(t, k8s), teams*campaigns)
		}
	}
	close(work)
	wg.Wait()
	firstPublished := publishTimes(t, k8s)
	startManager(t, bin, kubeconfig, dir)

	testenv.Eventually(t, 5*time.Minute, "every campaign and key Ready", func() error {
		var cl qualv1alpha1.CampaignList
		var kl qualv1alpha1.APIKeyList
		if err := k8s.List(ctx, &cl); err != nil {
			return err
		}
		if err := k8s.List(ctx, &kl); err != nil {
			return err
		}
		notReady := 0
		for _, c := range cl.Items {
			if !meta.IsStatusConditionTrue(c.Status.Conditions, qualv1alpha1.ConditionReady) {
				notReady++
			}
		}
		for _, k := range kl.Items {
			if !meta.IsStatusConditionTrue(k.Status.Conditions, qualv1alpha1.ConditionReady) {
				notReady++
			}
		}
		if len(cl.Items) != teams*campaigns || len(kl.Items) != teams*keysPerTeam || notReady > 0 {
			return fmt.Errorf("%d campaigns, %d keys, %d not ready", len(cl.Items), len(kl.Items), notReady)
		}
		return nil
	})
	checkCampaigns(t, k8s, firstPublished)
	checkMintedKeys(t, k8s, teams*keysPerTeam)
}

// waitSomeReady waits until the manager has reconciled some campaigns, so the kill lands in
// the middle of the work.
func waitSomeReady(t *testing.T, k8s client.Client) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, "some campaigns reconciled", func() error {
		if n := reconciled(t, k8s); n < 50 {
			return fmt.Errorf("%d reconciled", n)
		}
		return nil
	})
}

// reconciled counts the campaigns the controller has reconciled at least once.
func reconciled(t *testing.T, k8s client.Client) int {
	t.Helper()
	var cl qualv1alpha1.CampaignList
	if err := k8s.List(context.Background(), &cl); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cl.Items {
		if c.Status.ObservedGeneration > 0 {
			n++
		}
	}
	return n
}

// publishTimes records when each published campaign was first stamped published.
func publishTimes(t *testing.T, k8s client.Client) map[string]metav1.Time {
	t.Helper()
	var cl qualv1alpha1.CampaignList
	if err := k8s.List(context.Background(), &cl); err != nil {
		t.Fatal(err)
	}
	out := map[string]metav1.Time{}
	for _, c := range cl.Items {
		if c.Status.PublishedAt != nil {
			out[c.Namespace+"/"+c.Name] = *c.Status.PublishedAt
		}
	}
	return out
}

func checkCampaigns(t *testing.T, k8s client.Client, firstPublished map[string]metav1.Time) {
	t.Helper()
	var cl qualv1alpha1.CampaignList
	if err := k8s.List(context.Background(), &cl); err != nil {
		t.Fatal(err)
	}
	for _, c := range cl.Items {
		seen := 0
		for _, f := range c.Finalizers {
			if f == "qual.cx/campaign-data" { // the Campaign controller's finalizer
				seen++
			}
		}
		if seen != 1 {
			t.Errorf("%s/%s has finalizers %v", c.Namespace, c.Name, c.Finalizers)
		}
		if first, ok := firstPublished[c.Namespace+"/"+c.Name]; ok && !c.Status.PublishedAt.Equal(&first) {
			t.Errorf("%s/%s was published at %v, now %v", c.Namespace, c.Name, first, c.Status.PublishedAt)
		}
		if c.Spec.State == qualv1alpha1.StateActive && c.Status.PublishedAt == nil {
			t.Errorf("%s/%s is active with no publish time", c.Namespace, c.Name)
		}
	}
}

// checkMintedKeys: each key minted by the controller has one Secret, and its status hash is
// the digest of that Secret's plaintext: no key was minted twice.
func checkMintedKeys(t *testing.T, k8s client.Client, want int) {
	t.Helper()
	var kl qualv1alpha1.APIKeyList
	var sl corev1.SecretList
	if err := k8s.List(context.Background(), &kl); err != nil {
		t.Fatal(err)
	}
	if err := k8s.List(context.Background(), &sl, client.HasLabels{"qual.cx/apikey"}); err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]corev1.Secret{}
	for _, s := range sl.Items {
		secrets[s.Namespace+"/"+s.Labels["qual.cx/apikey"]] = append(secrets[s.Namespace+"/"+s.Labels["qual.cx/apikey"]], s)
	}
	for _, k := range kl.Items {
		own := secrets[k.Namespace+"/"+k.Name]
		if len(own) != 1 {
			t.Errorf("key %s/%s has %d secrets", k.Namespace, k.Name, len(own))
			continue
		}
		sum := sha256.Sum256(own[0].Data[controllers.APIKeySecretKey])
		if k.Status.HashRef != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Errorf("key %s/%s: status hash %s does not describe its secret", k.Namespace, k.Name, k.Status.HashRef)
		}
	}
	if len(kl.Items) != want {
		t.Errorf("%d keys, want %d", len(kl.Items), want)
	}
}

// process is a `qual` subprocess.
type process struct{ cmd *exec.Cmd }

func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

// startManager runs `qual manager` against the control plane until the test ends.
func startManager(t *testing.T, bin, kubeconfig, dir string) *process {
	t.Helper()
	cmd := exec.Command(bin, "manager", "--kubeconfig", kubeconfig, "--store", filepath.Join(dir, "qual.db"),
		"--leader-elect=false", "--metrics-bind-address", "0", "--health-probe-bind-address", "0")
	log, err := os.Create(filepath.Join(dir, fmt.Sprintf("manager-%d.log", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
		}
		_ = log.Close()
	})
	return p
}

// buildQual builds the qual binary into dir.
func buildQual(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "qual")
	out, err := exec.Command("go", "build", "-o", bin, "qual.cx/operator/cmd/qual").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeKubeconfig writes a cluster-admin kubeconfig for the control plane.
func writeKubeconfig(t *testing.T, env *envtest.Environment, dir string) string {
	t.Helper()
	user, err := env.AddUser(envtest.User{Name: "faults-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
