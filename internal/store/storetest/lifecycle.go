package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

// testTxRollback: a failing or panicking transaction leaves neither the domain row nor its
// outbox event behind, and a successful one commits both.
func testTxRollback(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	boom := errors.New("boom")
	write := func(tx store.TeamStore, title string) {
		fd := finding(t, tx, f.campA, title, store.FindingInsight, "t")
		must(tx.AddEvent(f.ctx, store.NewEvent{Type: "finding.created", Payload: []byte(fmt.Sprintf(`{"id":%q}`, fd.ID))}))(t)
	}
	err := f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		write(tx, "failed")
		return boom
	})
	isErr(t, err, boom)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic was swallowed")
			}
		}()
		_ = f.a.InTx(f.ctx, func(tx store.TeamStore) error {
			write(tx, "panicked")
			panic("crash mid-transaction")
		})
	}()
	checkNothing := func(want int) {
		t.Helper()
		page := must(f.a.ListFindings(f.ctx, store.FindingFilter{}, store.PageRequest{}))(t)
		events := must(f.a.PendingEvents(f.ctx, 10))(t)
		if int(page.TotalCount) != want || len(events) != want {
			t.Fatalf("%d findings and %d events, want %d of each", page.TotalCount, len(events), want)
		}
	}
	checkNothing(0)
	ok(t, f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		write(tx, "committed")
		return nil
	}))
	checkNothing(1)
}

// testRetention: deleting a campaign's data in batches removes all of it and nothing else.
func testRetention(t *testing.T, newDSN NewDSN) {
	const batch = 7
	f := setup(t, newDSN, store.WithDeleteBatchSize(batch))
	want := seedCampaign(t, f.a, f.campA, 3, 12) + seedCampaign(t, f.a, f.campA, 1, 5) // the replaced share link is deleted too
	keepA := seedCampaign(t, f.a, f.campB, 2, 4)
	keepB := seedCampaign(t, f.b, f.campA, 2, 4) // same campaign id, other team
	got := must(f.a.DeleteCampaignData(f.ctx, f.campA))(t)
	if got != int64(want) || want <= batch {
		t.Fatalf("deleted %d rows, want %d (batch %d)", got, want, batch)
	}
	count := func(ts store.TeamStore, c store.CampaignID) int {
		ivs := must(ts.ListInterviews(f.ctx, store.InterviewFilter{CampaignID: c}, store.PageRequest{}))(t)
		fds := must(ts.ListFindings(f.ctx, store.FindingFilter{CampaignID: c}, store.PageRequest{}))(t)
		n := int(ivs.TotalCount + fds.TotalCount)
		for _, iv := range ivs.Items {
			n += int(must(ts.ListMessages(f.ctx, iv.ID, store.PageRequest{}))(t).TotalCount)
		}
		if _, err := ts.GetShareLink(f.ctx, c); err == nil {
			n++
		}
		return n
	}
	if n := count(f.a, f.campA); n != 0 {
		t.Fatalf("%d rows of the deleted campaign remain", n)
	}
	// Analyses are not listable; each seed made one, so subtract it from the expected count.
	if n, m := count(f.a, f.campB), count(f.b, f.campA); n != keepA-1 || m != keepB-1 {
		t.Fatalf("other campaigns lost rows: %d of %d, %d of %d", n, keepA-1, m, keepB-1)
	}
	if n := must(f.a.DeleteCampaignData(f.ctx, f.campA))(t); n != 0 {
		t.Fatalf("second delete removed %d rows", n)
	}
}

// seedCampaign makes interviews with messages, a finding citing them, an analysis and a share
// link, and returns how many rows it made in the tables DeleteCampaignData counts.
func seedCampaign(t *testing.T, ts store.TeamStore, c store.CampaignID, interviews, messages int) int {
	t.Helper()
	var ev []store.Evidence
	for range interviews {
		iv := interview(t, ts, c)
		for i := range messages {
			m := say(t, ts, iv.ID, store.RoleParticipant, fmt.Sprint(i))
			ev = append(ev, store.Evidence{InterviewID: iv.ID, MessageID: m.ID, Quote: "q"})
		}
	}
	must(ts.CreateFinding(t.Context(), store.NewFinding{CampaignID: c, Type: store.FindingTheme,
		Title: "seed", Tags: []string{"x"}, Evidence: ev}))(t)
	// Finished, so a second seed of the campaign may queue another (one active at a time).
	a := must(ts.CreateAnalysis(t.Context(), c))(t)
	must(ts.FinishAnalysis(t.Context(), a.ID, store.AnalysisResult{}))(t)
	must(ts.CreateShareLink(t.Context(), store.NewShareLink{CampaignID: c,
		TokenHash: store.HashToken(fmt.Sprint(ts.Team(), c, time.Now().UnixNano())), ExpiresAt: time.Now().Add(time.Hour)}))(t)
	return interviews*(messages+1) + 3
}

// testMigrationsIdempotent: reopening a database applies nothing twice and keeps the data.
func testMigrationsIdempotent(t *testing.T, newDSN NewDSN) {
	dsn := newDSN(t)
	s1 := open(t, dsn)
	iv := interview(t, s1.Team("team"), "camp")
	s2 := open(t, dsn)
	s3 := open(t, dsn)
	same(t, must(s3.Team("team").GetInterview(t.Context(), iv.ID))(t), iv)
	must(s2.Team("team").AppendMessage(t.Context(), iv.ID, store.NewMessage{Role: store.RoleInterviewer, Content: "q"}))(t)
}
