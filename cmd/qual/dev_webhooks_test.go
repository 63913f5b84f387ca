package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	qualscheme "qual.cx/operator/internal/scheme"
)

// hookReceiver is a local endpoint that verifies every delivery with the Standard Webhooks
// library against the secrets it has been told, records the event types it took, and
// answers 401 to (and counts) a delivery it cannot verify.
type hookReceiver struct {
	mu       sync.Mutex
	rejected int
	secrets  []string
	types    []string
	bodies   map[string][]byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err == nil && wh.Verify(body, r.Header) == nil {
			var env struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(body, &env)
			h.types = append(h.types, env.Type)
			h.bodies[env.Type] = body
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	h.rejected++
	w.WriteHeader(http.StatusUnauthorized)
}

func (h *hookReceiver) trust(secret string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, secret)
}

// expect checks that the last event of type typ the receiver took contains want.
func (h *hookReceiver) expect(typ, want string) func() error {
	return func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if b := h.bodies[typ]; !strings.Contains(string(b), want) {
			return fmt.Errorf("last %s: %s; took %v, refused %d", typ, b, h.types, h.rejected)
		}
		return nil
	}
}

// `qual dev` delivers webhooks end to end: a webhook made through REST gets the signed events
// of a campaign made with kubectl (the controllers emit them) and of one made through REST,
// the test endpoint answers with the logged delivery, and after a rotation a receiver that
// only knows the new secret verifies.
func TestDevDeliversWebhooks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".qual")
	dev := startDev(t, dir, freeAddr(t))
	rc := &hookReceiver{bodies: map[string][]byte{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)

	var created struct {
		Data struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		} `json:"data"`
	}
	call(t, dev.vars, http.MethodPost, "/webhooks", fmt.Sprintf(`{"url": %q, "events": ["*"]}`, srv.URL), http.StatusCreated, &created)
	if !strings.HasPrefix(created.Data.Secret, "whsec_") {
		t.Fatalf("create answered secret %q", created.Data.Secret)
	}
	rc.trust(created.Data.Secret)

	kc, err := clientcmd.BuildConfigFromFlags("", dev.vars["KUBECONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	scheme, _ := qualscheme.New()
	c, err := client.New(kc, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	cmp := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Name: "from-kubectl", Namespace: teamNamespace(t, c)},
		Spec: qualv1alpha1.CampaignSpec{Title: "Made with kubectl"}}
	if err := c.Create(t.Context(), cmp); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "campaign.created from kubectl", rc.expect("campaign.created", `"title":"Made with kubectl"`))

	var test struct {
		Data struct {
			Status string `json:"status"`
		} `json:"data"`
	}
	call(t, dev.vars, http.MethodPost, "/webhooks/"+created.Data.ID+"/test", "", http.StatusOK, &test)
	if test.Data.Status != "succeeded" {
		t.Fatalf("test delivery: %+v", test.Data)
	}

	var rotated struct {
		Data struct {
			Secret string `json:"secret"`
		} `json:"data"`
	}
	call(t, dev.vars, http.MethodPost, "/webhooks/"+created.Data.ID+"/rotate-secret", "", http.StatusOK, &rotated)
	rc.mu.Lock()
	if rc.rejected != 0 {
		t.Errorf("%d deliveries before the rotation did not verify", rc.rejected)
	}
	// The receiver moves to the new secret at once. The dispatcher may sign with the old one
	// alone for the few seconds it reuses a Secret it read; that delivery is refused and
	// retried, and the retry carries both signatures.
	rc.secrets = []string{rotated.Data.Secret}
	rc.mu.Unlock()
	createCampaign(t, dev.vars, "Made through REST")
	waitFor(t, "the REST campaign's event signed with the new secret", rc.expect("campaign.created", `"title":"Made through REST"`))
}

// teamNamespace is the dev team's namespace.
func teamNamespace(t *testing.T, c client.Client) string {
	t.Helper()
	var teams qualv1alpha1.TeamList
	if err := c.List(t.Context(), &teams); err != nil || len(teams.Items) != 1 {
		t.Fatalf("teams: %d, %v", len(teams.Items), err)
	}
	return teams.Items[0].Status.Namespace
}

// call makes a REST call with the dev team's key and decodes the answer into out.
func call(t *testing.T, vars map[string]string, method, path, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, vars["QUAL_URL"]+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+vars["QUAL_API_KEY"])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, raw)
	}
}

// TestDevDeliveryHasTheDispatcherLimits: `qual dev` delivers with the dispatcher's defaults,
// so a receiver that never answers cannot hold a worker (or a synchronous test send) and an
// attempt keeps an excerpt of the answer.
func TestDevDeliveryHasTheDispatcherLimits(t *testing.T) {
	f := &devFlags{}
	if err := f.complete(nil); err != nil {
		t.Fatal(err)
	}
	var want dispatcherFlags
	want.defaults()
	if got := f.api.delivery.egress; got.attemptTimeout != want.egress.attemptTimeout || got.attemptTimeout <= 0 ||
		got.maxResponse != want.egress.maxResponse || got.maxResponse <= 0 {
		t.Fatalf("qual dev delivers with attempt timeout %v and %d response bytes kept, want %v and %d",
			got.attemptTimeout, got.maxResponse, want.egress.attemptTimeout, want.egress.maxResponse)
	}
}
