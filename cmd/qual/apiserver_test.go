package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/keys"
)

// TestAPIServerCommandServesKeysAndMetrics runs `qual apiserver` in-process against a real
// control plane, with only the permissions config/rbac grants its service account: a key
// created as the REST API creates them authenticates, a campaign and a key can be created, the
// metrics endpoint counts the requests, and cancelling the context stops it cleanly.
func TestAPIServerCommandServesKeysAndMetrics(t *testing.T) {
	_, k8s, _, kubeconfig := controlPlane(t)
	dir := t.TempDir()
	key := createTeamKey(t, k8s)

	addr, metrics, aggregated := freeAddr(t), freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	root := newRootCommand()
	root.SetArgs([]string{"apiserver", "--kubeconfig", kubeconfig, "--store", filepath.Join(dir, "qual.db"),
		"--addr", addr, "--metrics-bind-address", metrics, "--cursor-key", "0123456789abcdef0123456789abcdef",
		"--aggregated-addr", aggregated})
	go func() { done <- root.ExecuteContext(ctx) }()

	api := "http://" + addr + "/api/v1"
	waitFor(t, "health", func() error { return getExpect(api+"/health", "", `"ok"`) })
	waitFor(t, "key accepted", func() error { return getExpect(api+"/me", key, `"auth_type":"api_key"`) })
	waitFor(t, "campaign created", func() error {
		return postExpect(api+"/campaigns", key, `{"title":"From the service account"}`, 201)
	})
	// A key minted with a key records it in qual.cx/minted-by, which admission lets only the
	// REST API's service account write.
	waitFor(t, "key minted with a key", func() error {
		return postExpect(api+"/api-keys", key, `{"name":"minted","scopes":["campaigns:read"]}`, 201)
	})
	// The aggregated API serves beside it, ready once its delegated authentication has read
	// kube-system/extension-apiserver-authentication with the rights config/aggregated grants.
	waitFor(t, "aggregated API ready", func() error { return expectTLSReady("https://" + aggregated + "/readyz") })
	waitFor(t, "metrics", func() error {
		return expectBody("http://"+metrics+"/metrics", `qual_http_requests_total{method="GET"`)
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("apiserver exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("apiserver did not stop")
	}
}

// createTeamKey makes a team whose namespace is claimed as the Team controller claims it
// (no controller runs here) and a secret APIKey in it with a client-minted credential, as
// the REST API does, and returns the key's plaintext.
func createTeamKey(t *testing.T, k8s client.Client) string {
	t.Helper()
	ctx := context.Background()
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "api"}, Spec: qualv1alpha1.TeamSpec{DisplayName: "API"}}
	if err := k8s.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	team.Status.Namespace = "team-api"
	if err := k8s.Status().Update(ctx, team); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-api", Labels: map[string]string{
		qualv1alpha1.LabelTeam: team.Name, qualv1alpha1.LabelTeamUID: string(team.UID)}}}
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	key := &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "k"},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Credential: &qualv1alpha1.APIKeyCredential{
			HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour,
		}},
	}
	for _, obj := range []client.Object{ns, key} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	return minted.Plaintext
}

func postExpect(url, bearer, body string, status int) error {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, got)
	}
	return nil
}

// expectTLSReady GETs a health endpoint of a server with a self-signed certificate.
func expectTLSReady(url string) error {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a self-signed test server
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return nil
}
