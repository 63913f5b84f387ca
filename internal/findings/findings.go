// Package findings keeps a campaign's findings: the manual ones people write and the ones an
// analysis job makes from the completed interviews. Every change is one store transaction with
// its outbox event. Analyses run as durable jobs on a River queue that lives in the store's own
// database (queue.go); the job itself (run.go) is idempotent, so a job that runs again after a
// crash changes nothing twice.
package findings

import (
	"context"
	"encoding/json"
	"fmt"

	"qual.cx/operator/internal/store"
)

// Event types this package writes to the outbox.
const (
	EventFindingCreated    = store.EventFindingCreated
	EventFindingUpdated    = store.EventFindingUpdated
	EventAnalysisCompleted = "analysis.completed"
)

// Create stores a manual finding and announces it, in one transaction.
func Create(ctx context.Context, ts store.TeamStore, in store.NewFinding) (store.Finding, error) {
	in.Source, in.Key = store.SourceManual, ""
	var f store.Finding
	err := ts.InTx(ctx, func(tx store.TeamStore) error {
		var err error
		if f, err = tx.CreateFinding(ctx, in); err != nil {
			return err
		}
		return store.AnnounceFinding(ctx, tx, EventFindingCreated, f)
	})
	if err != nil {
		return store.Finding{}, fmt.Errorf("findings: create: %w", err)
	}
	return f, nil
}

// Update patches a finding and announces it, in one transaction.
func Update(ctx context.Context, ts store.TeamStore, id store.FindingID, p store.FindingPatch) (store.Finding, error) {
	var f store.Finding
	err := ts.InTx(ctx, func(tx store.TeamStore) error {
		var changed bool
		var err error
		if f, changed, err = tx.UpdateFinding(ctx, id, p); err != nil || !changed {
			return err // a patch that changed nothing is no event
		}
		return store.AnnounceFinding(ctx, tx, EventFindingUpdated, f)
	})
	if err != nil {
		return store.Finding{}, fmt.Errorf("findings: update: %w", err)
	}
	return f, nil
}

// announce writes an event whose payload is a REST representation of subject, an object of
// the campaign: deliveries keep order per subject, and the event goes with the campaign's data.
func announce(ctx context.Context, tx store.TeamStore, typ string, subject string, campaign store.CampaignID, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("findings: render %s: %w", typ, err)
	}
	_, err = tx.AddEvent(ctx, store.NewEvent{Type: typ, Subject: subject, CampaignID: campaign, Payload: payload})
	return err
}
