package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

// testSyncAnalysisFindings: analysis findings are upserted by Key (stable ids), unchanged ones
// are left alone, vanished Keys are removed, and manual findings are never touched.
func testSyncAnalysisFindings(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	m := say(t, f.a, iv.ID, store.RoleParticipant, "Pricing was confusing and setup was slow.")
	manual := finding(t, f.a, f.campA, "Written by a person", store.FindingInsight)
	theme := func(key, title string) store.NewFinding { return quoting(m, "setup was slow", key, title) }
	first := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{theme("pricing", "Pricing"), theme("setup", "Setup")}))(t)
	if len(first.Findings) != 2 || first.Findings[0].Change != store.FindingCreated || first.Findings[1].Change != store.FindingCreated ||
		len(first.Removed) != 0 || first.Findings[0].Finding.Source != store.SourceAnalysis || first.Findings[0].Finding.Key != "pricing" {
		t.Fatalf("first sync = %+v", first)
	}
	same(t, must(f.a.GetFinding(f.ctx, first.Findings[1].Finding.ID))(t), first.Findings[1].Finding)

	// The same input again changes nothing; a changed title rewrites that finding in place.
	changed := theme("setup", "Slow setup")
	again := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{theme("pricing", "Pricing"), changed}))(t)
	if again.Findings[0].Change != store.FindingUnchanged || again.Findings[1].Change != store.FindingUpdated ||
		again.Findings[0].Finding.ID != first.Findings[0].Finding.ID || again.Findings[1].Finding.ID != first.Findings[1].Finding.ID ||
		again.Findings[1].Finding.Title != "Slow setup" {
		t.Fatalf("second sync = %+v", again)
	}
	same(t, must(f.a.GetFinding(f.ctx, again.Findings[1].Finding.ID))(t), again.Findings[1].Finding)

	// A Key that no longer appears goes; the manual finding stays.
	last := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{changed}))(t)
	if len(last.Findings) != 1 || len(last.Removed) != 1 || last.Removed[0] != first.Findings[0].Finding.ID {
		t.Fatalf("third sync = %+v", last)
	}
	same(t, must(f.a.GetFinding(f.ctx, manual.ID))(t), manual)
	_, err := f.a.GetFinding(f.ctx, first.Findings[0].Finding.ID)
	isErr(t, err, store.ErrNotFound)

	// Bad input rolls the whole sync back.
	_, err = f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{theme("x", "X"), theme("x", "Y")})
	isErr(t, err, store.ErrInvalidInput)
	other := interview(t, f.a, f.campB)
	bad := theme("y", "Y")
	bad.Evidence = []store.Evidence{{InterviewID: other.ID, Quote: "elsewhere"}}
	_, err = f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{theme("z", "Z"), bad})
	isErr(t, err, store.ErrInvalidInput)
	page := must(f.a.ListFindings(f.ctx, store.FindingFilter{CampaignID: f.campA}, store.PageRequest{}))(t)
	if len(page.Items) != 2 {
		t.Fatalf("after refused syncs: %d findings, want the manual one and Slow setup", len(page.Items))
	}
	// Another team's sync of the same campaign id sees none of these.
	if s := must(f.b.SyncAnalysisFindings(f.ctx, f.campA, nil, nil))(t); len(s.Removed) != 0 {
		t.Fatalf("team b removed team a's findings: %+v", s)
	}
}

// testSyncCarriesKeys: a finding that carries a stored one (the analyzer named the same theme
// anew) keeps that finding's id and gives it its own key, so the next sync finds it by key;
// a stored finding is continued once, never by a carry when a key of the sync keeps it, and
// the manual finding stays as it was.
func testSyncCarriesKeys(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	m := say(t, f.a, iv.ID, store.RoleParticipant, "The export to CSV failed on large files.")
	manual := finding(t, f.a, f.campA, "Written by a person", store.FindingTheme)
	theme := func(key, carries string) store.NewFinding {
		fd := quoting(m, "export to CSV failed", key, "CSV export fails")
		fd.Carries = carries
		return fd
	}
	ids := func(s store.AnalysisSync) []store.FindingID {
		out := make([]store.FindingID, len(s.Findings))
		for i, sf := range s.Findings {
			out[i] = sf.Finding.ID
		}
		return out
	}
	made := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{theme("builtin:export", ""), theme("builtin:files", "")}))(t)
	export := made.Findings[0].Finding

	carried := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{theme("llm:export", "builtin:export")}))(t)
	if got := carried.Findings[0]; got.Finding.ID != export.ID || got.Change != store.FindingUnchanged || got.Finding.Key != "llm:export" ||
		len(carried.Removed) != 1 || carried.Removed[0] != made.Findings[1].Finding.ID {
		t.Fatalf("carried sync = %+v", carried)
	}
	stored := must(f.a.GetFinding(f.ctx, export.ID))(t)
	if stored.Key != "llm:export" || !stored.UpdatedAt.Equal(export.UpdatedAt) {
		t.Fatalf("carried finding has key %q, updated %v; want the new key, updated_at as it was", stored.Key, stored.UpdatedAt)
	}
	// From now on the new key finds it, whatever its evidence says.
	edited := theme("llm:export", "")
	edited.Evidence = nil
	if again := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{edited}))(t); ids(again)[0] != export.ID ||
		again.Findings[0].Change != store.FindingUpdated || len(again.Removed) != 0 {
		t.Fatalf("sync by the new key = %+v", again)
	}

	// A carry never takes a finding a key of the sync keeps, nor one already carried: those
	// findings are made anew, as is one carrying a key no finding has.
	twice := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{
		theme("a", "llm:export"), theme("llm:export", ""), theme("b", "gone")}))(t)
	if got := ids(twice); got[1] != export.ID || got[0] == export.ID || twice.Findings[0].Change != store.FindingCreated ||
		twice.Findings[2].Change != store.FindingCreated || len(twice.Removed) != 0 {
		t.Fatalf("sync with claimed carries = %+v", twice)
	}
	moved := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{theme("d", "a"), theme("e", "a")}))(t)
	if got := ids(moved); got[0] != twice.Findings[0].Finding.ID || moved.Findings[1].Change != store.FindingCreated || len(moved.Removed) != 2 {
		t.Fatalf("one finding carried twice = %+v", moved)
	}
	same(t, must(f.a.GetFinding(f.ctx, manual.ID))(t), manual)
	keys := map[string]bool{}
	for _, fd := range must(f.a.ListFindings(f.ctx, store.FindingFilter{CampaignID: f.campA}, store.PageRequest{}))(t).Items {
		if keys[fd.Key] && fd.Key != "" {
			t.Fatalf("key %q twice", fd.Key)
		}
		keys[fd.Key] = true
	}
	if !keys["d"] || !keys["e"] || !keys[""] || len(keys) != 3 {
		t.Fatalf("keys after the syncs: %v", keys)
	}
}

// quoting is an analysis finding by key, of one interview, quoting its participant's message m.
func quoting(m store.Message, quote, key, title string) store.NewFinding {
	return store.NewFinding{Key: key, Type: store.FindingTheme, Title: title, Frequency: 1, Confidence: 0.5,
		Sentiment: store.SentimentNegative, Tags: []string{"b", "a"},
		Evidence: []store.Evidence{{InterviewID: m.InterviewID, MessageID: m.ID, Quote: quote}}}
}

// testSyncAfterErasure: findings made from an interview deleted meanwhile are refused
// (ErrConflict, nothing written); and an erasure that comes while a sync is being written
// waits for it, then redacts what it wrote.
func testSyncAfterErasure(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	kept, erased := interview(t, f.a, f.campA), interview(t, f.a, f.campA)
	m := say(t, f.a, kept.ID, store.RoleParticipant, "Setup was slow.")
	fd := store.NewFinding{Key: "setup", Type: store.FindingPainPoint, Title: "Setup was slow, said Zanele", Frequency: 2,
		Confidence: 0.5, Evidence: []store.Evidence{{InterviewID: kept.ID, MessageID: m.ID, Quote: "Setup was slow"}}}
	read := []store.InterviewID{kept.ID, erased.ID}
	if err := f.a.DeleteInterview(f.ctx, erased.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.a.SyncAnalysisFindings(f.ctx, f.campA, read, []store.NewFinding{fd})
	isErr(t, err, store.ErrConflict)
	// Another team's interview id counts as gone too.
	_, err = f.b.SyncAnalysisFindings(f.ctx, f.campA, []store.InterviewID{kept.ID}, []store.NewFinding{fd})
	isErr(t, err, store.ErrConflict)
	if page := must(f.a.ListFindings(f.ctx, store.FindingFilter{CampaignID: f.campA}, store.PageRequest{}))(t); len(page.Items) != 0 {
		t.Fatalf("a refused sync wrote %d findings", len(page.Items))
	}

	again := interview(t, f.a, f.campA)
	erasing := make(chan error, 1)
	err = f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		if _, err := tx.SyncAnalysisFindings(f.ctx, f.campA, []store.InterviewID{kept.ID, again.ID}, []store.NewFinding{fd}); err != nil {
			return err
		}
		go func() { erasing <- f.a.DeleteInterview(context.Background(), again.ID) }()
		select {
		case err := <-erasing:
			t.Errorf("the erasure ended (%v) before the sync it races committed", err)
		case <-time.After(300 * time.Millisecond):
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-erasing; err != nil {
		t.Fatalf("the erasure after the sync: %v", err)
	}
	page := must(f.a.ListFindings(f.ctx, store.FindingFilter{CampaignID: f.campA}, store.PageRequest{}))(t)
	if len(page.Items) != 1 || page.Items[0].Title != store.RedactedTitle {
		t.Fatalf("after the erasure: %+v, want the synced finding redacted", page.Items)
	}

	// An analysis that was to write it anew and failed says so there; only there.
	manual := finding(t, f.a, f.campA, store.RedactedTitle, store.FindingInsight)
	if n := must(f.b.NoteRedactedFindings(f.ctx, f.campA, "Another team's"))(t); n != 0 {
		t.Fatalf("another team noted %d findings", n)
	}
	if n := must(f.a.NoteRedactedFindings(f.ctx, f.campA, "Analysis x failed"))(t); n != 1 {
		t.Fatalf("noted %d findings, want the redacted one", n)
	}
	if got := must(f.a.GetFinding(f.ctx, page.Items[0].ID))(t); got.Summary != "Analysis x failed" || got.Title != store.RedactedTitle ||
		!got.UpdatedAt.After(page.Items[0].UpdatedAt) {
		t.Fatalf("the noted finding: %+v", got)
	}
	same(t, must(f.a.GetFinding(f.ctx, manual.ID))(t), manual)
}

// testErasureAnnouncesFindings: an erasure writes finding.updated, in its own transaction,
// for each finding it changes (the campaign's analysis findings, redacted, and the manual
// ones that quoted the interview), showing it as it is after, with none of the erased
// participant's words; a failed analysis' note does the same for the redacted findings.
// Manual findings neither touches, other campaigns' and other teams' findings get none.
func testErasureAnnouncesFindings(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	const said = "The invoice export showed my home address"
	kept, erased := interview(t, f.a, f.campA), interview(t, f.a, f.campA)
	km := say(t, f.a, kept.ID, store.RoleParticipant, "Setup was slow.")
	em := say(t, f.a, erased.ID, store.RoleParticipant, said+".")
	quote := store.Evidence{InterviewID: erased.ID, MessageID: em.ID, Quote: said}
	both := quoting(km, "Setup was slow", "setup", "Setup was slow")
	both.Evidence = append(both.Evidence, quote)
	theirs := quoting(em, said, "export", said)
	theirs.Summary = "One said: " + said
	analysed := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{both, theirs,
		quoting(km, "slow", "slow", "Slow")}))(t)
	citing := must(f.a.CreateFinding(f.ctx, store.NewFinding{CampaignID: f.campA, Type: store.FindingInsight,
		Title: "Exports worry people", Evidence: []store.Evidence{quote, {InterviewID: kept.ID, Quote: "Setup was slow"}}}))(t)
	untouched := []store.Finding{finding(t, f.a, f.campA, store.RedactedTitle, store.FindingInsight),
		must(f.a.CreateFinding(f.ctx, store.NewFinding{CampaignID: f.campA, Type: store.FindingTheme, Title: "Slow setup",
			Evidence: []store.Evidence{{InterviewID: kept.ID, MessageID: km.ID, Quote: "slow"}}}))(t)}
	elsewhere := say(t, f.a, interview(t, f.a, f.campB).ID, store.RoleParticipant, "Setup was slow.")
	must(f.a.SyncAnalysisFindings(f.ctx, f.campB, nil, []store.NewFinding{quoting(elsewhere, "slow", "slow", "Slow")}))(t)
	must(f.b.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{{Key: "b", Type: store.FindingTheme, Title: "B's"}}))(t)

	// Rolled back, the erasure announces nothing either.
	rollback := errors.New("rolled back")
	isErr(t, f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		ok(t, tx.DeleteInterview(f.ctx, erased.ID))
		return rollback
	}), rollback)
	if n := pendingEvents(t, f.a); n != 0 {
		t.Fatalf("%d events after a rolled back erasure", n)
	}

	ok(t, f.a.DeleteInterview(f.ctx, erased.ID))
	want := []store.FindingID{citing.ID}
	for _, s := range analysed.Findings {
		want = append(want, s.Finding.ID)
	}
	for id, view := range announced(t, f, f.a, want) {
		switch carried := string(must(json.Marshal(view))(t)); {
		case strings.Contains(carried, said) || strings.Contains(carried, string(erased.ID)):
			t.Fatalf("the event of %s holds the erased participant's words or interview: %+v", id, view)
		case id == citing.ID && (view.Title != citing.Title || view.Frequency != 1 || len(view.Evidence) != 1):
			t.Fatalf("the manual finding that quoted the interview: %+v", view)
		case id != citing.ID && (view.Title != store.RedactedTitle || view.Summary != "" || view.Source != string(store.SourceAnalysis)):
			t.Fatalf("an analysis finding: %+v", view)
		}
	}
	if n := pendingEvents(t, f.b); n != 0 {
		t.Fatalf("another team got %d events", n)
	}

	// The note of a failed analysis: on the redacted findings only, in its transaction.
	isErr(t, f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		must(tx.NoteRedactedFindings(f.ctx, f.campA, "Analysis y failed"))(t)
		return rollback
	}), rollback)
	if n := pendingEvents(t, f.a); n != 0 {
		t.Fatalf("%d events after a rolled back note", n)
	}
	if n := must(f.b.NoteRedactedFindings(f.ctx, f.campA, "Another team's"))(t); n != 0 {
		t.Fatalf("another team noted %d findings", n)
	}
	if n := must(f.a.NoteRedactedFindings(f.ctx, f.campA, "Analysis x failed"))(t); n != int64(len(analysed.Findings)) {
		t.Fatalf("noted %d findings, want the %d redacted ones", n, len(analysed.Findings))
	}
	for id, view := range announced(t, f, f.a, want[1:]) {
		if view.Summary != "Analysis x failed" || view.Title != store.RedactedTitle {
			t.Fatalf("the noted finding %s: %+v", id, view)
		}
	}
	for _, fd := range untouched {
		same(t, must(f.a.GetFinding(f.ctx, fd.ID))(t), fd)
	}
	if n := pendingEvents(t, f.b); n != 0 {
		t.Fatalf("another team got %d events", n)
	}
}

// testErasureBurstAnnouncesChanges: in a burst of erasures of analysed interviews, each
// erasure changes, and so announces, only what it changes: the first redacts every analysis
// finding, a later one only drops its own quotes from the findings that cited it, as the rest
// are redacted already (their updated_at stays), and leaves the events an earlier erasure
// wrote of them, which hold none of its participant's words, to be delivered. Each erasure
// still says the findings are redacted, as their re-analysis must still run. Redaction clears
// the tags too: an analyzer's tag is a word participants used, and nothing records whose. A
// failed analysis' note is cleared by the next erasure, and the analysis after it writes
// title, summary and tags anew; a manual finding keeps its author's tags.
func testErasureBurstAnnouncesChanges(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	var ivs []store.Interview
	var fs []store.NewFinding
	for n, said := range []string{"Setup was slow.", "Pricing was unclear.", "Export crashed.", "Support never answered."} {
		iv := interview(t, f.a, f.campA)
		m := say(t, f.a, iv.ID, store.RoleParticipant, said)
		ivs = append(ivs, iv)
		fd := quoting(m, said[:len(said)-1], string(rune('a'+n)), said)
		fd.Summary = "They said: " + said
		fs = append(fs, fd)
	}
	read := make([]store.InterviewID, len(ivs))
	for i, iv := range ivs {
		read[i] = iv.ID
	}
	synced := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, read, fs))(t)
	all := make([]store.FindingID, len(synced.Findings))
	for i, s := range synced.Findings {
		all[i] = s.Finding.ID
	}
	manual := finding(t, f.a, f.campA, "Written by a person", store.FindingInsight, "pricing")
	erase := func(iv store.Interview) {
		t.Helper()
		if e := must(f.a.EraseInterview(f.ctx, iv.ID))(t); !e.Redacted || e.Campaign != f.campA {
			t.Fatalf("erasing %s: %+v, want the findings said redacted, for their re-analysis", iv.ID, e)
		}
	}
	redacted := func(want ...store.FindingID) {
		t.Helper()
		for id, view := range announced(t, f, f.a, want) {
			if view.Title != store.RedactedTitle || view.Summary != "" || len(view.Tags) != 0 {
				t.Fatalf("%s announced as %+v, want it redacted, without tags", id, view)
			}
		}
	}

	erase(ivs[0])
	redacted(all...)
	before := must(f.a.GetFinding(f.ctx, all[3]))(t)
	erase(ivs[1])
	erase(ivs[2])
	redacted(all[1], all[2]) // the second erasure's event of all[1] is still to be delivered
	if after := must(f.a.GetFinding(f.ctx, all[3]))(t); !after.UpdatedAt.Equal(before.UpdatedAt) || len(after.Tags) != 0 {
		t.Fatalf("a finding redacted already, quoting no interview erased since: %+v, before %+v", after, before)
	}

	// A failed analysis' note is a change the next erasure undoes: its analysis is to come.
	must(f.a.NoteRedactedFindings(f.ctx, f.campA, "Analysis x failed"))(t)
	announced(t, f, f.a, all)
	erase(ivs[3])
	redacted(all...)

	anew := fs[3]
	anew.Evidence = nil // its interview is gone
	again := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, nil, []store.NewFinding{anew}))(t)
	if got := again.Findings[0].Finding; got.ID != all[3] || got.Title != anew.Title || got.Summary != anew.Summary ||
		!slices.Equal(got.Tags, []string{"a", "b"}) {
		t.Fatalf("written anew: %+v", got)
	}
	same(t, must(f.a.GetFinding(f.ctx, manual.ID))(t), manual)
}

// announced checks that the team's undispatched events are one finding.updated for each
// finding of want, of its campaign, carrying it as the store has it now, and marks them
// dispatched. It returns what each carries.
func announced(t *testing.T, f *fixture, ts store.TeamStore, want []store.FindingID) map[store.FindingID]store.FindingView {
	t.Helper()
	got := map[store.FindingID]store.FindingView{}
	for _, ev := range must(ts.PendingEvents(f.ctx, store.MaxPageLimit))(t) {
		id := store.FindingID(ev.Subject)
		var view store.FindingView
		if err := json.Unmarshal(ev.Payload, &view); err != nil || ev.Type != store.EventFindingUpdated {
			t.Fatalf("event %s %s: %s (%v)", ev.Type, ev.Subject, ev.Payload, err)
		}
		fd := must(ts.GetFinding(f.ctx, id))(t)
		if _, twice := got[id]; twice || ev.CampaignID != fd.CampaignID {
			t.Fatalf("finding.updated of %s twice, or of campaign %s", id, ev.CampaignID)
		}
		same(t, ev.Payload, fd.View()) // byte for byte, as every finding event renders it
		got[id] = view
		ok(t, ts.MarkEventDispatched(f.ctx, ev.ID))
	}
	if ids := slices.Sorted(maps.Keys(got)); !slices.Equal(ids, slices.Sorted(slices.Values(want))) {
		t.Fatalf("finding.updated of %v, want %v", ids, want)
	}
	return got
}

// testActiveAnalysis: at most one queued or running analysis per campaign.
func testActiveAnalysis(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	_, err := f.a.ActiveAnalysis(f.ctx, f.campA)
	isErr(t, err, store.ErrNotFound)
	a := must(f.a.CreateAnalysis(f.ctx, f.campA))(t)
	_, err = f.a.CreateAnalysis(f.ctx, f.campA)
	isErr(t, err, store.ErrConflict)
	must(f.a.CreateAnalysis(f.ctx, f.campB))(t) // another campaign
	must(f.b.CreateAnalysis(f.ctx, f.campA))(t) // another team
	same(t, must(f.a.ActiveAnalysis(f.ctx, f.campA))(t).ID, a.ID)
	must(f.a.StartAnalysis(f.ctx, a.ID))(t)
	same(t, must(f.a.ActiveAnalysis(f.ctx, f.campA))(t).ID, a.ID) // running too
	_, err = f.a.CreateAnalysis(f.ctx, f.campA)
	isErr(t, err, store.ErrConflict)
	must(f.a.FinishAnalysis(f.ctx, a.ID, store.AnalysisResult{}))(t)
	_, err = f.a.ActiveAnalysis(f.ctx, f.campA)
	isErr(t, err, store.ErrNotFound)
	must(f.a.CreateAnalysis(f.ctx, f.campA))(t)
}
