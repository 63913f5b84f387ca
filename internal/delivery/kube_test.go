package delivery_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
)

// The Kubernetes directory against a real API server: it finds a team's webhooks only in the
// namespace labelled with the team's UID, reads the signing Secret with its rotation, writes
// health into status, and disables an endpoint (spec first, then why, and an Event).
func TestKubeDirectory(t *testing.T) {
	env, cfg, c := controlPlane(t)
	ctx := t.Context()
	const team = "0b6f0c1e-team-uid"
	for name, labels := range map[string]map[string]string{
		"team-a": {qualv1alpha1.LabelTeamUID: team},
		"stray":  nil, // a namespace the team does not own
	} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}); err != nil {
			t.Fatal(err)
		}
	}
	current, previous := newSecret(t), newSecret(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hook-signing", Namespace: "team-a"}, Data: map[string][]byte{
		delivery.SecretKey: []byte(current), delivery.PreviousSecretKey: []byte(previous),
		delivery.PreviousExpiresKey: []byte(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)),
	}}
	hooks := []*qualv1alpha1.Webhook{webhookIn("team-a"), webhookIn("stray")}
	for _, wh := range hooks {
		if err := c.Create(ctx, wh); err != nil {
			t.Fatal(err)
		}
		wh.Status.SecretRef = &qualv1alpha1.LocalSecretReference{Name: "hook-signing"}
		if err := c.Status().Update(ctx, wh); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}

	// Secrets are read through a proxy that can freeze, as a hung control plane does.
	proxy := newFreezingProxy(t, cfg.Host)
	secrets, err := client.New(proxy.config(cfg), client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	k := startKube(t, cfg, env, c, secrets)
	id := store.WebhookID(hooks[0].UID)
	testenv.Eventually(t, 10*time.Second, "the team's endpoint", func() error {
		if eps := k.Endpoints(team); len(eps) != 1 || eps[0].ID != id || !eps[0].Enabled {
			return fmt.Errorf("endpoints %+v", eps)
		}
		return nil
	})
	ep, ok, err := k.Endpoint(ctx, team, id)
	if err != nil || !ok || len(ep.Secrets) != 2 || ep.Secrets[0] != current || ep.Secrets[1] != previous {
		t.Fatalf("endpoint %+v, %v, %v", ep, ok, err)
	}
	if _, ok, _ := k.Endpoint(ctx, team, store.WebhookID(hooks[1].UID)); ok {
		t.Fatal("a webhook outside the team's namespace was found for the team")
	}

	at := time.Now().UTC().Truncate(time.Second)
	if err := k.Report(ctx, store.WebhookHealth{TeamID: team, WebhookID: id, ConsecutiveFailures: 3, LastDeliveryAt: &at}); err != nil {
		t.Fatal(err)
	}
	got := &qualv1alpha1.Webhook{}
	testenv.Eventually(t, 10*time.Second, "health in status", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(hooks[0]), got); err != nil {
			return err
		}
		if got.Status.ConsecutiveFailures != 3 || got.Status.LastDeliveryAt == nil || !got.Status.LastDeliveryAt.Time.Equal(at) {
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})

	if err := k.Disable(ctx, ep, "the endpoint answered 410 Gone"); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(hooks[0]), got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Enabled == nil || *got.Spec.Enabled || got.Status.DisabledAt == nil || !strings.Contains(got.Status.DisabledReason, "410") {
		t.Fatalf("after Disable: spec %+v status %+v", got.Spec, got.Status)
	}
	testenv.Eventually(t, 10*time.Second, "the Disabled event", func() error {
		var list eventsv1.EventList
		if err := c.List(ctx, &list, client.InNamespace("team-a")); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == "Disabled" && e.Regarding.Name == "hook" && strings.Contains(e.Note, "410") {
				return nil
			}
		}
		return fmt.Errorf("%d events, none Disabled", len(list.Items))
	})

	// A Kubernetes API that takes connections and answers nothing does not stop deliveries:
	// once a reread is due (secretTTL, a second) and gets no answer in time, the signing
	// Secret last read stands in.
	proxy.freeze()
	time.Sleep(1100 * time.Millisecond)
	ep, ok, err = k.Endpoint(ctx, team, id)
	if err != nil || !ok || len(ep.Secrets) != 2 || ep.Secrets[0] != current {
		t.Fatalf("endpoint while the API is frozen %+v, %v, %v", ep, ok, err)
	}
}

// freezingProxy forwards TCP connections to an API server until freeze; from then on it
// drops the connections it forwarded and holds every new one without passing a byte.
type freezingProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen bool
	conns  []net.Conn
}

func newFreezingProxy(t *testing.T, host string) *freezingProxy {
	t.Helper()
	u, err := url.Parse(host)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{ln: ln, target: u.Host}
	t.Cleanup(func() { _ = ln.Close(); p.freeze(); p.drop() })
	go p.serve()
	return p
}

// config is cfg pointed at the proxy.
func (p *freezingProxy) config(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Host = "https://" + p.ln.Addr().String()
	return out
}

func (p *freezingProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, in)
		frozen := p.frozen
		p.mu.Unlock()
		if frozen {
			continue // held: read from by nobody, answered never
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, out)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
		go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
	}
}

// freeze cuts the connections forwarded so far and holds the ones that come after.
func (p *freezingProxy) freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
	p.drop()
}

func (p *freezingProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func webhookIn(ns string) *qualv1alpha1.Webhook {
	return &qualv1alpha1.Webhook{ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: ns},
		Spec: qualv1alpha1.WebhookSpec{URL: "https://receiver.example/hook", Events: []qualv1alpha1.WebhookEvent{qualv1alpha1.EventAll}}}
}

// startKube runs the directory on its own informer cache until the test ends.
func startKube(t *testing.T, cfg *rest.Config, env *envtest.Environment, c client.Client, secrets client.Reader) *delivery.Kube {
	t.Helper()
	ca, err := cache.New(cfg, cache.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	ctx, cancel := context.WithCancel(context.Background())
	broadcaster.StartRecordingToSink(ctx.Done())
	k, err := delivery.NewKube(ctx, ca, secrets, c, broadcaster.NewRecorder(env.Scheme, "qual-dispatcher"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ca.Start(ctx) }()
	t.Cleanup(func() { cancel(); broadcaster.Shutdown() })
	if !ca.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	return k
}

// controlPlane starts a real API server (with the CRDs and admission policies) for one test,
// stopped when it ends, and a client of it.
func controlPlane(t *testing.T) (*envtest.Environment, *rest.Config, client.Client) {
	t.Helper()
	env, err := testenv.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := testenv.Start(env)
	t.Cleanup(func() { _ = env.Stop() })
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return env, cfg, c
}
