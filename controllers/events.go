package controllers

import (
	"context"
	"fmt"

	"qual.cx/operator/internal/store"
)

// Outbox is where the controllers write the webhook events of the changes they observe
// (events.Outbox). A nil Outbox writes none: the manager runs without a store.
type Outbox interface {
	// TeamOf returns the UID of the team owning a namespace, or "" when it is no team's.
	TeamOf(ctx context.Context, namespace string) (string, error)
	// Emit writes events to a team's outbox in order; one whose id is already there is left
	// as it is.
	Emit(ctx context.Context, teamUID string, evs ...store.NewEvent) error
}

// eventBuilder renders one event for the team teamUID.
type eventBuilder func(teamUID string) (store.NewEvent, error)

// emitInNamespace writes the events of an object in a namespace to the outbox of the team
// owning it. Nothing is written for an object in no team's namespace: no webhook hears of it.
func emitInNamespace(ctx context.Context, outbox Outbox, namespace string, builders ...eventBuilder) error {
	if outbox == nil || len(builders) == 0 {
		return nil
	}
	team, err := outbox.TeamOf(ctx, namespace)
	if err != nil || team == "" {
		return err
	}
	evs := make([]store.NewEvent, 0, len(builders))
	for _, build := range builders {
		ev, err := build(team)
		if err != nil {
			return err
		}
		evs = append(evs, ev)
	}
	if err := outbox.Emit(ctx, team, evs...); err != nil {
		return fmt.Errorf("announce changes in %s: %w", namespace, err)
	}
	return nil
}
