package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

const campaignNS = "campaigns-test"

func newCampaign(name string, state qualv1alpha1.CampaignState) *qualv1alpha1.Campaign {
	return &qualv1alpha1.Campaign{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: campaignNS},
		Spec:       qualv1alpha1.CampaignSpec{Title: "Study " + name, State: state, MaxQuestions: 5},
	}
}

// waitCampaign waits until the campaign's Ready condition has the given status and reason.
func waitCampaign(t *testing.T, cmp *qualv1alpha1.Campaign, ready metav1.ConditionStatus, reason string) {
	t.Helper()
	eventually(t, "campaign "+reason, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(cmp), cmp); err != nil {
			return err
		}
		if cmp.Status.ObservedGeneration != cmp.Generation {
			return fmt.Errorf("generation %d not observed yet", cmp.Generation)
		}
		return conditionIs(cmp.Status.Conditions, qualv1alpha1.ConditionReady, ready, reason)
	})
}

func setState(t *testing.T, cmp *qualv1alpha1.Campaign, state qualv1alpha1.CampaignState) {
	t.Helper()
	patch := client.MergeFrom(cmp.DeepCopy())
	cmp.Spec.State = state
	if err := k8s.Patch(context.Background(), cmp, patch); err != nil {
		t.Fatal(err)
	}
}

func TestCampaignMovesThroughItsLifecycle(t *testing.T) {
	ensureTeamNamespace(t, campaignNS)
	cmp := newCampaign(uniqueName("lifecycle"), qualv1alpha1.StateDraft)
	if err := k8s.Create(context.Background(), cmp); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Draft")
	if cmp.Status.Phase != qualv1alpha1.StateDraft || cmp.Status.PublishedAt != nil {
		t.Fatalf("draft status %+v", cmp.Status)
	}
	reconcileIsSteady(t, reconcilers.Campaign, cmp)

	setState(t, cmp, qualv1alpha1.StateActive)
	waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
	published := cmp.Status.PublishedAt
	if published == nil {
		t.Fatal("publishedAt not set")
	}
	setState(t, cmp, qualv1alpha1.StatePaused)
	waitCampaign(t, cmp, metav1.ConditionTrue, "Paused")
	if cmp.Status.PausedAt == nil {
		t.Fatal("pausedAt not set")
	}
	setState(t, cmp, qualv1alpha1.StateActive)
	waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
	if !cmp.Status.PublishedAt.Equal(published) {
		t.Fatalf("resuming moved publishedAt from %v to %v", published, cmp.Status.PublishedAt)
	}
	setState(t, cmp, qualv1alpha1.StateCompleted)
	waitCampaign(t, cmp, metav1.ConditionTrue, "Completed")
	if cmp.Status.CompletedAt == nil || cmp.Status.Phase != qualv1alpha1.StateCompleted {
		t.Fatalf("completed status %+v", cmp.Status)
	}
	reconcileIsSteady(t, reconcilers.Campaign, cmp)
	for _, reason := range []string{"Published", "Paused", "Resumed", "Completed"} {
		expectEvent(t, cmp, reason)
	}
}

// A campaign applied as Active was never a Draft: its Published Event says it was created
// Active, while a draft's publish says it moved from Draft.
func TestCampaignCreatedActiveEventSaysSo(t *testing.T) {
	ensureTeamNamespace(t, campaignNS)
	born := newCampaign(uniqueName("born-active"), qualv1alpha1.StateActive)
	drafted := newCampaign(uniqueName("drafted"), qualv1alpha1.StateDraft)
	for _, cmp := range []*qualv1alpha1.Campaign{born, drafted} {
		if err := k8s.Create(context.Background(), cmp); err != nil {
			t.Fatal(err)
		}
	}
	waitCampaign(t, drafted, metav1.ConditionTrue, "Draft")
	setState(t, drafted, qualv1alpha1.StateActive)
	for cmp, want := range map[*qualv1alpha1.Campaign]string{
		born:    "campaign created Active: published on creation, never a draft",
		drafted: "campaign moved from Draft to Active",
	} {
		waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
		eventually(t, "the Published event of "+cmp.Name, func() error {
			list := &eventsv1.EventList{}
			if err := k8s.List(context.Background(), list, client.InNamespace(campaignNS)); err != nil {
				return err
			}
			for _, e := range list.Items {
				if e.Regarding.UID == cmp.UID && e.Reason == "Published" {
					if e.Note != want {
						t.Fatalf("%s: Published says %q, want %q", cmp.Name, e.Note, want)
					}
					return nil
				}
			}
			return fmt.Errorf("no Published event for %s", cmp.Name)
		})
	}
}

// A phase written to the status by hand, which no legal move of the spec leads from, is
// re-derived from the spec at once, not stalled on: status is observed state, and REST reads
// the spec. The correction is no move, so no Event announces it; the campaign then settles.
func TestCampaignHandWrittenPhaseIsRederivedFromTheSpec(t *testing.T) {
	ensureTeamNamespace(t, campaignNS)
	cmp := newCampaign(uniqueName("forged"), qualv1alpha1.StateActive)
	if err := k8s.Create(context.Background(), cmp); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
	published := cmp.Status.PublishedAt
	forged := client.MergeFrom(cmp.DeepCopy())
	cmp.Status.Phase = qualv1alpha1.StateCompleted
	cmp.Status.CompletedAt = &metav1.Time{Time: time.Now()}
	if err := k8s.Status().Patch(context.Background(), cmp, forged); err != nil {
		t.Fatal(err)
	}
	eventually(t, "phase re-derived", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(cmp), cmp); err != nil {
			return err
		}
		if cmp.Status.Phase != qualv1alpha1.StateActive || cmp.Status.CompletedAt != nil {
			return fmt.Errorf("phase %s, completedAt %v", cmp.Status.Phase, cmp.Status.CompletedAt)
		}
		return nil
	})
	if err := conditionIs(cmp.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Active"); err != nil {
		t.Fatal(err)
	}
	if !cmp.Status.PublishedAt.Equal(published) {
		t.Fatalf("publishedAt moved from %v to %v", published, cmp.Status.PublishedAt)
	}
	reconcileIsSteady(t, reconcilers.Campaign, cmp)

	// The next legal move of the spec is followed from there.
	setState(t, cmp, qualv1alpha1.StatePaused)
	waitCampaign(t, cmp, metav1.ConditionTrue, "Paused")
	expectEvent(t, cmp, "Paused")
	if err := conditionIs(cmp.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, ""); err == nil {
		t.Fatal("stalled")
	}
}

// Two legal moves that land before the controller accepts the first (Draft to Active to
// Completed) are followed, not stalled on as one illegal jump: nothing could undo it.
func TestCampaignFollowsMovesFasterThanItself(t *testing.T) {
	ensureTeamNamespace(t, campaignNS)
	cmp := newCampaign(uniqueName("quick"), qualv1alpha1.StateDraft)
	if err := k8s.Create(context.Background(), cmp); err != nil {
		t.Fatal(err)
	}
	setState(t, cmp, qualv1alpha1.StateActive)
	setState(t, cmp, qualv1alpha1.StateCompleted)
	waitCampaign(t, cmp, metav1.ConditionTrue, "Completed")
	if cmp.Status.Phase != qualv1alpha1.StateCompleted || cmp.Status.PublishedAt == nil || cmp.Status.CompletedAt == nil {
		t.Fatalf("status %+v", cmp.Status)
	}
}

func TestCampaignDeletionRemovesStoreDataFirst(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("research"), member("o@r.example", qualv1alpha1.RoleOwner)))
	doomed, kept := newCampaign(uniqueName("deleted"), qualv1alpha1.StateActive), newCampaign(uniqueName("kept"), qualv1alpha1.StateActive)
	for _, cmp := range []*qualv1alpha1.Campaign{doomed, kept} {
		cmp.Namespace = team.Status.Namespace
		if err := k8s.Create(ctx, cmp); err != nil {
			t.Fatal(err)
		}
		waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
	}
	rows := db.Team(store.TeamID(team.UID))
	doomedInterview := seedInterview(t, rows, doomed)
	keptInterview := seedInterview(t, rows, kept)

	campaignDB.failing.Store(true)
	if err := k8s.Delete(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, doomed, "DataCleanupFailed")
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(doomed), doomed); err != nil {
		t.Fatalf("the campaign must stay while its data cannot be deleted: %v", err)
	}
	campaignDB.failing.Store(false)
	eventually(t, "campaign gone", func() error { return gone(ctx, doomed) })
	if _, err := rows.GetInterview(ctx, doomedInterview); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the deleted campaign's interview is still in the store: %v", err)
	}
	if _, err := rows.GetInterview(ctx, keptInterview); err != nil {
		t.Fatalf("another campaign's interview was deleted: %v", err)
	}
}

func TestCampaignCountsRollUpFromTheStore(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("counted"), member("o@c.example", qualv1alpha1.RoleOwner)))
	cmp := newCampaign(uniqueName("counted"), qualv1alpha1.StateActive)
	cmp.Namespace = team.Status.Namespace
	if err := k8s.Create(ctx, cmp); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
	rows := db.Team(store.TeamID(team.UID))
	seedInterview(t, rows, cmp)
	if _, err := rows.EndInterview(ctx, seedInterview(t, rows, cmp), store.InterviewCompleted); err != nil {
		t.Fatal(err)
	}
	// The periodic roll-up is a minute away; a reconcile now does the same work.
	result, err := reconcilers.Campaign.Reconcile(ctx, requestFor(cmp))
	if err != nil {
		t.Fatal(err)
	}
	if result.RequeueAfter <= 0 {
		t.Fatal("a live campaign must schedule its next roll-up")
	}
	eventually(t, "interviewCount", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cmp), cmp); err != nil {
			return err
		}
		if st := cmp.Status; st.InterviewCount != 2 || st.CompletedInterviewCount != 1 || st.FindingCount != 0 {
			return fmt.Errorf("counts %d (%d completed)/%d", st.InterviewCount, st.CompletedInterviewCount, st.FindingCount)
		}
		return nil
	})
	reconcileIsSteady(t, reconcilers.Campaign, cmp)
}

// seedInterview stores an interview with a message for a campaign, as the REST API would.
func seedInterview(t *testing.T, rows store.TeamStore, cmp *qualv1alpha1.Campaign) store.InterviewID {
	t.Helper()
	ctx := context.Background()
	iv, err := rows.CreateInterview(ctx, store.NewInterview{CampaignID: store.CampaignID(cmp.UID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rows.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleInterviewer, Content: "What brought you here?"}); err != nil {
		t.Fatal(err)
	}
	return iv.ID
}

func TestCampaignStatusConflictIsRetried(t *testing.T) {
	ensureTeamNamespace(t, campaignNS)
	before := conflicts.Load()
	cmp := newCampaign(uniqueName("conflict"), qualv1alpha1.StateActive)
	if err := k8s.Create(context.Background(), cmp); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Active")
	if conflicts.Load() == before {
		t.Fatal("no conflict was injected")
	}
	if cmp.Status.PublishedAt == nil {
		t.Fatal("the retried write lost publishedAt")
	}
	// The move is announced once, when it was written: not by the pass whose write failed.
	expectEvent(t, cmp, "Published")
	reconcileIsSteady(t, reconcilers.Campaign, cmp)
	if n := countEvents(t, cmp, "Published"); n != 1 {
		t.Fatalf("%d Published events, want 1", n)
	}
}

// countEvents counts the Events with the given reason about obj.
func countEvents(t *testing.T, obj client.Object, reason string) int {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(eventNamespace(obj))); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list.Items {
		if e.Regarding.UID == obj.GetUID() && e.Reason == reason {
			n += max(1, int(seriesCount(e)))
		}
	}
	return n
}

func seriesCount(e eventsv1.Event) int32 {
	if e.Series != nil {
		return e.Series.Count
	}
	return 1
}

// expectEvent waits for an Event with the given reason about obj.
func expectEvent(t *testing.T, obj client.Object, reason string) {
	t.Helper()
	eventually(t, "event "+reason, func() error {
		list := &eventsv1.EventList{}
		if err := k8s.List(context.Background(), list, client.InNamespace(eventNamespace(obj))); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.UID == obj.GetUID() && e.Reason == reason {
				return nil
			}
		}
		return fmt.Errorf("no %s event for %s", reason, obj.GetName())
	})
}

func eventNamespace(obj client.Object) string {
	if ns := obj.GetNamespace(); ns != "" {
		return ns
	}
	return metav1.NamespaceDefault
}
