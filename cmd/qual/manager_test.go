package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/testenv"
)

// TestManagerCommandReconcilesAndServesProbes runs `qual manager` as a user would, with
// leader election on, against a real control plane, with only the permissions config/rbac
// grants its service account.
func TestManagerCommandReconcilesAndServesProbes(t *testing.T) {
	cfg, k8s, kubeconfig, _ := controlPlane(t)
	dir := t.TempDir()
	metrics, probes := freeAddr(t), freeAddr(t)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	root := newRootCommand()
	root.SetArgs([]string{"manager", "--kubeconfig", kubeconfig, "--store", filepath.Join(dir, "qual.db"),
		"--metrics-bind-address", metrics, "--health-probe-bind-address", probes,
		"--leader-election-namespace", "qual-system", "--dispatcher-image", "qual:test"})
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager exited with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("manager did not stop")
		}
	})

	// A team with members makes the manager write Roles, which Kubernetes allows only if the
	// manager holds every permission they grant; a key and a webhook make it write Secrets
	// and the dispatcher Deployment, and, made by the team's owner with kubectl, a Role and
	// RoleBinding each that let the owner read their plaintext.
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "cli"}, Spec: qualv1alpha1.TeamSpec{DisplayName: "CLI",
		Members: []qualv1alpha1.TeamMember{{Email: "o@cli.example", Role: qualv1alpha1.RoleOwner}, {Email: "v@cli.example", Role: qualv1alpha1.RoleViewer}}}}
	if err := k8s.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "team ready", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(team.Status.Conditions, qualv1alpha1.ConditionReady) {
			return fmt.Errorf("not ready: %+v", team.Status.Conditions)
		}
		return nil
	})
	waitFor(t, "namespace", func() error { return k8s.Get(ctx, client.ObjectKey{Name: "team-cli"}, &corev1.Namespace{}) })
	key := &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Name: "k", Namespace: "team-cli"}, Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret}}
	hook := &qualv1alpha1.Webhook{ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "team-cli"},
		Spec: qualv1alpha1.WebhookSpec{URL: "https://hooks.example/in", Events: []qualv1alpha1.WebhookEvent{"*"}}}
	asOwner, err := testenv.ClientAs(cfg, "o@cli.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{key, hook} {
		if err := asOwner.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "key ready", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(key), key); err != nil {
			return err
		}
		return readyIn(key.Status.Conditions)
	})
	waitFor(t, "webhook ready", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(hook), hook); err != nil {
			return err
		}
		return readyIn(hook.Status.Conditions)
	})
	for _, name := range []string{key.Status.SecretRef.Name, hook.Status.SecretRef.Name} {
		waitFor(t, "the owner reads "+name, func() error {
			return asOwner.Get(ctx, client.ObjectKey{Namespace: "team-cli", Name: name}, &corev1.Secret{})
		})
	}
	for _, check := range []struct{ url, want string }{
		{"http://" + probes + "/healthz", "ok"},
		{"http://" + probes + "/readyz", "ok"},
		{"http://" + metrics + "/metrics", `controller_runtime_reconcile_total{controller="team"`},
	} {
		waitFor(t, check.url, func() error { return expectBody(check.url, check.want) })
	}
}

func readyIn(conds []metav1.Condition) error {
	if !meta.IsStatusConditionTrue(conds, qualv1alpha1.ConditionReady) {
		return fmt.Errorf("not ready: %+v", conds)
	}
	return nil
}

func expectBody(url, want string) error {
	resp, err := http.Get(url) //nolint:gosec // a loopback address the test chose
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("%s: %d %q", url, resp.StatusCode, truncate(string(body)))
	}
	return nil
}

func truncate(s string) string { return s[:min(len(s), 200)] }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, what, check)
}

// TestManagerPassesDispatcherFlagsOn: the dispatcher flags `qual manager` takes go into the
// configuration of the dispatcher Deployment it runs (the Webhook controller's tests check
// the container's arguments), only when set, so a manager without them leaves the
// dispatcher's defaults; a --rescue-after or --webhook-attempt-timeout the dispatcher would
// refuse is refused here.
func TestManagerPassesDispatcherFlagsOn(t *testing.T) {
	parse := func(args ...string) (controllers.DispatcherConfig, error) {
		t.Helper()
		f := &managerFlags{}
		cmd := &cobra.Command{}
		f.register(cmd)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		return f.dispatcher()
	}
	unset, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if unset.StallHold != 0 || unset.RescueAfter != 0 || unset.AttemptTimeout != 0 || unset.EgressAllow != nil {
		t.Errorf("with no dispatcher flags the manager passes on %+v", unset)
	}
	set, err := parse("--egress-allow=10.20.0.0/16", "--stall-hold=72h", "--rescue-after=2m", "--webhook-attempt-timeout=20s")
	if err != nil {
		t.Fatal(err)
	}
	if set.StallHold != 72*time.Hour || set.RescueAfter != 2*time.Minute || set.AttemptTimeout != 20*time.Second ||
		!slices.Equal(set.EgressAllow, []string{"10.20.0.0/16"}) {
		t.Errorf("the manager passes on stall hold %v, rescue after %v, attempt timeout %v, egress %v",
			set.StallHold, set.RescueAfter, set.AttemptTimeout, set.EgressAllow)
	}
	for _, args := range [][]string{{"--rescue-after=30s"}, {"--stall-hold=-1h"},
		{"--webhook-attempt-timeout=" + delivery.MaxAttemptTimeout.String()}, {"--webhook-attempt-timeout=-1s"}} {
		if _, err := parse(args...); err == nil || !strings.Contains(err.Error(), strings.SplitN(args[0], "=", 2)[0]) {
			t.Errorf("%v: want a refusal naming the flag, got %v", args, err)
		}
	}
}
