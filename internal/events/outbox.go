package events

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// Outbox writes events to the outbox of a team in the store.
type Outbox struct {
	// Namespaces reads a namespace's team label: the manager's cached client, since
	// namespaces are in its cache anyway.
	Namespaces client.Reader
	Store      store.Store
}

// TeamOf returns the UID of the team owning a namespace, or "" when it is no team's (then no
// webhook can hear of what happens there).
func (o Outbox) TeamOf(ctx context.Context, namespace string) (string, error) {
	ns := &corev1.Namespace{}
	if err := o.Namespaces.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("events: namespace %s: %w", namespace, err)
	}
	return ns.Labels[qualv1alpha1.LabelTeamUID], nil
}

// Emit writes events to a team's outbox in order. Each has a derived id, so writing one
// again, as a retry after a partial failure does, leaves the stored one untouched.
func (o Outbox) Emit(ctx context.Context, teamUID string, evs ...store.NewEvent) error {
	rows := o.Store.Team(store.TeamID(teamUID))
	for _, ev := range evs {
		if _, err := rows.AddEvent(ctx, ev); err != nil {
			return fmt.Errorf("events: write %s %s: %w", ev.Type, ev.ID, err)
		}
	}
	return nil
}
