// Package storetest is the conformance suite every store backend must pass, run unchanged
// against SQLite and PostgreSQL.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"

	"qual.cx/operator/internal/store"
)

// NewDSN returns the DSN of a fresh, empty database for one test.
type NewDSN func(t *testing.T) string

// Run runs the suite. Each case gets its own database from newDSN.
func Run(t *testing.T, newDSN NewDSN) {
	cases := []struct {
		name string
		fn   func(*testing.T, NewDSN)
	}{
		{"Interviews", testInterviews},
		{"ParticipantTokens", testParticipantTokens},
		{"Messages", testMessages},
		{"ConcurrentAppend", testConcurrentAppend},
		{"AppendSequence", testAppendSequence},
		{"ConcurrentTurns", testConcurrentTurns},
		{"InterviewCounts", testInterviewCounts},
		{"ConcurrentCounts", testConcurrentCounts},
		{"EndCampaignInterviews", testEndCampaignInterviews},
		{"IdleSweep", testIdleSweep},
		{"ConcurrentSweep", testConcurrentSweep},
		{"Findings", testFindings},
		{"TopFindings", testTopFindings},
		{"Analyses", testAnalyses},
		{"ListAnalyses", testListAnalyses},
		{"SyncAnalysisFindings", testSyncAnalysisFindings},
		{"SyncCarriesKeys", testSyncCarriesKeys},
		{"SyncAfterErasure", testSyncAfterErasure},
		{"ErasureAnnouncesFindings", testErasureAnnouncesFindings},
		{"ErasureBurstAnnouncesChanges", testErasureBurstAnnouncesChanges},
		{"ActiveAnalysis", testActiveAnalysis},
		{"ShareLinks", testShareLinks},
		{"CredentialClaims", testCredentialClaims},
		{"Idempotency", testIdempotency},
		{"DeadClaimBindsItsKey", testDeadClaimBindsItsKey},
		{"OutlivedClaimLeavesTheRepeats", testOutlivedClaimLeavesTheRepeats},
		{"ReplayAfterErasure", testReplayAfterErasure},
		{"CampaignReplaysGone", testCampaignReplaysGone},
		{"InterviewReplaysGone", testInterviewReplaysGone},
		{"RacedStartsAreGone", testRacedStartsAreGone},
		{"OutboxAndDeliveries", testOutboxAndDeliveries},
		{"EventIdentity", testEventIdentity},
		{"DeliveryFields", testDeliveryFields},
		{"DispatchEvents", testDispatchEvents},
		{"ConcurrentDispatch", testConcurrentDispatch},
		{"StrandedDeliveries", testStrandedDeliveries},
		{"HeldTimeIsNotFailing", testHeldTimeIsNotFailing},
		{"PruneDeliveries", testPruneDeliveries},
		{"WebhookHealth", testWebhookHealth},
		{"OlderPendingDelivery", testOlderPendingDelivery},
		{"DeleteWebhookData", testDeleteWebhookData},
		{"EventErasure", testEventErasure},
		{"PaginationSorts", testPaginationSorts},
		{"PaginationInserts", testPaginationInserts},
		{"PaginationFilters", testPaginationFilters},
		{"ParticipantFilters", testParticipantFilters},
		{"PageRequestValidation", testPageRequestValidation},
		{"TenantIsolation", testTenantIsolation},
		{"TxRollback", testTxRollback},
		{"Retention", testRetention},
		{"MigrationsIdempotent", testMigrationsIdempotent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, newDSN)
		})
	}
}

// open opens a store on dsn and closes it when the test ends.
func open(t *testing.T, dsn string, opts ...store.Option) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// fixture is a fresh store with two teams and a campaign id for each.
type fixture struct {
	ctx    context.Context
	s      store.Store
	a, b   store.TeamStore
	campA  store.CampaignID
	campB  store.CampaignID
	newDSN NewDSN
}

func setup(t *testing.T, newDSN NewDSN, opts ...store.Option) *fixture {
	t.Helper()
	s := open(t, newDSN(t), opts...)
	return &fixture{ctx: context.Background(), s: s,
		a: s.Team(store.TeamID(uuid.NewString())), b: s.Team(store.TeamID(uuid.NewString())),
		campA: store.CampaignID(uuid.NewString()), campB: store.CampaignID(uuid.NewString()), newDSN: newDSN}
}

// must(call())(t) returns the value of a (value, error) call, failing the test on the error.
// The extra call lets a two-result call be the sole argument, which Go requires.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// updated is must for UpdateFinding, whose changed flag it also returns.
func updated(v store.Finding, changed bool, err error) func(t *testing.T) (store.Finding, bool) {
	return func(t *testing.T) (store.Finding, bool) {
		t.Helper()
		return must(v, err)(t), changed
	}
}

// ok fails the test on err.
func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// isErr fails the test unless err wraps want.
func isErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// same compares values by their JSON form, which compares times as instants.
func same(t *testing.T, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}

// interview starts an interview in a campaign.
func interview(t *testing.T, ts store.TeamStore, c store.CampaignID) store.Interview {
	t.Helper()
	return must(ts.CreateInterview(context.Background(), store.NewInterview{CampaignID: c}))(t)
}

// say appends a message.
func say(t *testing.T, ts store.TeamStore, iv store.InterviewID, r store.Role, text string) store.Message {
	t.Helper()
	return must(ts.AppendMessage(context.Background(), iv, store.NewMessage{Role: r, Content: text}))(t)
}

// finding creates a minimal finding.
func finding(t *testing.T, ts store.TeamStore, c store.CampaignID, title string, typ store.FindingType, tags ...string) store.Finding {
	t.Helper()
	return must(ts.CreateFinding(context.Background(), store.NewFinding{
		CampaignID: c, Type: typ, Title: title, Confidence: 0.5, Tags: tags}))(t)
}
