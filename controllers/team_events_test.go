package controllers_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// A Team's own Events (KeyRevoked, its stalls) are recorded in `default`, as the events
// recorder does for every cluster-scoped object and where `kubectl describe team` finds them,
// not in the team's namespace, where the team's admins read Events: the API server takes an
// Event about a cluster-scoped object only in `default` or `kube-system`. This holds the rule
// docs/architecture.md gives as the reason they stay there.
func TestTeamEventsCannotBeRecordedInTheTeamNamespace(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("events-home"), member("owner@events-home.example", qualv1alpha1.RoleOwner)))
	event := func(namespace string) *eventsv1.Event {
		return &eventsv1.Event{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "team-event-", Namespace: namespace},
			EventTime:  metav1.NowMicro(), ReportingController: "qual.cx/test", ReportingInstance: "test",
			Action: "Test", Reason: "Test", Type: corev1.EventTypeNormal, Note: "about the team",
			Regarding: corev1.ObjectReference{APIVersion: qualv1alpha1.GroupVersion.String(), Kind: "Team",
				Name: team.Name, UID: team.UID},
		}
	}
	if err := k8s.Create(ctx, event(team.Status.Namespace)); !apierrors.IsInvalid(err) {
		t.Fatalf("an Event about the Team in its namespace %s: %v, want it refused as invalid", team.Status.Namespace, err)
	}
	inDefault := event(metav1.NamespaceDefault)
	if err := k8s.Create(ctx, inDefault); err != nil {
		t.Fatalf("an Event about the Team in default: %v", err)
	}
	_ = k8s.Delete(ctx, inDefault)
}
