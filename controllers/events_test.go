package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/events"
	"qual.cx/operator/internal/store"
)

// outboxOf returns the events about subject in a team's outbox, oldest first. Nothing
// dispatches in this suite, so every event written is still pending.
func outboxOf(t *testing.T, team types.UID, subject types.UID) []store.Event {
	t.Helper()
	all, err := db.Team(store.TeamID(team)).PendingEvents(context.Background(), store.MaxPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Event
	for _, ev := range all {
		if ev.Subject == string(subject) {
			out = append(out, ev)
		}
	}
	return out
}

func typesOf(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

// expectOutbox waits until the events about subject are exactly of the types want, in order.
func expectOutbox(t *testing.T, team, subject types.UID, want ...string) []store.Event {
	t.Helper()
	var evs []store.Event
	eventually(t, strings.Join(want, ", "), func() error {
		evs = outboxOf(t, team, subject)
		if got := typesOf(evs); !slices.Equal(got, want) {
			return fmt.Errorf("outbox holds %v, want %v", got, want)
		}
		return nil
	})
	return evs
}

// restCampaign is what a campaign event's data must hold: the REST campaign.
type restCampaign struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Slug        string  `json:"slug"`
	Status      string  `json:"status"`
	TeamID      string  `json:"team_id"`
	PublishedAt *string `json:"published_at"`
}

func campaignData(t *testing.T, ev store.Event) restCampaign {
	t.Helper()
	var c restCampaign
	if err := json.Unmarshal(ev.Payload, &c); err != nil {
		t.Fatalf("%s payload %s: %v", ev.Type, ev.Payload, err)
	}
	return c
}

// patchCampaign applies a change to a campaign's spec, as kubectl edit does, and waits until
// the controller has seen it.
func patchCampaign(t *testing.T, cmp *qualv1alpha1.Campaign, change func(*qualv1alpha1.CampaignSpec), reason string) {
	t.Helper()
	patch := client.MergeFrom(cmp.DeepCopy())
	change(&cmp.Spec)
	if err := k8s.Patch(context.Background(), cmp, patch); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, reason)
}

func TestCampaignChangesAreAnnouncedOnceEach(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("announced"), member("o@a.example", qualv1alpha1.RoleOwner)))
	cmp := newCampaign(uniqueName("announced"), qualv1alpha1.StateDraft)
	cmp.Namespace = team.Status.Namespace
	if err := k8s.Create(ctx, cmp); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Draft")
	evs := expectOutbox(t, team.UID, cmp.UID, events.CampaignCreated)
	created := evs[0]
	if created.ID != events.ID(events.CampaignCreated, string(cmp.UID), "created") || created.CampaignID != store.CampaignID(cmp.UID) {
		t.Fatalf("created event id %s campaign %s", created.ID, created.CampaignID)
	}
	if c := campaignData(t, created); c.ID != string(cmp.UID) || c.Slug != cmp.Name || c.Status != "draft" || c.TeamID != string(team.UID) || c.Title != cmp.Spec.Title {
		t.Fatalf("created data %s", created.Payload)
	}
	reconcileIsSteady(t, reconcilers.Campaign, cmp)

	patchCampaign(t, cmp, func(s *qualv1alpha1.CampaignSpec) { s.Title = "Renamed study" }, "Draft")
	evs = expectOutbox(t, team.UID, cmp.UID, events.CampaignCreated, events.CampaignUpdated)
	if c := campaignData(t, evs[1]); c.Title != "Renamed study" || evs[1].ID != events.ID(events.CampaignUpdated, string(cmp.UID), fmt.Sprint(cmp.Generation)) {
		t.Fatalf("updated event %s: %s", evs[1].ID, evs[1].Payload)
	}

	// Each publish-state move is its own event, never an update besides.
	patchCampaign(t, cmp, func(s *qualv1alpha1.CampaignSpec) { s.State = qualv1alpha1.StateActive }, "Active")
	evs = expectOutbox(t, team.UID, cmp.UID, events.CampaignCreated, events.CampaignUpdated, events.CampaignPublished)
	if c := campaignData(t, evs[2]); c.Status != "active" || c.PublishedAt == nil {
		t.Fatalf("published data %s", evs[2].Payload)
	}
	patchCampaign(t, cmp, func(s *qualv1alpha1.CampaignSpec) { s.State = qualv1alpha1.StatePaused }, "Paused")
	patchCampaign(t, cmp, func(s *qualv1alpha1.CampaignSpec) { s.State = qualv1alpha1.StateCompleted }, "Completed")
	want := []string{events.CampaignCreated, events.CampaignUpdated, events.CampaignPublished, events.CampaignPaused, events.CampaignCompleted}
	evs = expectOutbox(t, team.UID, cmp.UID, want...)
	if c := campaignData(t, evs[4]); c.Status != "completed" {
		t.Fatalf("completed data %s", evs[4].Payload)
	}
	// Reconciling again, as a resync or a second manager does, writes no event twice.
	reconcileIsSteady(t, reconcilers.Campaign, cmp)
	if _, err := reconcilers.Campaign.Reconcile(ctx, requestFor(cmp)); err != nil {
		t.Fatal(err)
	}
	if got := typesOf(outboxOf(t, team.UID, cmp.UID)); !slices.Equal(got, want) {
		t.Fatalf("a reconcile with nothing new wrote events: %v", got)
	}

	// The deletion erases the campaign's data and is announced after it, not while the data
	// cannot be deleted and the campaign stays; the campaign's own events stay, so a webhook
	// still receives each of them, then the deletion.
	campaignDB.failing.Store(true)
	t.Cleanup(func() { campaignDB.failing.Store(false) })
	if err := k8s.Delete(ctx, cmp); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, cmp, "DataCleanupFailed")
	if got := typesOf(outboxOf(t, team.UID, cmp.UID)); !slices.Equal(got, want) {
		t.Fatalf("outbox %v while the campaign's data is still there", got)
	}
	campaignDB.failing.Store(false)
	eventually(t, "campaign gone", func() error { return gone(ctx, cmp) })
	evs = expectOutbox(t, team.UID, cmp.UID, append(want, events.CampaignDeleted)...)
	if c := campaignData(t, evs[5]); c.ID != string(cmp.UID) || evs[5].ID != events.ID(events.CampaignDeleted, string(cmp.UID), "deleted") {
		t.Fatalf("deleted event %s: %s", evs[5].ID, evs[5].Payload)
	}
}

// A campaign created already published, in one edit, is created and published.
func TestCampaignCreatedPublishedIsBothEvents(t *testing.T) {
	team := readyTeam(t, newTeam(uniqueName("live"), member("o@l.example", qualv1alpha1.RoleOwner)))
	cmp := newCampaign(uniqueName("live"), qualv1alpha1.StateActive)
	cmp.Namespace = team.Status.Namespace
	if err := k8s.Create(context.Background(), cmp); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
	expectOutbox(t, team.UID, cmp.UID, events.CampaignCreated, events.CampaignPublished)
	reconcileIsSteady(t, reconcilers.Campaign, cmp)
}

// A failed outbox write records nothing of the change in status, so the retry finds the
// change again and writes each event once.
func TestCampaignEventWriteIsRetried(t *testing.T) {
	team := readyTeam(t, newTeam(uniqueName("retried"), member("o@r.example", qualv1alpha1.RoleOwner)))
	cmp := newCampaign(uniqueName("retried"), qualv1alpha1.StateDraft)
	cmp.Namespace = team.Status.Namespace
	if err := k8s.Create(context.Background(), cmp); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Draft")
	outbox.failing.Store(true)
	t.Cleanup(func() { outbox.failing.Store(false) })
	setState(t, cmp, qualv1alpha1.StateActive)
	eventually(t, "the failed write reported", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(cmp), cmp); err != nil {
			return err
		}
		return conditionIs(cmp.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionFalse, "ReconcileError")
	})
	if cmp.Status.Phase != qualv1alpha1.StateDraft || cmp.Status.ObservedGeneration == cmp.Generation {
		t.Fatalf("the move was recorded without its event: %+v", cmp.Status)
	}
	outbox.failing.Store(false)
	waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
	expectOutbox(t, team.UID, cmp.UID, events.CampaignCreated, events.CampaignPublished)
}

type restMember struct {
	TeamID string  `json:"team_id"`
	Email  string  `json:"email"`
	Role   string  `json:"role"`
	UserID *string `json:"user_id"`
}

func memberData(t *testing.T, ev store.Event) restMember {
	t.Helper()
	var m restMember
	if err := json.Unmarshal(ev.Payload, &m); err != nil {
		t.Fatalf("%s payload %s: %v", ev.Type, ev.Payload, err)
	}
	return m
}

// setMembers replaces a team's members, as kubectl edit does.
func setMembers(t *testing.T, team *qualv1alpha1.Team, members []qualv1alpha1.TeamMember) {
	t.Helper()
	patch := client.MergeFrom(team.DeepCopy())
	team.Spec.Members = members
	if err := k8s.Patch(context.Background(), team, patch); err != nil {
		t.Fatal(err)
	}
}

func TestTeamMembersJoiningAndLeavingAreAnnounced(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("crew"), member("owner@crew.example", qualv1alpha1.RoleOwner)))
	evs := expectOutbox(t, team.UID, team.UID, events.MemberAdded)
	if m := memberData(t, evs[0]); m.Email != "owner@crew.example" || m.Role != "owner" || m.TeamID != string(team.UID) {
		t.Fatalf("added data %s", evs[0].Payload)
	}
	if !slices.Equal(team.Status.ObservedMembers, []string{"owner@crew.example"}) {
		t.Fatalf("observedMembers %v", team.Status.ObservedMembers)
	}
	reconcileIsSteady(t, reconcilers.Team, team)

	// One edit adds a member and changes a role: only the newcomer is announced.
	setMembers(t, team, append(team.Spec.Members, qualv1alpha1.TeamMember{Email: "dev@crew.example", UserID: "u-dev", Role: qualv1alpha1.RoleMember}))
	evs = expectOutbox(t, team.UID, team.UID, events.MemberAdded, events.MemberAdded)
	if m := memberData(t, evs[1]); m.Email != "dev@crew.example" || m.UserID == nil || *m.UserID != "u-dev" ||
		evs[1].ID != events.ID(events.MemberAdded, string(team.UID), "dev@crew.example/"+fmt.Sprint(team.Generation)) {
		t.Fatalf("added event %s: %s", evs[1].ID, evs[1].Payload)
	}

	setMembers(t, team, team.Spec.Members[:1])
	evs = expectOutbox(t, team.UID, team.UID, events.MemberAdded, events.MemberAdded, events.MemberRemoved)
	if m := memberData(t, evs[2]); m.Email != "dev@crew.example" || m.TeamID != string(team.UID) {
		t.Fatalf("removed data %s", evs[2].Payload)
	}
	eventually(t, "observedMembers follow", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		if !slices.Equal(team.Status.ObservedMembers, []string{"owner@crew.example"}) {
			return fmt.Errorf("observedMembers %v", team.Status.ObservedMembers)
		}
		return nil
	})
	reconcileIsSteady(t, reconcilers.Team, team)
	if got := len(outboxOf(t, team.UID, team.UID)); got != 3 {
		t.Fatalf("%d member events after a steady reconcile, want 3", got)
	}

	// A failed write leaves observedMembers as they were: the retry announces the newcomer once.
	outbox.failing.Store(true)
	t.Cleanup(func() { outbox.failing.Store(false) })
	setMembers(t, team, append(team.Spec.Members, member("late@crew.example", qualv1alpha1.RoleViewer)))
	eventually(t, "the failed write reported", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionFalse, "ReconcileError")
	})
	if !slices.Equal(team.Status.ObservedMembers, []string{"owner@crew.example"}) {
		t.Fatalf("observedMembers %v recorded without their events", team.Status.ObservedMembers)
	}
	outbox.failing.Store(false)
	readyAgain := func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Reconciled")
	}
	eventually(t, "team ready again", readyAgain)
	expectOutbox(t, team.UID, team.UID, events.MemberAdded, events.MemberAdded, events.MemberRemoved, events.MemberAdded)
}

type restKey struct {
	ID        string  `json:"id"`
	Prefix    string  `json:"prefix"`
	LastFour  string  `json:"last_four"`
	TeamID    *string `json:"team_id"`
	RevokedAt *string `json:"revoked_at"`
}

func TestAPIKeyCreationAndRevocationAreAnnounced(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("keyed"), member("o@k.example", qualv1alpha1.RoleOwner)))
	key := keyIn(team.Status.Namespace, "minted", qualv1alpha1.KeySecret)
	if err := k8s.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")
	evs := expectOutbox(t, team.UID, key.UID, events.APIKeyCreated)
	var data restKey
	if err := json.Unmarshal(evs[0].Payload, &data); err != nil {
		t.Fatal(err)
	}
	if data.ID != string(key.UID) || data.Prefix != key.Status.Prefix || data.LastFour != key.Status.LastFour ||
		data.TeamID == nil || *data.TeamID != string(team.UID) || data.RevokedAt != nil {
		t.Fatalf("created data %s", evs[0].Payload)
	}
	// Neither the plaintext nor its hash leaves the cluster in an event.
	for _, v := range []string{plaintextOf(t, key), key.Status.HashRef} {
		if v == "" || strings.Contains(string(evs[0].Payload), v) {
			t.Fatalf("created data %s holds key material %q", evs[0].Payload, v)
		}
	}
	reconcileIsSteady(t, reconcilers.APIKey, key)

	patch := client.MergeFrom(key.DeepCopy())
	key.Spec.Revoked = true
	if err := k8s.Patch(ctx, key, patch); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionFalse, "Revoked")
	evs = expectOutbox(t, team.UID, key.UID, events.APIKeyCreated, events.APIKeyRevoked)
	if err := json.Unmarshal(evs[1].Payload, &data); err != nil || data.RevokedAt == nil {
		t.Fatalf("revoked data %s (%v)", evs[1].Payload, err)
	}
	reconcileIsSteady(t, reconcilers.APIKey, key)
	if got := len(outboxOf(t, team.UID, key.UID)); got != 2 {
		t.Fatalf("%d key events after a steady reconcile, want 2", got)
	}
}

// A key whose credential copies another's never authenticates and the REST API does not show
// it, so no api_key.* event speaks of it: not when it is refused, nor when it is revoked (a
// departing manager's keys are), which would carry the other key's prefix and last four.
func TestACopiedKeyIsNeverAnnounced(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("copied"), member("o@c.example", qualv1alpha1.RoleOwner)))
	made := func(name string, credential *qualv1alpha1.APIKeyCredential, ready metav1.ConditionStatus, reason string) *qualv1alpha1.APIKey {
		key := keyIn(team.Status.Namespace, name, qualv1alpha1.KeySecret)
		key.Spec.Credential = credential
		if err := k8s.Create(ctx, key); err != nil {
			t.Fatal(err)
		}
		waitKey(t, key, ready, reason)
		return key
	}
	original := made("original", nil, metav1.ConditionTrue, "Active")
	time.Sleep(1100 * time.Millisecond) // creation times are whole seconds: a copy is made later
	copied := made("copy", &qualv1alpha1.APIKeyCredential{HashRef: original.Status.HashRef,
		Prefix: original.Status.Prefix, LastFour: original.Status.LastFour}, metav1.ConditionFalse, "CredentialInUse")
	patch := client.MergeFrom(copied.DeepCopy())
	copied.Spec.Revoked = true
	if err := k8s.Patch(ctx, copied, patch); err != nil {
		t.Fatal(err)
	}
	waitKey(t, copied, metav1.ConditionFalse, "Revoked")
	if copied.Status.RevokedAt == nil {
		t.Fatalf("revoked status %+v", copied.Status)
	}
	reconcileIsSteady(t, reconcilers.APIKey, copied)
	if evs := outboxOf(t, team.UID, copied.UID); len(evs) != 0 {
		t.Fatalf("the copy was announced: %v", typesOf(evs))
	}
	expectOutbox(t, team.UID, original.UID, events.APIKeyCreated)
}

func plaintextOf(t *testing.T, key *qualv1alpha1.APIKey) string {
	t.Helper()
	if key.Status.SecretRef == nil {
		t.Fatal("no secretRef")
	}
	secret := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: key.Namespace, Name: key.Status.SecretRef.Name}, secret); err != nil {
		t.Fatal(err)
	}
	return string(secret.Data[controllers.APIKeySecretKey])
}
