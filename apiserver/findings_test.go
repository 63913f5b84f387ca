package apiserver_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/internal/store"
)

type evidence struct {
	InterviewID string  `json:"interview_id"`
	MessageID   *string `json:"message_id"`
	Quote       string  `json:"quote"`
}

type finding struct {
	ID         string     `json:"id"`
	CampaignID string     `json:"campaign_id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Summary    string     `json:"summary"`
	Evidence   []evidence `json:"evidence"`
	Frequency  int        `json:"frequency"`
	Sentiment  string     `json:"sentiment"`
	Confidence float64    `json:"confidence"`
	Tags       []string   `json:"tags"`
	Source     string     `json:"source"`
	UpdatedAt  string     `json:"updated_at"`
}

type analysisJob struct {
	ID         string   `json:"id"`
	CampaignID string   `json:"campaign_id"`
	Status     string   `json:"status"`
	CreatedAt  string   `json:"created_at"`
	FindingIDs []string `json:"finding_ids"`
	Error      *string  `json:"error"`
	Analyzer   *string  `json:"analyzer"`
	StartedAt  *string  `json:"started_at"`
	FinishedAt *string  `json:"finished_at"`
}

// pricingAnswers recur across participants, so the built-in analyzer makes a theme of them.
var pricingAnswers = []string{
	"It was far too expensive for us, honestly the price nearly made us quit.",
	"The price was too expensive for a team of our size.",
	"Too expensive. We almost cancelled because the price kept going up.",
	"The plan is too expensive and the price is hard to justify.",
	"Way too expensive; the price is the main reason we hesitated.",
	"The price felt too expensive compared to other tools.",
}

// interviewed holds a completed interview whose participant said answer, and returns it
// with the participant's message.
func interviewed(t *testing.T, base, token, campaignID, answerText string) (interview, message) {
	t.Helper()
	iv := start(t, base, token, campaignID, nil)
	tr := answer(t, base, token, iv.ID, answerText)
	if tr.Interview.Status != "completed" {
		callAt(t, base, "POST", "/api/v1/interviews/"+iv.ID+"/complete", token, nil).expect(t, 200)
	}
	return iv, tr.Message
}

// pricingStudy is a new team's active campaign of one question with five interviews, each
// answered with one of pricingAnswers.
func pricingStudy(t *testing.T, b backend, team string) (*tenant, campaign, []interview, []message) {
	t.Helper()
	tn := newTenant(t, team, qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Onboarding study",
		"questions": []string{"What almost made you give up?"}, "max_questions": 3})
	var ivs []interview
	var msgs []message
	for _, text := range pricingAnswers[:5] {
		iv, m := interviewed(t, b.url, tn.secret, c.ID, text)
		ivs, msgs = append(ivs, iv), append(msgs, m)
	}
	return tn, c, ivs, msgs
}

// analyzed asks for an analysis and polls it until it ends.
func analyzed(t *testing.T, base, token, campaignID string) analysisJob {
	t.Helper()
	var queued analysisJob
	callAt(t, base, "POST", "/api/v1/campaigns/"+campaignID+"/analyze", token, nil).expect(t, 202).data(t, &queued)
	if queued.CampaignID != campaignID || (queued.Status != "queued" && queued.Status != "running") || queued.CreatedAt == "" {
		t.Fatalf("analyze: %+v", queued)
	}
	return waitAnalysis(t, base, token, queued.ID)
}

func waitAnalysis(t *testing.T, base, token, id string) analysisJob {
	t.Helper()
	var a analysisJob
	deadline := time.Now().Add(30 * time.Second)
	for {
		callAt(t, base, "GET", "/api/v1/analyses/"+id, token, nil).expect(t, 200).data(t, &a)
		if a.Status == "succeeded" || a.Status == "failed" {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("analysis still %s: %+v", a.Status, a)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func campaignFindings(t *testing.T, base, token, campaignID, query string) []finding {
	t.Helper()
	var out []finding
	callAt(t, base, "GET", "/api/v1/campaigns/"+campaignID+"/findings?limit=100"+query, token, nil).expect(t, 200).data(t, &out)
	return out
}

// teamEvents counts a team's undispatched events by type, and returns the last payload of each.
func teamEvents(t *testing.T, db store.Store, teamID string) (map[string]int, map[string]json.RawMessage) {
	t.Helper()
	evs, err := db.Team(store.TeamID(teamID)).PendingEvents(context.Background(), store.MaxPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	n, last := map[string]int{}, map[string]json.RawMessage{}
	for _, e := range evs {
		n[e.Type]++
		last[e.Type] = e.Payload
	}
	return n, last
}

// Findings and analyses end to end on both store backends: analysis through the queue,
// manual findings with checked evidence, lists and filters, events in the outbox, and a
// re-analysis that keeps every id.
func TestFindingsAndAnalyses(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn, c, ivs, msgs := pricingStudy(t, b, "findings-"+b.name)

			first := analyzed(t, b.url, tn.secret, c.ID)
			if first.Status != "succeeded" || len(first.FindingIDs) == 0 || first.Error != nil || first.StartedAt == nil || first.FinishedAt == nil ||
				first.Analyzer == nil || *first.Analyzer != "builtin" {
				t.Fatalf("first analysis: %+v", first)
			}
			made := campaignFindings(t, b.url, tn.secret, c.ID, "")
			if len(made) != len(first.FindingIDs) {
				t.Fatalf("%d findings for %d ids", len(made), len(first.FindingIDs))
			}
			quoted := map[string]string{}
			for i, iv := range ivs {
				quoted[iv.ID] = pricingAnswers[i]
			}
			for _, f := range made {
				if f.Source != "analysis" || f.CampaignID != c.ID || !slices.Contains(first.FindingIDs, f.ID) || len(f.Evidence) == 0 {
					t.Fatalf("analysis finding: %+v", f)
				}
				for _, e := range f.Evidence {
					if e.MessageID == nil || !strings.Contains(quoted[e.InterviewID], e.Quote) {
						t.Fatalf("evidence is not a participant's exact words: %+v", e)
					}
				}
			}
			n, last := teamEvents(t, b.db, tn.id)
			if n["finding.created"] != len(made) || n["analysis.completed"] != 1 {
				t.Fatalf("events after the analysis: %v", n)
			}
			var completedEvent analysisJob
			if err := json.Unmarshal(last["analysis.completed"], &completedEvent); err != nil || completedEvent.ID != first.ID ||
				completedEvent.Status != "succeeded" || !slices.Equal(completedEvent.FindingIDs, first.FindingIDs) {
				t.Fatalf("analysis.completed payload: %s", last["analysis.completed"])
			}

			// A manual finding quoting a participant.
			var manual finding
			callAt(t, b.url, "POST", "/api/v1/findings", tn.secret, map[string]any{
				"campaign_id": c.ID, "title": "Trial limits surprise people", "summary": "Limits show up late.",
				"type": "insight", "tags": []string{"pricing", "trial"},
				"evidence": []map[string]any{
					{"interview_id": ivs[0].ID, "message_id": msgs[0].ID, "quote": "far too expensive"},
					{"interview_id": ivs[3].ID, "quote": "hard to justify"},
				},
			}, "Idempotency-Key", "manual-"+b.name).expect(t, 201).data(t, &manual)
			if manual.Source != "manual" || manual.Frequency != 2 || manual.Sentiment != "neutral" || manual.Confidence != 1 ||
				len(manual.Evidence) != 2 || manual.Evidence[1].MessageID != nil || !slices.Equal(manual.Tags, []string{"pricing", "trial"}) {
				t.Fatalf("manual finding: %+v", manual)
			}
			var replayed finding
			callAt(t, b.url, "POST", "/api/v1/findings", tn.secret, map[string]any{
				"campaign_id": c.ID, "title": "Trial limits surprise people", "summary": "Limits show up late.",
				"type": "insight", "tags": []string{"pricing", "trial"},
				"evidence": []map[string]any{
					{"interview_id": ivs[0].ID, "message_id": msgs[0].ID, "quote": "far too expensive"},
					{"interview_id": ivs[3].ID, "quote": "hard to justify"},
				},
			}, "Idempotency-Key", "manual-"+b.name).expect(t, 201).data(t, &replayed)
			if replayed.ID != manual.ID {
				t.Fatalf("a replayed create made another finding: %s, %s", replayed.ID, manual.ID)
			}
			var patched finding
			callAt(t, b.url, "PATCH", "/api/v1/findings/"+manual.ID, tn.secret, map[string]any{
				"title": "Trial limits surprise everyone", "sentiment": "negative", "confidence": 0.9,
			}).expect(t, 200).data(t, &patched)
			if patched.Title != "Trial limits surprise everyone" || patched.Sentiment != "negative" || patched.Confidence != 0.9 ||
				patched.Summary != manual.Summary || len(patched.Evidence) != 2 {
				t.Fatalf("patched: %+v", patched)
			}
			// A patch that changes nothing writes nothing: no event, updated_at as it was.
			for _, same := range []map[string]any{{}, {"title": patched.Title, "confidence": 0.9}} {
				var again finding
				callAt(t, b.url, "PATCH", "/api/v1/findings/"+manual.ID, tn.secret, same).expect(t, 200).data(t, &again)
				if again.UpdatedAt != patched.UpdatedAt || again.Title != patched.Title {
					t.Fatalf("a no-op patch %v: %+v", same, again)
				}
			}
			var got finding
			callAt(t, b.url, "GET", "/api/v1/findings/"+manual.ID, tn.secret, nil).expect(t, 200).data(t, &got)
			if got.Title != patched.Title || got.UpdatedAt != patched.UpdatedAt {
				t.Fatalf("read back: %+v", got)
			}
			n, last = teamEvents(t, b.db, tn.id)
			if n["finding.created"] != len(made)+1 || n["finding.updated"] != 1 {
				t.Fatalf("events after the manual finding: %v", n)
			}
			var updatedEvent finding
			if err := json.Unmarshal(last["finding.updated"], &updatedEvent); err != nil || updatedEvent.ID != manual.ID || updatedEvent.Title != patched.Title {
				t.Fatalf("finding.updated payload: %s", last["finding.updated"])
			}

			// Lists: the filters, the title sort with a cursor, and across the caller's teams.
			if all := campaignFindings(t, b.url, tn.secret, c.ID, ""); len(all) != len(made)+1 {
				t.Fatalf("campaign findings: %d", len(all))
			}
			if ins := campaignFindings(t, b.url, tn.secret, c.ID, "&type=insight"); len(ins) != 1 || ins[0].ID != manual.ID {
				t.Fatalf("type=insight: %+v", ins)
			}
			// Tags are kept trimmed, and the filter is read the same way.
			for _, tag := range []string{"trial", "trial%20", "%20trial"} {
				var tagged []finding
				callAt(t, b.url, "GET", "/api/v1/findings?campaign_id="+c.ID+"&tag="+tag, tn.secret, nil).expect(t, 200).data(t, &tagged)
				if len(tagged) != 1 || tagged[0].ID != manual.ID {
					t.Fatalf("tag=%s: %+v", tag, tagged)
				}
			}
			// The filter's bound counts characters, as a tag's does: fifty in any script.
			for n, status := range map[int]int{50: 200, 51: 400} {
				q := "/api/v1/findings?campaign_id=" + c.ID + "&tag=" + url.QueryEscape(strings.Repeat("é", n))
				if got := callAt(t, b.url, "GET", q, tn.secret, nil).status; got != status {
					t.Fatalf("a tag filter of %d characters: %d, want %d", n, got, status)
				}
			}
			// A filter that is not text is refused naming it, before PostgreSQL sees the bytes.
			for _, q := range []string{"tag=%ff", "tag=a%C3%28b", "type=%00"} {
				e := callAt(t, b.url, "GET", "/api/v1/campaigns/"+c.ID+"/findings?"+q, tn.secret, nil).expectError(t, 400, "VALIDATION_ERROR")
				if name, _, _ := strings.Cut(q, "="); len(e.Details) != 1 || e.Details[0].Field != name {
					t.Fatalf("%s: %+v", q, e.Details)
				}
			}
			var titles []string
			for path := "/api/v1/findings?sort_by=title&order=asc&limit=1&campaign_id=" + c.ID; path != ""; {
				r := callAt(t, b.url, "GET", path, tn.secret, nil).expect(t, 200)
				var page struct {
					Data       []finding `json:"data"`
					Pagination struct {
						NextCursor *string `json:"next_cursor"`
						TotalCount int     `json:"total_count"`
					} `json:"pagination"`
				}
				if err := json.Unmarshal(r.body, &page); err != nil || page.Pagination.TotalCount != len(made)+1 {
					t.Fatalf("page: %s", r.body)
				}
				for _, f := range page.Data {
					titles = append(titles, f.Title)
				}
				path = ""
				if page.Pagination.NextCursor != nil {
					path = "/api/v1/findings?sort_by=title&order=asc&limit=1&campaign_id=" + c.ID + "&cursor=" + *page.Pagination.NextCursor
				}
			}
			if len(titles) != len(made)+1 || !slices.IsSorted(titles) {
				t.Fatalf("titles by page: %q", titles)
			}

			// A re-analysis keeps every id and leaves the manual finding as it is; a grown set
			// of interviews keeps the ids of the themes found before.
			second := analyzed(t, b.url, tn.secret, c.ID)
			if second.ID == first.ID || !slices.Equal(second.FindingIDs, first.FindingIDs) {
				t.Fatalf("re-analysis: %+v, first %+v", second, first)
			}
			interviewed(t, b.url, tn.secret, c.ID, pricingAnswers[5])
			third := analyzed(t, b.url, tn.secret, c.ID)
			for _, id := range first.FindingIDs {
				if !slices.Contains(third.FindingIDs, id) {
					t.Fatalf("a theme lost its id after more interviews: %v, before %v", third.FindingIDs, first.FindingIDs)
				}
			}
			callAt(t, b.url, "GET", "/api/v1/findings/"+manual.ID, tn.secret, nil).expect(t, 200).data(t, &got)
			if got.UpdatedAt != patched.UpdatedAt || got.Source != "manual" {
				t.Fatalf("re-analysis touched the manual finding: %+v", got)
			}
			if n, _ := teamEvents(t, b.db, tn.id); n["analysis.completed"] != 3 {
				t.Fatalf("events after three analyses: %v", n)
			}

			callAt(t, b.url, "DELETE", "/api/v1/findings/"+manual.ID, tn.secret, nil).expect(t, 204)
			callAt(t, b.url, "GET", "/api/v1/findings/"+manual.ID, tn.secret, nil).expectError(t, 404, "NOT_FOUND")
		})
	}
}

// Evidence is checked field by field: another campaign's or team's interview, a message of
// another interview, a quote that is not the message's words.
func TestFindingValidation(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn := newTenant(t, "fval-"+b.name, qualv1alpha1.PlanEnterprise)
			other := newTenant(t, "fval-other-"+b.name, qualv1alpha1.PlanEnterprise)
			c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Main"})
			c2 := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Second"})
			oc := activeCampaign(t, b.url, other.secret, map[string]any{"title": "Theirs"})
			iv, m := interviewed(t, b.url, tn.secret, c.ID, pricingAnswers[0])
			iv2, m2 := interviewed(t, b.url, tn.secret, c.ID, pricingAnswers[1])
			elsewhere, _ := interviewed(t, b.url, tn.secret, c2.ID, pricingAnswers[2])
			theirs, theirMsg := interviewed(t, b.url, other.secret, oc.ID, pricingAnswers[3])

			var transcript []message
			callAt(t, b.url, "GET", "/api/v1/interviews/"+iv.ID+"/messages", tn.secret, nil).expect(t, 200).data(t, &transcript)
			asked := transcript[0]
			if asked.Role != "interviewer" {
				t.Fatalf("the first message is the %s's", asked.Role)
			}
			create := func(ev map[string]any) response {
				return callAt(t, b.url, "POST", "/api/v1/findings", tn.secret, map[string]any{
					"campaign_id": c.ID, "title": "T", "type": "theme", "evidence": []map[string]any{ev}})
			}
			cases := []struct {
				ev    map[string]any
				field string
			}{
				{map[string]any{"interview_id": elsewhere.ID, "quote": "price"}, "evidence[0].interview_id"},
				{map[string]any{"interview_id": theirs.ID, "quote": "price"}, "evidence[0].interview_id"},
				{map[string]any{"interview_id": iv.ID, "message_id": theirMsg.ID, "quote": "price"}, "evidence[0].message_id"},
				{map[string]any{"interview_id": iv.ID, "message_id": m2.ID, "quote": "price"}, "evidence[0].message_id"},
				{map[string]any{"interview_id": iv.ID, "message_id": m.ID, "quote": "not what they said"}, "evidence[0].quote"},
				{map[string]any{"interview_id": iv.ID, "quote": "  "}, "evidence[0].quote"},
				// The interviewer's words are nobody's evidence; a quote nobody said is none either.
				{map[string]any{"interview_id": iv.ID, "message_id": asked.ID, "quote": asked.Content[:8]}, "evidence[0].message_id"},
				{map[string]any{"interview_id": iv.ID, "quote": asked.Content[:8]}, "evidence[0].quote"},
				{map[string]any{"interview_id": iv.ID, "quote": "not said anywhere"}, "evidence[0].quote"},
				{map[string]any{"interview_id": "nope", "quote": "x"}, "evidence[0].interview_id"},
			}
			for _, tc := range cases {
				e := create(tc.ev).expectError(t, 400, "VALIDATION_ERROR")
				if len(e.Details) != 1 || e.Details[0].Field != tc.field {
					t.Fatalf("%v: want %s, got %+v", tc.ev, tc.field, e.Details)
				}
			}
			e := callAt(t, b.url, "POST", "/api/v1/findings", tn.secret, map[string]any{"campaign_id": c.ID}).expectError(t, 400, "VALIDATION_ERROR")
			if len(e.Details) != 2 {
				t.Fatalf("title and type are required: %+v", e.Details)
			}
			callAt(t, b.url, "POST", "/api/v1/findings", tn.secret, map[string]any{"campaign_id": c.ID, "title": "T", "type": "rumour"}).
				expectError(t, 400, "VALIDATION_ERROR")
			callAt(t, b.url, "POST", "/api/v1/findings", tn.secret, map[string]any{"campaign_id": c.ID, "title": "T", "type": "theme", "frequency": 3}).
				expectError(t, 400, "VALIDATION_ERROR")
			callAt(t, b.url, "GET", "/api/v1/findings?type=rumour", tn.secret, nil).expectError(t, 400, "VALIDATION_ERROR")

			var f finding
			create(map[string]any{"interview_id": iv2.ID, "message_id": m2.ID, "quote": "too expensive for a team"}).expect(t, 201).data(t, &f)
			e = callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{
				"evidence": []map[string]any{{"interview_id": iv.ID, "quote": "far too expensive"}, {"interview_id": theirs.ID, "quote": "x"}}}).
				expectError(t, 400, "VALIDATION_ERROR")
			if len(e.Details) != 1 || e.Details[0].Field != "evidence[1].interview_id" {
				t.Fatalf("patch evidence: %+v", e.Details)
			}
			callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"campaign_id": c2.ID}).expectError(t, 400, "VALIDATION_ERROR")
			// Its own campaign, as a client sending the finding back whole names it, is no change.
			var same finding
			callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"campaign_id": strings.ToUpper(c.ID), "title": f.Title}).
				expect(t, 200).data(t, &same)
			if same.CampaignID != c.ID || same.UpdatedAt != f.UpdatedAt {
				t.Fatalf("a patch naming the finding's own campaign: %+v", same)
			}
			callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"confidence": 2}).expectError(t, 400, "VALIDATION_ERROR")
			// A tag is trimmed, so a blank one is blank, not too short.
			for tag, msg := range map[string]string{" ": "must not be blank", strings.Repeat("t", 51): "must be at most 50 characters"} {
				e := callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"tags": []string{"ok", tag}}).
					expectError(t, 400, "VALIDATION_ERROR")
				if len(e.Details) != 1 || e.Details[0].Field != "tags[1]" || e.Details[0].Message != msg {
					t.Fatalf("tag %q: %+v", tag, e.Details)
				}
			}
			// null is no value of a list or a summary: refused, and the finding keeps its evidence.
			for _, field := range []string{"summary", "tags", "evidence"} {
				e := callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{field: nil}).expectError(t, 400, "VALIDATION_ERROR")
				if len(e.Details) != 1 || e.Details[0].Field != field {
					t.Fatalf("%s: null: %+v", field, e.Details)
				}
			}
			var kept finding
			callAt(t, b.url, "GET", "/api/v1/findings/"+f.ID, tn.secret, nil).expect(t, 200).data(t, &kept)
			if len(kept.Evidence) != 1 {
				t.Fatalf("evidence after refused patches: %+v", kept.Evidence)
			}

			// A campaign with no completed interview has nothing to analyze.
			callAt(t, b.url, "POST", "/api/v1/campaigns/"+oc.ID+"/analyze", other.secret, map[string]any{"x": 1}).expectError(t, 400, "VALIDATION_ERROR")
			empty := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Empty"})
			start(t, b.url, tn.secret, empty.ID, nil) // in progress: not analyzable
			callAt(t, b.url, "POST", "/api/v1/campaigns/"+empty.ID+"/analyze", tn.secret, nil).expectError(t, 409, "INVALID_STATE")
		})
	}
}

// Another team's finding, analysis and campaign are 404 on every route; viewers only read.
func TestFindingsTenancy(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			a := newTenant(t, "ften-a-"+b.name, qualv1alpha1.PlanEnterprise)
			z := newTenant(t, "ften-z-"+b.name, qualv1alpha1.PlanEnterprise)
			c := activeCampaign(t, b.url, a.secret, map[string]any{"title": "A's"})
			zc := activeCampaign(t, b.url, z.secret, map[string]any{"title": "Z's"})
			iv, _ := interviewed(t, b.url, a.secret, c.ID, pricingAnswers[0])
			var f finding
			callAt(t, b.url, "POST", "/api/v1/findings", a.secret, map[string]any{"campaign_id": c.ID, "title": "A's finding",
				"type": "theme", "evidence": []map[string]any{{"interview_id": iv.ID, "quote": "price"}}}).expect(t, 201).data(t, &f)
			job := analyzed(t, b.url, a.secret, c.ID)

			for _, r := range []response{
				callAt(t, b.url, "GET", "/api/v1/findings/"+f.ID, z.secret, nil),
				callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, z.secret, map[string]any{"title": "Mine now"}),
				callAt(t, b.url, "DELETE", "/api/v1/findings/"+f.ID, z.secret, nil),
				callAt(t, b.url, "GET", "/api/v1/analyses/"+job.ID, z.secret, nil),
				callAt(t, b.url, "POST", "/api/v1/campaigns/"+c.ID+"/analyze", z.secret, nil),
				callAt(t, b.url, "GET", "/api/v1/campaigns/"+c.ID+"/findings", z.secret, nil),
				callAt(t, b.url, "GET", "/api/v1/findings?campaign_id="+c.ID, z.secret, nil),
				callAt(t, b.url, "GET", "/api/v1/findings?team_id="+a.id, z.secret, nil),
				callAt(t, b.url, "GET", "/api/v1/findings?team_id="+z.id+"&campaign_id="+c.ID, a.owner, nil),
				callAt(t, b.url, "POST", "/api/v1/findings", z.secret, map[string]any{"campaign_id": c.ID, "title": "x", "type": "theme"}),
				callAt(t, b.url, "GET", "/api/v1/findings/"+f.ID, z.owner, nil, "X-Qual-Team", a.id),
				callAt(t, b.url, "GET", "/api/v1/analyses/not-an-id", a.secret, nil),
			} {
				r.expectError(t, 404, "NOT_FOUND")
			}
			// Evidence that points into another team is a field error, not a way to probe it.
			e := callAt(t, b.url, "POST", "/api/v1/findings", z.secret, map[string]any{"campaign_id": zc.ID, "title": "x",
				"type": "theme", "evidence": []map[string]any{{"interview_id": iv.ID, "quote": "price"}}}).expectError(t, 400, "VALIDATION_ERROR")
			if e.Details[0].Field != "evidence[0].interview_id" {
				t.Fatalf("cross-team evidence: %+v", e.Details)
			}
			var theirs []finding
			callAt(t, b.url, "GET", "/api/v1/findings", z.secret, nil).expect(t, 200).data(t, &theirs)
			if len(theirs) != 0 {
				t.Fatalf("z sees %d findings", len(theirs))
			}
			callAt(t, b.url, "GET", "/api/v1/findings/"+f.ID, a.owner, nil).expect(t, 200)
			var ours []finding
			callAt(t, b.url, "GET", "/api/v1/findings?limit=100&team_id="+a.id, a.secret, nil).expect(t, 200).data(t, &ours)
			if !slices.ContainsFunc(ours, func(x finding) bool { return x.ID == f.ID }) {
				t.Fatalf("team_id=%s lists %d findings, not %s", a.id, len(ours), f.ID)
			}
			callAt(t, b.url, "GET", "/api/v1/findings?team_id=not-a-uuid", a.secret, nil).expectError(t, 400, "VALIDATION_ERROR")

			// Viewers read; writing needs owner, admin or member.
			viewer := sessionToken(t, "user-ften-a-"+b.name+"-viewer", "ften-a-"+b.name+"-viewer@example.com", time.Hour)
			member := sessionToken(t, "user-ften-a-"+b.name+"-member", "ften-a-"+b.name+"-member@example.com", time.Hour)
			callAt(t, b.url, "GET", "/api/v1/findings/"+f.ID, viewer, nil).expect(t, 200)
			callAt(t, b.url, "GET", "/api/v1/analyses/"+job.ID, viewer, nil).expect(t, 200)
			callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, viewer, map[string]any{"title": "v"}).expectError(t, 403, "FORBIDDEN")
			callAt(t, b.url, "DELETE", "/api/v1/findings/"+f.ID, viewer, nil).expectError(t, 403, "FORBIDDEN")
			callAt(t, b.url, "POST", "/api/v1/campaigns/"+c.ID+"/analyze", viewer, nil).expectError(t, 403, "FORBIDDEN")
			callAt(t, b.url, "POST", "/api/v1/findings", viewer, map[string]any{"campaign_id": c.ID, "title": "v", "type": "theme"}).
				expectError(t, 403, "FORBIDDEN")
			callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, member, map[string]any{"tags": []string{"m"}}).expect(t, 200)
			// A key without the findings scopes is refused.
			callAt(t, b.url, "GET", "/api/v1/findings/"+f.ID, a.scoped, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
		})
	}
}

// The Analysis/hr budget: refused analyses cost nothing, asking again for a running one costs
// nothing; past the budget, 429 naming it.
func TestAnalysisHourlyBudget(t *testing.T) {
	tn := newTenant(t, "anbudget", qualv1alpha1.PlanStarter) // 5 analyses an hour
	empty := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Nothing yet"})
	for range 3 {
		call(t, "POST", "/api/v1/campaigns/"+empty.ID+"/analyze", tn.secret, nil).expectError(t, 409, "INVALID_STATE")
	}
	// Nor does a campaign in a language the built-in analyzer does not read.
	german := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Studie", "settings": map[string]any{"language": "de"}})
	interviewed(t, api.URL, tn.secret, german.ID, pricingAnswers[0])
	for range 2 {
		e := call(t, "POST", "/api/v1/campaigns/"+german.ID+"/analyze", tn.secret, nil).expectError(t, 409, "INVALID_STATE")
		if !strings.Contains(e.Message, "English only") {
			t.Fatalf("the refusal must say why: %s", e.Message)
		}
	}
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Budget"})
	interviewed(t, api.URL, tn.secret, c.ID, pricingAnswers[0])
	ts := db.Team(store.TeamID(tn.id))
	for range 5 {
		var a analysisJob
		call(t, "POST", "/api/v1/campaigns/"+c.ID+"/analyze", tn.secret, nil).expect(t, 202).data(t, &a)
		testenvEventually(t, "analysis "+a.ID, func() bool {
			got, err := ts.GetAnalysis(context.Background(), store.AnalysisID(a.ID))
			return err == nil && got.Status == store.AnalysisSucceeded
		})
	}
	r := call(t, "POST", "/api/v1/campaigns/"+c.ID+"/analyze", tn.secret, nil)
	e := r.expectError(t, 429, "RATE_LIMITED")
	if !strings.Contains(e.Message, "Analysis/hr") || r.header.Get("Retry-After") == "" {
		t.Fatalf("429 must name the budget and say when: %s %v", e.Message, r.header)
	}
	if r.header.Get("X-RateLimit-Remaining") != "0" || !strings.HasPrefix(r.header.Get("RateLimit-Policy"), `"analyses";q=5;w=3600`) {
		t.Fatalf("429 headers describe another budget: %v", r.header)
	}
}

// testenvEventually polls check for up to 20 s, without spending the team's request budget.
func testenvEventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not done in 20 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Writing a finding answers with the finding, so it needs findings:read as well as
// findings:write; quoting an interview is checked against the participant's words, so it
// needs interviews:read: a key without it could read a transcript one guess at a time.
func TestFindingWritesNeedTheReadsTheyReveal(t *testing.T) {
	tn := newTenant(t, "findingscopes", qualv1alpha1.PlanEnterprise)
	base := api.URL
	c := activeCampaign(t, base, tn.secret, map[string]any{"title": "Scopes", "questions": []string{"What was hard?"}, "max_questions": 3})
	iv, m := interviewed(t, base, tn.secret, c.ID, pricingAnswers[0])
	var f finding
	call(t, "POST", "/api/v1/findings", tn.secret, map[string]any{"campaign_id": c.ID, "title": "Price", "type": "insight"}).expect(t, 201).data(t, &f)
	quote := []map[string]any{{"interview_id": iv.ID, "message_id": m.ID, "quote": "far too expensive"}}

	writeOnly := makeKey(t, tn.team, "write-only", qualv1alpha1.KeyScoped, []qualv1alpha1.Scope{"findings:write"})
	readWrite := makeKey(t, tn.team, "read-write", qualv1alpha1.KeyScoped, []qualv1alpha1.Scope{"findings:write", "findings:read"})
	waitUsable(t, "the scoped keys", readWrite)
	call(t, "PATCH", "/api/v1/findings/"+f.ID, writeOnly, map[string]any{}).expectError(t, 403, "INSUFFICIENT_SCOPE")
	call(t, "POST", "/api/v1/findings", writeOnly, map[string]any{"campaign_id": c.ID, "title": "x", "type": "insight"}).
		expectError(t, 403, "INSUFFICIENT_SCOPE")
	for _, guess := range []string{"far too expensive", "not in the transcript"} {
		call(t, "POST", "/api/v1/findings", readWrite, map[string]any{"campaign_id": c.ID, "title": "x", "type": "insight",
			"evidence": []map[string]any{{"interview_id": iv.ID, "quote": guess}}}).expectError(t, 403, "INSUFFICIENT_SCOPE")
		call(t, "PATCH", "/api/v1/findings/"+f.ID, readWrite, map[string]any{
			"evidence": []map[string]any{{"interview_id": iv.ID, "quote": guess}}}).expectError(t, 403, "INSUFFICIENT_SCOPE")
	}
	call(t, "PATCH", "/api/v1/findings/"+f.ID, readWrite, map[string]any{"title": "Pricing"}).expect(t, 200)
	call(t, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"evidence": quote}).expect(t, 200)
	call(t, "DELETE", "/api/v1/findings/"+f.ID, writeOnly, nil).expect(t, 204)
}

// TestInvisibleTextIsBlank: a title, tag or campaign title made only of characters that show
// as nothing (tag characters, musical and shorthand format controls, interlinear annotation
// marks, variation selectors of the supplement) is blank, on create and on patch, as the
// document's pattern says.
func TestInvisibleTextIsBlank(t *testing.T) {
	b := backends(t)[0]
	tn := newTenant(t, "invisible-titles", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Invisible"})
	var f finding
	callAt(t, b.url, "POST", "/api/v1/findings", tn.secret, map[string]any{"campaign_id": c.ID, "title": "Seen", "type": "insight"}).
		expect(t, 201).data(t, &f)
	blank := func(what, field string, r response) {
		t.Helper()
		e := r.expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != field || e.Details[0].Message != "must not be blank" {
			t.Errorf("%s: %+v", what, e.Details)
		}
	}
	for _, s := range []string{"\U000E0001", "\U000E0020\U000E0020", "\U000E007F", "\U0001D173", "\U0001D17A", "\uFFF9", "\uFFFB",
		"\U0001BCA0", "\U0001BCA3", "\u206F", "\U000E0100", "\U000E0020\u2064"} {
		what := strconv.QuoteToASCII(s)
		blank(what+" as a new finding's title", "title", callAt(t, b.url, "POST", "/api/v1/findings", tn.secret,
			map[string]any{"campaign_id": c.ID, "title": s, "type": "insight"}))
		blank(what+" as a title", "title", callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"title": s}))
		blank(what+" as a tag", "tags[0]", callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"tags": []string{s}}))
		blank(what+" as a campaign's title", "title", callAt(t, b.url, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"title": s}))
	}
	// A sign that draws (the Arabic number sign, though Cf) and a letter with a tag are titles.
	for _, s := range []string{"\u0600", "a\U000E0020"} {
		callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"title": s}).expect(t, 200)
	}
}

// TestAnalysisTitlesFollowTheTitleRule: a participant's direction override reaches an
// analysis finding's quote, which is their words, but not its title or tags, which show in
// every list and on the public share page, and which a client must be able to send back.
func TestAnalysisTitlesFollowTheTitleRule(t *testing.T) {
	b := backends(t)[0]
	tn := newTenant(t, "bidi-titles", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Export study",
		"questions": []string{"What frustrated you about the product?"}, "max_questions": 2})
	for range 5 {
		interviewed(t, b.url, tn.secret, c.ID, "The export to \u202eVSC\u202c kept failing on large files and I lost a whole afternoon of work.")
	}
	if a := analyzed(t, b.url, tn.secret, c.ID); a.Status != "succeeded" || len(a.FindingIDs) == 0 {
		t.Fatalf("analysis %+v", a)
	}
	quoted := false
	for _, f := range campaignFindings(t, b.url, tn.secret, c.ID, "") {
		if decode.Reorders(f.Title) || slices.ContainsFunc(f.Tags, decode.Reorders) {
			t.Errorf("finding %q, tags %q: a direction override in a title", f.Title, f.Tags)
		}
		for _, e := range f.Evidence {
			quoted = quoted || decode.Reorders(e.Quote)
		}
		callAt(t, b.url, "PATCH", "/api/v1/findings/"+f.ID, tn.secret, map[string]any{"title": f.Title, "tags": f.Tags}).expect(t, 200)
	}
	if !quoted {
		t.Error("no quote keeps the participant's words as said")
	}
}
