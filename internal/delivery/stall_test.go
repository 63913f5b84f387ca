package delivery_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
	"qual.cx/operator/internal/testenv"
)

// A stall is the operator's problem, not the receiver's. Against a real API server, with the
// Kubernetes directory writing health into the Webhook's status: a Webhook whose signing
// Secret cannot sign (stalled SecretInvalid, then with the stall cleared but the Secret still
// empty) for longer than the whole retry schedule and the disable period is neither failed
// nor disabled, its consecutiveFailures stay 0, and its delivery log shows the event held and
// why; once the Secret signs, the held event is delivered exactly once, verified by the
// receiver with that secret. A team that is deleted meanwhile (its namespace being deleted)
// still gets nothing: its held delivery fails unsent, and no failure counts.
func TestStalledSecretHoldsDeliveries(t *testing.T) {
	env, cfg, c := controlPlane(t)
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			holdsUntilTheSecretSigns(t, cfg, env, c, b.DSN(t))
		})
	}
}

func holdsUntilTheSecretSigns(t *testing.T, cfg *rest.Config, env *envtest.Environment, c client.Client, dsn string) {
	ctx := t.Context()
	team := uuid.NewString()
	ns := "team-" + team[:8]
	good := newSecret(t)
	rc := newReceiver(t, good)
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels: map[string]string{qualv1alpha1.LabelTeamUID: team}}}); err != nil {
		t.Fatal(err)
	}
	// A Secret its owner emptied: it signs nothing, and the controller says so.
	signing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "my-signing", Namespace: ns},
		Data: map[string][]byte{delivery.SecretKey: nil}}
	if err := c.Create(ctx, signing); err != nil {
		t.Fatal(err)
	}
	wh := webhookIn(ns)
	wh.Spec.URL = rc.srv.URL + "/hook"
	if err := c.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	wh.Status.SecretRef = &qualv1alpha1.LocalSecretReference{Name: signing.Name}
	stall(t, c, wh, "SecretInvalid", `secret my-signing needs key "secret" holding whsec_ plus base64`)

	k := startKube(t, cfg, env, c, c)
	id := store.WebhookID(wh.UID)
	testenv.Eventually(t, 10*time.Second, "the stalled endpoint", func() error {
		if ep, ok, err := k.Endpoint(ctx, store.TeamID(team), id); err != nil || !ok || ep.Stall == "" {
			return fmt.Errorf("endpoint %+v, %v, %w", ep, ok, err)
		}
		return nil
	})
	// Without holds, the schedule's five attempts (about half a second) would fail the
	// delivery, and the disable period (300 ms of failures) would disable the webhook.
	st := pgtest.Open(t, dsn)
	ts := st.Team(store.TeamID(team))
	start(t, delivery.Config{Store: st, Directory: k, Health: k,
		Client:   egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20),
		Schedule: fastSchedule, DisableAfter: 300 * time.Millisecond, DisabledRecheck: 50 * time.Millisecond,
		Workers: 4, PollInterval: 20 * time.Millisecond, RescueAfter: 3 * time.Second,
		StatusInterval: 50 * time.Millisecond, Logger: logr.Discard()})
	ev := emit(t, ts, "finding.created", "f1")

	// held waits for the delivery's held attempts to give reason last, then for as long
	// again as the retry schedule and the disable period take, and checks nothing was sent,
	// failed or counted meanwhile.
	held := func(n int, reason string) {
		t.Helper()
		eventually(t, 10*time.Second, "a held attempt naming "+reason, func() bool {
			d := deliveries(t, ts, id)
			return len(d) == 1 && len(d[0].Attempts) == n && strings.Contains(d[0].Attempts[n-1].Error, reason)
		})
		time.Sleep(1500 * time.Millisecond)
		if got := len(rc.requests()); got != 0 {
			t.Fatalf("a webhook whose Secret cannot sign was sent %d requests", got)
		}
		cur := &qualv1alpha1.Webhook{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(wh), cur); err != nil {
			t.Fatal(err)
		}
		if cur.Status.ConsecutiveFailures != 0 || cur.Status.DisabledAt != nil || (cur.Spec.Enabled != nil && !*cur.Spec.Enabled) {
			t.Fatalf("a held webhook's status %+v, enabled %v", cur.Status, cur.Spec.Enabled)
		}
		if h, err := ts.Health(ctx, id); err != nil || h.ConsecutiveFailures != 0 || h.FailingSince != nil {
			t.Fatalf("a hold moved the webhook's health: %+v, %v", h, err)
		}
		d := deliveries(t, ts, id)[0]
		if d.Status != store.DeliveryPending || len(d.Attempts) != n || d.Tries() != 0 {
			t.Fatalf("after 1.5 s held: %s, attempts %+v", d.Status, d.Attempts)
		}
	}
	held(1, "SecretInvalid")
	// The controller's verdict is not all: a Secret that signs nothing holds the delivery too.
	stall(t, c, wh, "", "")
	held(2, "no signing secret")

	signing.Data = map[string][]byte{delivery.SecretKey: []byte(good)}
	if err := c.Update(ctx, signing); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the held event delivered", func() bool { return rc.delivered()[string(ev.ID)] == 1 })
	eventually(t, 10*time.Second, "the log to settle", func() bool {
		d := deliveries(t, ts, id)[0]
		return d.Status == store.DeliverySucceeded
	})
	time.Sleep(300 * time.Millisecond)
	d := deliveries(t, ts, id)[0]
	if n := len(rc.requests()); n != 1 || len(d.Attempts) != 3 || d.Attempts[2].Held || d.Attempts[2].StatusCode != 204 {
		t.Fatalf("%d requests; the log %+v", n, d.Attempts)
	}
	testenv.Eventually(t, 10*time.Second, "the success in the Webhook's status", func() error {
		cur := &qualv1alpha1.Webhook{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(wh), cur); err != nil {
			return err
		}
		if cur.Status.LastSuccessAt == nil || cur.Status.ConsecutiveFailures != 0 || cur.Status.DisabledAt != nil {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return nil
	})

	// The team is deleted: the controller says NoTeam (held), then its namespace is being
	// deleted, which ends the delivery unsent, however well the receiver answers.
	stall(t, c, wh, "NoTeam", "namespace "+ns+" belongs to no Team, so no event reaches it")
	testenv.Eventually(t, 10*time.Second, "the NoTeam stall seen", func() error {
		if ep, _, err := k.Endpoint(ctx, store.TeamID(team), id); err != nil || !strings.Contains(ep.Stall, "NoTeam") {
			return fmt.Errorf("endpoint %+v, %w", ep, err)
		}
		return nil
	})
	doomed := emit(t, ts, "finding.created", "f2")
	eventually(t, 10*time.Second, "the held attempt", func() bool { return len(deliveryOf(t, ts, id, doomed.ID).Attempts) == 1 })
	if err := c.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the deleted team's delivery to fail", func() bool {
		return deliveryOf(t, ts, id, doomed.ID).Status == store.DeliveryFailed
	})
	gone := deliveryOf(t, ts, id, doomed.ID)
	if last := gone.Attempts[len(gone.Attempts)-1]; len(rc.requests()) != 1 || !last.Held || !strings.Contains(last.Error, "no longer exists") {
		t.Fatalf("%d requests; the deleted team's delivery %+v", len(rc.requests()), gone.Attempts)
	}
	if h, err := ts.Health(ctx, id); err != nil || h.ConsecutiveFailures != 0 || h.FailingSince != nil {
		t.Fatalf("the deleted team's refusal moved health: %+v, %v", h, err)
	}
}

// stall writes the Webhook's Stalled condition as its controller does (reason "" clears it),
// with the status's secretRef.
func stall(t *testing.T, c client.Client, wh *qualv1alpha1.Webhook, reason, message string) {
	t.Helper()
	ref := wh.Status.SecretRef
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(wh), wh); err != nil {
		t.Fatal(err)
	}
	wh.Status.SecretRef = ref
	if reason == "" {
		meta.RemoveStatusCondition(&wh.Status.Conditions, qualv1alpha1.ConditionStalled)
	} else {
		meta.SetStatusCondition(&wh.Status.Conditions, metav1.Condition{Type: qualv1alpha1.ConditionStalled,
			Status: metav1.ConditionTrue, Reason: reason, Message: message, ObservedGeneration: wh.Generation})
	}
	if err := c.Status().Update(t.Context(), wh); err != nil {
		t.Fatal(err)
	}
}

// deliveryOf finds the webhook's delivery of one event; none yet is the zero Delivery.
func deliveryOf(t *testing.T, ts store.TeamStore, id store.WebhookID, ev store.EventID) store.Delivery {
	t.Helper()
	for _, d := range deliveries(t, ts, id) {
		if d.EventID == ev {
			return d
		}
	}
	return store.Delivery{}
}
