package storetest

import (
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

// testTenantIsolation: team B can neither see nor change team A's rows through any method.
func testTenantIsolation(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	a, b, ctx := f.a, f.b, f.ctx
	iv := interview(t, a, f.campA)
	m := say(t, a, iv.ID, store.RoleInterviewer, "hello")
	fd := finding(t, a, f.campA, "secret", store.FindingTheme, "tag")
	an := must(a.CreateAnalysis(ctx, f.campA))(t)
	must(a.CreateShareLink(ctx, store.NewShareLink{CampaignID: f.campA, TokenHash: store.HashToken("t"),
		ExpiresAt: time.Now().Add(time.Hour)}))(t)
	must(a.SaveIdempotency(ctx, store.IdempotencyRecord{Key: "k", StatusCode: 201}))(t)
	ev := must(a.AddEvent(ctx, store.NewEvent{Type: "interview.started", Payload: []byte(`{}`)}))(t)
	d := must(a.CreateDelivery(ctx, store.NewDelivery{WebhookID: "wh", EventID: ev.ID}))(t)

	nf := func(err error) { t.Helper(); isErr(t, err, store.ErrNotFound) }
	_, err := b.GetInterview(ctx, iv.ID)
	nf(err)
	_, err = b.EndInterview(ctx, iv.ID, store.InterviewCompleted)
	nf(err)
	nf(b.DeleteInterview(ctx, iv.ID))
	_, err = b.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: "x"})
	nf(err)
	_, err = b.ListMessages(ctx, iv.ID, store.PageRequest{})
	nf(err)
	_, err = b.GetFinding(ctx, fd.ID)
	nf(err)
	title := "stolen"
	_, _, err = b.UpdateFinding(ctx, fd.ID, store.FindingPatch{Title: &title})
	nf(err)
	nf(b.DeleteFinding(ctx, fd.ID))
	_, err = b.CreateFinding(ctx, store.NewFinding{CampaignID: f.campA, Type: store.FindingTheme, Title: "x",
		Evidence: []store.Evidence{{InterviewID: iv.ID, MessageID: m.ID}}})
	isErr(t, err, store.ErrInvalidInput)
	_, err = b.GetAnalysis(ctx, an.ID)
	nf(err)
	_, err = b.StartAnalysis(ctx, an.ID)
	nf(err)
	_, err = b.FinishAnalysis(ctx, an.ID, store.AnalysisResult{})
	nf(err)
	_, err = b.GetShareLink(ctx, f.campA)
	nf(err)
	nf(b.RevokeShareLink(ctx, f.campA))
	_, err = b.GetIdempotency(ctx, "k")
	nf(err)
	_, err = b.GetEvent(ctx, ev.ID)
	nf(err)
	nf(b.MarkEventDispatched(ctx, ev.ID))
	_, err = b.CreateDelivery(ctx, store.NewDelivery{WebhookID: "wh", EventID: ev.ID})
	nf(err)
	_, err = b.GetDelivery(ctx, d.ID)
	nf(err)
	_, err = b.RecordAttempt(ctx, d.ID, store.AttemptResult{Status: store.DeliveryFailed})
	nf(err)
	_, err = b.Redeliver(ctx, d.ID, time.Now())
	nf(err)
	_, err = b.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: "x", Sequence: 2})
	nf(err) // not ErrConflict: the sequence must not reveal that the interview exists
	if ended := must(b.EndCampaignInterviews(ctx, f.campA))(t); len(ended) != 0 {
		t.Fatalf("team B completed team A's interviews: %+v", ended)
	}
	for _, flt := range []store.InterviewFilter{{}, {CampaignID: f.campA}, {Status: store.InterviewInProgress},
		{CampaignID: f.campA, Status: store.InterviewInProgress}} {
		if n := must(b.CountInterviews(ctx, flt))(t); n != 0 {
			t.Fatalf("team B counts %d of team A's interviews with %+v", n, flt)
		}
	}
	same(t, must(b.InterviewCounts(ctx, []store.CampaignID{f.campA}))(t), map[store.CampaignID]int64{f.campA: 0})
	if n := must(b.DeleteCampaignData(ctx, f.campA))(t); n != 0 {
		t.Fatalf("team B deleted %d of team A's rows", n)
	}
	checkEmptyLists(t, f, b)

	// Team A still has everything, unchanged.
	same(t, must(a.GetFinding(ctx, fd.ID))(t), fd)
	if got := must(a.GetInterview(ctx, iv.ID))(t); got.Status != store.InterviewInProgress || got.MessageCount != 1 {
		t.Fatalf("team A's interview changed: %+v", got)
	}
	same(t, must(a.InterviewCounts(ctx, []store.CampaignID{f.campA}))(t), map[store.CampaignID]int64{f.campA: 1})
	must(a.GetShareLink(ctx, f.campA))(t)
	if len(must(a.PendingEvents(ctx, 10))(t)) != 1 {
		t.Fatal("team A's event was dispatched by team B")
	}

	_, err = f.s.Team("").ListInterviews(ctx, store.InterviewFilter{}, store.PageRequest{})
	isErr(t, err, store.ErrInvalidInput)
	_, err = f.s.Team("").CreateInterview(ctx, store.NewInterview{CampaignID: f.campA})
	isErr(t, err, store.ErrInvalidInput)
	_, err = f.s.Team("").CountInterviews(ctx, store.InterviewFilter{})
	isErr(t, err, store.ErrInvalidInput)
	_, err = f.s.Team("").InterviewCounts(ctx, []store.CampaignID{f.campA})
	isErr(t, err, store.ErrInvalidInput)
	_, err = f.s.Team("").EndCampaignInterviews(ctx, f.campA)
	isErr(t, err, store.ErrInvalidInput)
	_, err = a.InterviewCounts(ctx, []store.CampaignID{f.campA, ""})
	isErr(t, err, store.ErrInvalidInput)
}

// checkEmptyLists: every list and queue of ts is empty.
func checkEmptyLists(t *testing.T, f *fixture, ts store.TeamStore) {
	t.Helper()
	ctx, all := f.ctx, store.PageRequest{}
	if p := must(ts.ListInterviews(ctx, store.InterviewFilter{}, all))(t); len(p.Items) != 0 || p.TotalCount != 0 {
		t.Fatalf("interviews visible: %+v", p)
	}
	if p := must(ts.ListInterviews(ctx, store.InterviewFilter{CampaignID: f.campA}, all))(t); p.TotalCount != 0 {
		t.Fatalf("interviews visible by campaign: %+v", p)
	}
	if p := must(ts.ListFindings(ctx, store.FindingFilter{Tag: "tag"}, all))(t); p.TotalCount != 0 {
		t.Fatalf("findings visible: %+v", p)
	}
	if p := must(ts.ListDeliveries(ctx, "wh", all))(t); p.TotalCount != 0 {
		t.Fatalf("deliveries visible: %+v", p)
	}
	if n := len(must(ts.PendingEvents(ctx, 10))(t)) + len(must(ts.DueDeliveries(ctx, time.Now().Add(time.Hour), 10))(t)); n != 0 {
		t.Fatalf("%d events or deliveries visible", n)
	}
}
