package apiserver_test

import (
	"context"
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
