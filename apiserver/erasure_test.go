package apiserver_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

// Erasing an interview erases what its participant said from the analysis too: analysis
// titles and summaries are made of participants' words, so the campaign's are replaced at
// once (with their events) and written anew by an analysis of the interviews left; with none
// left, they go. Manual findings keep their author's words and lose only the quotes.
func TestErasureReachesAnalysisFindings(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn, c, ivs, _ := pricingStudy(t, b, "erasure-"+b.name)
			analyzed(t, b.url, tn.secret, c.ID)
			before := campaignFindings(t, b.url, tn.secret, c.ID, "")
			if len(before) == 0 || len(before[0].Evidence) == 0 || !strings.Contains(before[0].Summary, before[0].Evidence[0].Quote) {
				t.Fatalf("no finding quoting a participant in its summary: %+v", before)
			}
			erased, words := before[0].Evidence[0].InterviewID, before[0].Evidence[0].Quote
			var link struct {
				Token *string `json:"token"`
			}
			callAt(t, b.url, "POST", "/api/v1/campaigns/"+c.ID+"/graph/share", tn.secret, nil).expect(t, 201).data(t, &link)

			callAt(t, b.url, "DELETE", "/api/v1/interviews/"+erased, tn.secret, nil).expect(t, 204)
			noWords := func(when string) []finding {
				t.Helper()
				fs := campaignFindings(t, b.url, tn.secret, c.ID, "")
				for _, f := range fs {
					if strings.Contains(f.Title, words) || strings.Contains(f.Summary, words) {
						t.Fatalf("%s: %q is still in %+v", when, words, f)
					}
				}
				if g := publicGet(t, clientFrom("127.0.0.62"), b.url, "/api/v1/shared/graphs/"+*link.Token).expect(t, 200); strings.Contains(string(g.body), words) {
					t.Fatalf("%s: the shared graph still says %q", when, words)
				}
				_, last := teamEvents(t, b.db, tn.id)
				for typ, payload := range last {
					if strings.Contains(string(payload), words) {
						t.Fatalf("%s: a %s event still says %q", when, typ, words)
					}
				}
				return fs
			}
			noWords("at once")
			deadline := time.Now().Add(30 * time.Second)
			for {
				fs := noWords("while analysed again")
				redacted := 0
				for _, f := range fs {
					if f.Title == store.RedactedTitle {
						redacted++
					}
				}
				if redacted == 0 && len(fs) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("never analysed again: %+v", fs)
				}
				time.Sleep(100 * time.Millisecond)
			}

			// With no completed interview left, nothing can say what the analysis found.
			for _, iv := range ivs {
				if iv.ID != erased {
					callAt(t, b.url, "DELETE", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expect(t, 204)
				}
			}
			if fs := campaignFindings(t, b.url, tn.secret, c.ID, ""); len(fs) != 0 {
				t.Fatalf("analysis findings outlived every interview: %+v", fs)
			}
			if n, err := b.db.Team(store.TeamID(tn.id)).CountInterviews(context.Background(), store.InterviewFilter{}); err != nil || n != 0 {
				t.Fatalf("interviews left: %d %v", n, err)
			}
		})
	}
}

// Webhook subscribers hear of every change an erasure makes to findings, on both store
// backends, through a real receiver: finding.updated for each analysis finding it redacts and
// for the manual finding that loses its quote, then again for each redacted finding when the
// analysis that was to write them anew fails for good (here the campaign turned German, which
// the built-in analyzer does not read). Each is the finding as REST shows it, signed, and none
// holds the erased participant's words or interview.
func TestErasureAnnouncesFindingsToWebhooks(t *testing.T) {
	for _, st := range webhookStacks(t) {
		t.Run(st.name, func(t *testing.T) { erasureAnnounced(t, st) })
	}
}

func erasureAnnounced(t *testing.T, st webhookStack) {
	tn := hookTenant(t, st.url, "erasure-hooks-"+st.name)
	rc := newReceiver(t)
	wh, _ := createHook(t, st.url, tn.secret, map[string]any{"url": rc.URL, "events": []string{"finding.updated"}})
	c := activeCampaign(t, st.url, tn.secret, map[string]any{"title": "Onboarding study",
		"questions": []string{"What almost made you give up?"}, "max_questions": 3})
	msgs := map[string]message{}
	for _, text := range pricingAnswers[:5] {
		iv, m := interviewed(t, st.url, tn.secret, c.ID, text)
		msgs[iv.ID] = m
	}
	analyzed(t, st.url, tn.secret, c.ID)
	before := campaignFindings(t, st.url, tn.secret, c.ID, "")
	if len(before) == 0 || len(before[0].Evidence) == 0 {
		t.Fatalf("no analysis finding quoting a participant: %+v", before)
	}
	erased := before[0].Evidence[0].InterviewID
	var manual finding
	quote := func(id string) map[string]any {
		return map[string]any{"interview_id": id, "message_id": msgs[id].ID, "quote": msgs[id].Content}
	}
	evidence := []map[string]any{quote(erased)}
	for id := range msgs {
		if id != erased {
			evidence = append(evidence, quote(id))
			break
		}
	}
	callAt(t, st.url, "POST", "/api/v1/findings", tn.secret, map[string]any{"campaign_id": c.ID, "type": "insight",
		"title": "Pricing worries", "evidence": evidence}).expect(t, 201).data(t, &manual)
	callAt(t, st.url, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"settings": map[string]any{"language": "de"}}).expect(t, 200)

	callAt(t, st.url, "DELETE", "/api/v1/interviews/"+erased, tn.secret, nil).expect(t, 204)
	var analyses []analysisJob
	callAt(t, st.url, "GET", "/api/v1/campaigns/"+c.ID+"/analyses?limit=1", tn.secret, nil).expect(t, 200).data(t, &analyses)
	if failed := waitAnalysis(t, st.url, tn.secret, analyses[0].ID); failed.Status != "failed" {
		t.Fatalf("the erasure's analysis of a German campaign: %+v", failed)
	}

	// Each analysis finding is announced redacted, then noted; the manual one once.
	seen := receivedFindings(t, rc, *wh.Secret, len(before)*2+1, msgs[erased].Content, erased)
	if m := seen[manual.ID]; len(seen) != len(before)+1 || len(m) != 1 || m[0].Title != manual.Title || len(m[0].Evidence) != 1 || m[0].Frequency != 1 {
		t.Fatalf("%d findings announced, the manual one as %+v", len(seen), m)
	}
	for _, f := range before {
		evs := seen[f.ID]
		if len(evs) != 2 || evs[0].Title != store.RedactedTitle || evs[0].Summary != "" ||
			evs[1].Title != store.RedactedTitle || !strings.HasPrefix(evs[1].Summary, "Analysis "+analyses[0].ID+" failed") {
			t.Fatalf("the events of analysis finding %s: %+v", f.ID, evs)
		}
		var now finding
		callAt(t, st.url, "GET", "/api/v1/findings/"+f.ID, tn.secret, nil).expect(t, 200).data(t, &now)
		if now.Summary != evs[1].Summary || now.UpdatedAt != evs[1].UpdatedAt {
			t.Fatalf("the last event of %s says %+v, REST %+v", f.ID, evs[1], now)
		}
	}
}

// receivedFindings waits for want finding.updated requests at rc, checks that each is signed
// with secret and that none holds any of erased, and returns the findings they carried, by
// id, in the order received.
func receivedFindings(t *testing.T, rc *receiver, secret string, want int, erased ...string) map[string][]finding {
	t.Helper()
	testenvEventually(t, "the erasure's events at the receiver", func() bool { return rc.count() >= want })
	time.Sleep(time.Second) // and no more come
	rc.mu.Lock()
	got := slices.Clone(rc.got)
	rc.mu.Unlock()
	if len(got) != want {
		t.Fatalf("%d requests at the receiver, want %d", len(got), want)
	}
	seen := map[string][]finding{}
	for _, r := range got {
		var body struct {
			Type string  `json:"type"`
			Data finding `json:"data"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil || body.Type != "finding.updated" || !r.verifies(t, secret) {
			t.Fatalf("received %s (%v)", r.body, err)
		}
		for _, s := range erased {
			if strings.Contains(string(r.body), s) {
				t.Fatalf("a finding.updated holds the erased %q: %s", s, r.body)
			}
		}
		seen[body.Data.ID] = append(seen[body.Data.ID], body.Data)
	}
	return seen
}

// Erasing an interview no stored analysis read (one started and never answered, or one
// completed after the campaign was analysed) cannot take anyone's words out of the analysis
// findings, so they stay as they were, with no event, and no analysis starts.
func TestErasureOfAnInterviewNoAnalysisReadLeavesFindings(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn, c, _, _ := pricingStudy(t, b, "unread-erasure-"+b.name)
			first := analyzed(t, b.url, tn.secret, c.ID)
			before := campaignFindings(t, b.url, tn.secret, c.ID, "")
			if first.Status != "succeeded" || len(before) == 0 {
				t.Fatalf("the analysis %+v made %+v", first, before)
			}
			events, _ := teamEvents(t, b.db, tn.id)
			unanswered := start(t, b.url, tn.secret, c.ID, nil)
			later, _ := interviewed(t, b.url, tn.secret, c.ID, pricingAnswers[5])
			for _, id := range []string{unanswered.ID, later.ID} {
				callAt(t, b.url, "DELETE", "/api/v1/interviews/"+id, tn.secret, nil).expect(t, 204)
				if after := campaignFindings(t, b.url, tn.secret, c.ID, ""); !slices.EqualFunc(before, after, sameFinding) {
					t.Fatalf("erasing %s, which no analysis read, changed the findings from %+v to %+v", id, before, after)
				}
			}
			time.Sleep(time.Second) // an analysis, had one been queued, would be listed by now
			var list []analysisJob
			callAt(t, b.url, "GET", "/api/v1/campaigns/"+c.ID+"/analyses", tn.secret, nil).expect(t, 200).data(t, &list)
			if len(list) != 1 || list[0].ID != first.ID {
				t.Fatalf("analyses after erasing interviews no analysis read: %+v", list)
			}
			if now, _ := teamEvents(t, b.db, tn.id); now["finding.updated"] != events["finding.updated"] {
				t.Fatalf("finding.updated events: %d, before the erasures %d", now["finding.updated"], events["finding.updated"])
			}
		})
	}
}

// sameFinding says whether two reads of a finding show it unchanged.
func sameFinding(a, b finding) bool {
	return a.ID == b.ID && a.Title == b.Title && a.Summary == b.Summary && a.UpdatedAt == b.UpdatedAt &&
		a.Frequency == b.Frequency && len(a.Evidence) == len(b.Evidence)
}

// A burst of erasures of interviews the analysis read redacts the findings at once and is
// analysed again once, not once per erasure: the analysis an erasure asks for waits a moment
// (findings.DefaultSettle) before it runs, and the erasures after it join it.
func TestErasuresInABurstAreAnalysedOnce(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn, c, ivs, msgs := pricingStudy(t, b, "burst-erasure-"+b.name)
			first := analyzed(t, b.url, tn.secret, c.ID)
			var lastSent time.Time
			for i, iv := range ivs[:3] {
				lastSent = time.Now()
				callAt(t, b.url, "DELETE", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expect(t, 204)
				for _, f := range campaignFindings(t, b.url, tn.secret, c.ID, "") {
					if f.Title != store.RedactedTitle || strings.Contains(f.Summary, msgs[i].Content) {
						t.Fatalf("right after erasure %d: %+v", i+1, f)
					}
				}
			}
			var list []analysisJob
			callAt(t, b.url, "GET", "/api/v1/campaigns/"+c.ID+"/analyses", tn.secret, nil).expect(t, 200).data(t, &list)
			if len(list) != 2 || list[1].ID != first.ID {
				t.Fatalf("analyses after a burst of three erasures: %+v", list)
			}
			a := waitAnalysis(t, b.url, tn.secret, list[0].ID)
			if began, err := time.Parse(time.RFC3339Nano, *a.StartedAt); a.Status != "succeeded" || err != nil || !began.After(lastSent) {
				t.Fatalf("the burst's analysis %+v (started %s, the last erasure sent at %s, %v)", a, *a.StartedAt, lastSent.UTC(), err)
			}
			callAt(t, b.url, "GET", "/api/v1/campaigns/"+c.ID+"/analyses", tn.secret, nil).expect(t, 200).data(t, &list)
			if len(list) != 2 {
				t.Fatalf("analyses once the burst's has run: %+v", list)
			}
			for _, f := range campaignFindings(t, b.url, tn.secret, c.ID, "") {
				if f.Title == store.RedactedTitle {
					t.Fatalf("still redacted after the burst's analysis: %+v", f)
				}
			}
		})
	}
}
