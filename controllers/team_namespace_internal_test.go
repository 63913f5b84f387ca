package controllers

import (
	"context"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// A team stored before the schema refused adding spec.namespace, with one that differs from
// the namespace it owns, stalls rather than move: its campaigns, data and RBAC stay where
// they are. (The client is never reached: the check comes first.)
func TestTeamNamespaceNeverMoves(t *testing.T) {
	r := &TeamReconciler{}
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "gamma"},
		Spec: qualv1alpha1.TeamSpec{Namespace: "gamma-moved"}, Status: qualv1alpha1.TeamStatus{Namespace: "team-gamma"}}
	var st *stalledError
	if err := r.reconcileNamespace(context.Background(), team); !errors.As(err, &st) || st.reason != "NamespaceMoved" {
		t.Fatalf("want a NamespaceMoved stall, got %v", err)
	}
	if team.Status.Namespace != "team-gamma" {
		t.Fatalf("status moved to %s", team.Status.Namespace)
	}
}
