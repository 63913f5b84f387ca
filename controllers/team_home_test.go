package controllers_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/events"
)

// homeless are a key, a campaign and a webhook made in ns, the kinds REST serves only in a
// team's namespace.
type homeless struct {
	key *qualv1alpha1.APIKey
	cmp *qualv1alpha1.Campaign
	wh  *qualv1alpha1.Webhook
}

func createHomeless(t *testing.T, ns string) homeless {
	t.Helper()
	h := homeless{
		key: newKey(uniqueName("homeless"), qualv1alpha1.KeySecret, "campaigns:read"),
		cmp: newCampaign(uniqueName("homeless"), qualv1alpha1.StateActive),
		wh:  newWebhook(ns, uniqueName("homeless")),
	}
	h.key.Namespace, h.cmp.Namespace = ns, ns
	for _, obj := range h.objects() {
		if err := k8s.Create(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h homeless) objects() []client.Object { return []client.Object{h.key, h.cmp, h.wh} }

// waitNoTeam waits until all three say NoTeam, stalled, naming their namespace, and checks
// that none got what only a team's object gets: a key's plaintext or credential, a signing
// secret, an accepted publish state.
func (h homeless) waitNoTeam(t *testing.T) {
	t.Helper()
	waitKey(t, h.key, metav1.ConditionFalse, controllers.ReasonNoTeam)
	waitCampaign(t, h.cmp, metav1.ConditionFalse, controllers.ReasonNoTeam)
	waitWebhook(t, h.wh, metav1.ConditionFalse, controllers.ReasonNoTeam)
	for _, c := range []struct {
		name  string
		conds []metav1.Condition
	}{{h.key.Name, h.key.Status.Conditions}, {h.cmp.Name, h.cmp.Status.Conditions}, {h.wh.Name, h.wh.Status.Conditions}} {
		if err := conditionIs(c.conds, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, controllers.ReasonNoTeam); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if msg := meta.FindStatusCondition(c.conds, qualv1alpha1.ConditionReady).Message; !strings.Contains(msg, "namespace "+h.key.Namespace+" belongs to no Team") {
			t.Errorf("%s: Ready says %q", c.name, msg)
		}
	}
	if st := h.key.Status; st.HashRef != "" || st.SecretRef != nil || st.Prefix != "" {
		t.Errorf("a key outside a team got a credential: %+v", st)
	}
	if h.wh.Status.SecretRef != nil {
		t.Errorf("a webhook outside a team got a signing secret: %+v", h.wh.Status.SecretRef)
	}
	if st := h.cmp.Status; st.Phase != "" || st.PublishedAt != nil {
		t.Errorf("a campaign outside a team was published: %+v", st)
	}
}

// waitReady waits until all three are Ready, as in any team's namespace.
func (h homeless) waitReady(t *testing.T) {
	t.Helper()
	waitKey(t, h.key, metav1.ConditionTrue, "Active")
	waitCampaign(t, h.cmp, metav1.ConditionTrue, "Active")
	waitWebhook(t, h.wh, metav1.ConditionTrue, "Delivering")
}

// secretsIn lists the Secrets of a namespace, from the API server.
func secretsIn(t *testing.T, ns string) []corev1.Secret {
	t.Helper()
	list := &corev1.SecretList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// REST refuses a key, and serves no campaign or webhook, in a namespace no Team owns. Their
// controllers say so (NoTeam) rather than Ready, and do none of a team's work: whoever can
// write such objects somewhere gets no working key, no plaintext and no signing secret. Once
// a Team owns the namespace (here it adopts it, as when config/samples is applied), all three
// become Ready by themselves, woken by the Team and Namespace watches, and the team hears of
// them then; when the team goes, they are NoTeam again, and they can still be deleted.
func TestObjectsOutsideATeamWaitForOne(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("homeless")
	// Labelled for a Team that does not exist yet: the label alone is no proof of a team.
	ns := labelledNamespace(t, name)
	h := createHomeless(t, ns.Name)
	h.waitNoTeam(t)
	if secrets := secretsIn(t, ns.Name); len(secrets) != 0 {
		t.Fatalf("outside a team the controllers made %d secrets, first %s", len(secrets), secrets[0].Name)
	}
	expectEvent(t, h.key, controllers.ReasonNoTeam)
	reconcileIsSteady(t, reconcilers.APIKey, h.key)
	reconcileIsSteady(t, reconcilers.Campaign, h.cmp)
	reconcileIsSteady(t, reconcilers.Webhook, h.wh)

	team := readyTeam(t, newTeam(name, member("o@"+name+".example", qualv1alpha1.RoleOwner)))
	if team.Status.Namespace != ns.Name {
		t.Fatalf("the team owns %q, not %s", team.Status.Namespace, ns.Name)
	}
	h.waitReady(t)
	if h.key.Status.SecretRef == nil || h.wh.Status.SecretRef == nil || h.cmp.Status.PublishedAt == nil {
		t.Fatalf("key %+v, webhook %+v, campaign %+v", h.key.Status, h.wh.Status, h.cmp.Status)
	}
	expectOutbox(t, team.UID, h.cmp.UID, events.CampaignCreated, events.CampaignPublished)
	expectOutbox(t, team.UID, h.key.UID, events.APIKeyCreated)

	// Deleting the team deletes its namespace (which never finishes here: no namespace
	// controller runs), and REST stops serving it at once.
	if err := k8s.Delete(ctx, team); err != nil {
		t.Fatal(err)
	}
	waitKey(t, h.key, metav1.ConditionFalse, controllers.ReasonNoTeam)
	waitCampaign(t, h.cmp, metav1.ConditionFalse, controllers.ReasonNoTeam)
	waitWebhook(t, h.wh, metav1.ConditionFalse, controllers.ReasonNoTeam)
	for _, obj := range h.objects() {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
		eventually(t, obj.GetName()+" gone", func() error { return gone(ctx, obj) })
	}
}

// A namespace is a team's by the REST API's rule: its team UID label, which only the Team
// controller writes, names a Team whose status names the namespace. A label copied from a
// real team proves nothing. The operator's namespace is no team's: its campaigns and webhooks
// are NoTeam, while its keys are platform admins' and Active, as REST takes them. Objects
// outside a team, finalizers and all, are deleted as any other.
func TestNoTeamFollowsTheRESTAPIsRule(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("real"), member("o@real.example", qualv1alpha1.RoleOwner)))
	forged := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("forged"),
		Labels: map[string]string{qualv1alpha1.LabelTeam: team.Name, qualv1alpha1.LabelTeamUID: string(team.UID)}}}
	if err := k8s.Create(ctx, forged); err != nil {
		t.Fatal(err)
	}
	h := createHomeless(t, forged.Name)
	h.waitNoTeam(t)
	if secrets := secretsIn(t, forged.Name); len(secrets) != 0 {
		t.Fatalf("in a namespace with a copied team label the controllers made %d secrets", len(secrets))
	}
	if evs := outboxOf(t, team.UID, h.cmp.UID); len(evs) != 0 {
		t.Fatalf("the team whose label was copied heard of a campaign not its own: %v", typesOf(evs))
	}

	ensureNamespace(t, qualv1alpha1.SystemNamespace)
	system := createHomeless(t, qualv1alpha1.SystemNamespace)
	waitKey(t, system.key, metav1.ConditionTrue, "Active")
	if system.key.Status.SecretRef == nil {
		t.Fatalf("a platform admin's key got no plaintext: %+v", system.key.Status)
	}
	waitCampaign(t, system.cmp, metav1.ConditionFalse, controllers.ReasonNoTeam)
	waitWebhook(t, system.wh, metav1.ConditionFalse, controllers.ReasonNoTeam)
	if system.wh.Status.SecretRef != nil {
		t.Fatalf("a webhook in the operator's namespace got a signing secret: %+v", system.wh.Status.SecretRef)
	}

	for _, obj := range append(h.objects(), system.objects()...) {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
		eventually(t, obj.GetName()+" gone", func() error { return gone(ctx, obj) })
	}
}

// The dispatcher Deployment, when changed or deleted, is put back by the reconcile of one
// webhook: it must be a team's, since a webhook outside a team brings up no dispatcher.
func TestDispatcherIsLookedAfterByATeamsWebhook(t *testing.T) {
	ctx := context.Background()
	plain, ns := uniqueName("plain-hooks"), uniqueName("team-hooks")
	ensureNamespace(t, plain)
	ensureTeamNamespace(t, ns)
	outside := createWebhook(t, newWebhook(plain, "outside"), metav1.ConditionFalse, controllers.ReasonNoTeam)
	inside := createWebhook(t, newWebhook(ns, "inside"), metav1.ConditionTrue, "Delivering")

	name := func(wh *qualv1alpha1.Webhook) string {
		if wh == nil {
			return "none"
		}
		return wh.Namespace + "/" + wh.Name
	}
	for _, c := range []struct {
		whs  []qualv1alpha1.Webhook
		want *qualv1alpha1.Webhook
	}{
		{[]qualv1alpha1.Webhook{*outside, *inside}, inside},
		{[]qualv1alpha1.Webhook{*inside, *outside}, inside},
		{[]qualv1alpha1.Webhook{*outside}, nil},
	} {
		got, err := reconcilers.Webhook.TeamWebhook(ctx, c.whs)
		if err != nil {
			t.Fatal(err)
		}
		if name(got) != name(c.want) {
			t.Errorf("of %d webhooks the dispatcher is looked after by %s, want %s", len(c.whs), name(got), name(c.want))
		}
	}
}
