package store_test

import (
	"context"
	"strings"
	"testing"

	"qual.cx/operator/internal/store"
)

// TestParticipantLookupsUseTheirIndexes: finding a participant's interviews (an erasure
// request) reads that participant's entries of an index, on both backends, rather than every
// interview of the team.
func TestParticipantLookupsUseTheirIndexes(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { checkParticipantPlans(t, be.dsn(t)) })
	}
}

// checkParticipantPlans explains the participant lookups of a store with a few interviews.
func checkParticipantPlans(t *testing.T, dsn string) {
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := s.Team("team-a")
	for _, p := range []store.Participant{{Email: "ada@example.com", ExternalID: "crm-1"}, {Email: "bob@example.com"}, {}} {
		if _, err := ts.CreateInterview(ctx, store.NewInterview{CampaignID: "c1", Participant: p}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		f     store.InterviewFilter
		index string
	}{
		{store.InterviewFilter{ParticipantEmail: "Ada@Example.com"}, "interviews_participant_email"},
		{store.InterviewFilter{ParticipantEmail: "ada@example.com", CampaignID: "c1", Status: store.InterviewInProgress}, "interviews_participant_email"},
		{store.InterviewFilter{ExternalID: "crm-1"}, "interviews_participant_external_id"},
	} {
		plan, err := store.ExplainInterviews(ctx, s, "team-a", c.f)
		if err != nil {
			t.Fatal(err)
		}
		// Both the page and its total read the participant's index entries.
		if strings.Count(plan, c.index) < 2 {
			t.Errorf("%+v does not read %s twice:\n%s", c.f, c.index, plan)
		}
	}
}
