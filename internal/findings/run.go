package findings

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
)

// Job is one analysis to run: the store row it reports to, and the campaign as the analyzer
// should know it (taken when the analysis was asked for, so the job needs no Kubernetes).
type Job struct {
	Team     store.TeamID
	Analysis store.AnalysisID
	Campaign analysis.Campaign
	// Charge is the budget the job's model runs spend (nil: none).
	Charge *Charge
	// Attempt is the queue's attempt this run is, from 1 (0 counts as the first): a retry,
	// and a rescue of a run whose process died, is a later one.
	Attempt int
}

// Charge is the Analysis/hr budget of a campaign whose analyzer is the model's. The request
// that asks for an analysis spends one unit for the model run of its first attempt (Paid).
// Every other model run spends one unit as it starts: that of a later attempt (a retry after
// the model or the store failed, or after the run timed out or its process died: the failed
// run may have used the model in full), that of the analysis an erasure asked for, which no
// request paid, and a run made again because interviews it read were erased while it ran.
// While none is left the built-in analyzer makes that run instead, as it stands in for a
// model turn that failed in an interview: the model never runs more often than the budget
// allows, and an erasure is never refused or held back for it.
type Charge struct {
	Key   string          `json:"key"`
	Limit ratelimit.Limit `json:"limit"`
	Paid  bool            `json:"paid"`
}

// Runner runs analysis jobs over the store.
type Runner struct {
	Store    store.Store
	Analyzer analysis.Analyzer
	// Log receives what went wrong; never a participant's words.
	Log logr.Logger
	// Metrics counts and times the runs (nil: not recorded).
	Metrics *Metrics
	// Limiter spends the budget of model runs no request paid for (Job.Charge); nil: they
	// spend nothing.
	Limiter ratelimit.Limiter
}

// What a failed analysis says. They name what failed, never how: no internal error text.
const (
	msgAnalyzerFailed = "The analyzer failed; run the analysis again"
	msgBadOutput      = "The analyzer returned findings that could not be stored"
	msgNotStored      = "The findings could not be stored (were interviews deleted while it ran?); run the analysis again"
	msgLanguage       = "The built-in analyzer reads English only: analyze a campaign in another language with the llm analyzer (settings.analyzer), with a chat model configured"
	msgModel          = "The chat model could not be used (it failed, or none is configured), and the built-in analyzer that stands in for it reads English only; run the analysis again once the model answers"
	msgBudget         = "The Analysis/hr budget was spent, so the built-in analyzer stood in for the chat model, and it reads English only; run the analysis again once the budget has room"
)

// errPermanent marks a failure no retry can mend.
var errPermanent = errors.New("findings: permanent failure")

// errBudget marks the failure of the built-in analyzer standing in for a model run the budget
// had no room for: a retry would be another run to pay for, so it is final.
var errBudget = errors.New("findings: the built-in analyzer stood in for the model, the budget being spent")

// Run takes an analysis from queued (or running, when a crashed run is being redone) to
// succeeded or failed. It is idempotent: an analysis already finished is left alone, and the
// findings, the analysis' end and every event commit in one transaction that is refused if
// another run finished it first, so a job that runs twice changes nothing twice. final says no
// retry follows: a failure then marks the analysis failed; otherwise Run returns it for the
// queue to retry. A canceled ctx (shutdown) is never a failure: the job runs again.
func (r *Runner) Run(ctx context.Context, j Job, final bool) error {
	ts := r.Store.Team(j.Team)
	a, err := ts.GetAnalysis(ctx, j.Analysis)
	switch {
	case errors.Is(err, store.ErrNotFound): // deleted with its campaign's data
		return nil
	case err != nil:
		return err
	case a.Status == store.AnalysisSucceeded || a.Status == store.AnalysisFailed:
		return nil
	case a.Status == store.AnalysisQueued:
		if _, err := ts.StartAnalysis(ctx, a.ID); err != nil && !errors.Is(err, store.ErrInvalidState) {
			return err
		}
	}
	began := time.Now()
	err = r.runAfresh(ctx, ts, a, j)
	switch {
	case err == nil:
		r.Metrics.observe(j.Campaign, outcomeSucceeded, time.Since(began))
		return nil
	case ctx.Err() != nil:
		r.Metrics.observe(j.Campaign, outcomeCanceled, time.Since(began))
		return err
	}
	msg := msgAnalyzerFailed
	switch {
	case errors.Is(err, errPermanent):
		msg, final = msgBadOutput, true
	case errors.Is(err, errBudget):
		msg, final = msgBudget, true
	case errors.Is(err, analysis.ErrLanguage) && j.Campaign.Analyzer == analysis.AnalyzerLLM:
		// The model failed (or is not configured) and the built-in analyzer, standing in,
		// cannot read the campaign: a model that was down may answer the next run, so this
		// is retried as a failing analyzer is.
		msg = msgModel
	case errors.Is(err, analysis.ErrLanguage):
		msg, final = msgLanguage, true
	case errors.Is(err, store.ErrInvalidInput):
		msg = msgNotStored
	}
	r.Log.Error(err, "analysis failed", "team", j.Team, "analysis", a.ID, "campaign", a.CampaignID, "final", final)
	if !final {
		r.Metrics.observe(j.Campaign, outcomeRetry, time.Since(began))
		return err
	}
	r.Metrics.observe(j.Campaign, outcomeFailed, time.Since(began))
	return r.fail(ctx, ts, a, msg)
}

// freshTries is how many times an analysis is made before it gives up on a campaign
// whose interviews keep being deleted while it runs.
const freshTries = 3

// runAfresh runs the analysis again, at once, while interviews it read are deleted before
// its findings are stored (store.ErrConflict): those findings may carry an erased
// participant's words, and the erasure's own re-analysis was refused while this one ran. Each
// run is charged (see Charge).
func (r *Runner) runAfresh(ctx context.Context, ts store.TeamStore, a store.Analysis, j Job) error {
	var err error
	for n := range freshTries {
		c, stoodIn := r.charge(ctx, j, n)
		err = r.run(ctx, ts, a, c)
		switch {
		case errors.Is(err, store.ErrConflict):
		case err != nil && stoodIn && ctx.Err() == nil:
			return fmt.Errorf("%w: %w", errBudget, err)
		default:
			return err
		}
	}
	return err
}

// charge spends a unit of j's budget for its run n of this attempt, unless the request paid
// for it (the first run of the first attempt of a paid analysis), and returns the campaign as
// that run must analyse it: with the built-in analyzer when the budget has no room (stoodIn),
// or the limiter does not answer.
func (r *Runner) charge(ctx context.Context, j Job, n int) (c analysis.Campaign, stoodIn bool) {
	c, ch := j.Campaign, j.Charge
	if ch == nil || r.Limiter == nil || c.Analyzer != analysis.AnalyzerLLM || (n == 0 && j.Attempt <= 1 && ch.Paid) {
		return c, false
	}
	res, err := r.Limiter.Allow(ctx, ch.Key, ch.Limit, 1)
	if err == nil && res.Allowed {
		return c, false
	}
	if err != nil {
		r.Log.Error(err, "the analysis budget could not be spent; the built-in analyzer runs", "team", j.Team, "analysis", j.Analysis)
	}
	c.Analyzer = analysis.AnalyzerBuiltin
	return c, true
}

// run reads the completed interviews, analyzes them and commits the outcome.
func (r *Runner) run(ctx context.Context, ts store.TeamStore, a store.Analysis, c analysis.Campaign) error {
	in, err := Input(ctx, ts, a.CampaignID, c)
	if err != nil {
		return err
	}
	found, ran, err := analysis.Run(ctx, r.Analyzer, in)
	if err != nil {
		return fmt.Errorf("findings: analyze: %w", err)
	}
	// One analysis runs per campaign at a time, so the findings read here are the ones the
	// sync below replaces.
	prev, err := analysisFindings(ctx, ts, a.CampaignID)
	if err != nil {
		return err
	}
	fs, err := toStore(found, in)
	if err != nil {
		return err
	}
	carry(fs, analysis.CarryKeys(prev, found))
	err = ts.InTx(ctx, func(tx store.TeamStore) error {
		synced, err := tx.SyncAnalysisFindings(ctx, a.CampaignID, read(in), fs)
		if err != nil {
			return err
		}
		ids := make([]store.FindingID, len(synced.Findings))
		for i, s := range synced.Findings {
			ids[i] = s.Finding.ID
			switch s.Change {
			case store.FindingCreated:
				err = store.AnnounceFinding(ctx, tx, EventFindingCreated, s.Finding)
			case store.FindingUpdated:
				err = store.AnnounceFinding(ctx, tx, EventFindingUpdated, s.Finding)
			}
			if err != nil {
				return err
			}
		}
		done, err := tx.FinishAnalysis(ctx, a.ID, store.AnalysisResult{FindingIDs: ids, Analyzer: ran})
		if err != nil {
			return err
		}
		return announce(ctx, tx, EventAnalysisCompleted, string(done.ID), done.CampaignID, resources.NewAnalysis(done))
	})
	if errors.Is(err, store.ErrInvalidState) || errors.Is(err, store.ErrNotFound) {
		return nil // another run finished it first, or its campaign's data is gone
	}
	return err
}

// carry marks each finding that CarryKeys found to continue a stored one under another key
// (carried is found, in order, with those keys given the stored ones). The finding keeps the
// analyzer's own key, and the stored finding takes it when the findings are synced: the
// next run names the theme the same way and finds it by key, with no need for the evidence
// to still overlap, which a person may have edited meanwhile.
func carry(fs []store.NewFinding, carried []analysis.Finding) {
	for i := range fs {
		if k := carried[i].Key; k != fs[i].Key {
			fs[i].Carries = k
		}
	}
}

// read are the interviews an analysis input holds.
func read(in analysis.Input) []store.InterviewID {
	ids := make([]store.InterviewID, len(in.Interviews))
	for i, iv := range in.Interviews {
		ids[i] = store.InterviewID(iv.ID)
	}
	return ids
}

// fail ends the analysis as failed and announces it; one that already ended stays as it is.
// Findings an erasure redacted, which this analysis was to write anew, say that it failed
// (redactedNote); they are written first, as a sync writes findings before its analysis, so
// the two never wait on each other's rows in a cycle.
func (r *Runner) fail(ctx context.Context, ts store.TeamStore, a store.Analysis, msg string) error {
	err := ts.InTx(ctx, func(tx store.TeamStore) error {
		if _, err := tx.NoteRedactedFindings(ctx, a.CampaignID, redactedNote(a.ID, msg)); err != nil {
			return err
		}
		done, err := tx.FinishAnalysis(ctx, a.ID, store.AnalysisResult{Error: msg})
		if err != nil {
			return err
		}
		return announce(ctx, tx, EventAnalysisCompleted, string(done.ID), done.CampaignID, resources.NewAnalysis(done))
	})
	if errors.Is(err, store.ErrInvalidState) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// redactedNote is the summary of a finding an erasure redacted (store.RedactedTitle) once the
// analysis that was to write it anew has failed: which analysis it was, so a client can read
// it (GET /analyses/{id}), what failed, and what brings the finding back. Only the server's
// words: what the finding said stays erased, as it may have been the erased participant's.
func redactedNote(id store.AnalysisID, msg string) string {
	return "Analysis " + string(id) + " failed: " + msg + ". This finding's title and summary were removed when an interview " +
		"of the campaign was erased, as they may have held that participant's words; the next analysis of the campaign " +
		"that succeeds writes them anew."
}

// Input reads every completed interview of a campaign, page by page, with its transcript.
func Input(ctx context.Context, ts store.TeamStore, campaign store.CampaignID, c analysis.Campaign) (analysis.Input, error) {
	in := analysis.Input{Campaign: c}
	req := store.PageRequest{Sort: store.SortCreatedAt, Order: store.Asc, Limit: store.MaxPageLimit, SkipTotal: true}
	f := store.InterviewFilter{CampaignID: campaign, Status: store.InterviewCompleted}
	for {
		page, err := ts.ListInterviews(ctx, f, req)
		if err != nil {
			return analysis.Input{}, fmt.Errorf("findings: read interviews: %w", err)
		}
		for _, iv := range page.Items {
			msgs, err := transcript(ctx, ts, iv.ID)
			if err != nil {
				return analysis.Input{}, err
			}
			in.Interviews = append(in.Interviews, analysis.Interview{ID: string(iv.ID), Messages: msgs})
		}
		if !page.HasMore {
			return in, nil
		}
		req.After = page.Next
	}
}

// analysisFindings reads the campaign's findings made by analysis, as the analyzer's
// findings that CarryKeys compares: key, type and quotes.
func analysisFindings(ctx context.Context, ts store.TeamStore, campaign store.CampaignID) ([]analysis.Finding, error) {
	var out []analysis.Finding
	req := store.PageRequest{Limit: store.MaxPageLimit, SkipTotal: true}
	for {
		page, err := ts.ListFindings(ctx, store.FindingFilter{CampaignID: campaign}, req)
		if err != nil {
			return nil, fmt.Errorf("findings: read the campaign's findings: %w", err)
		}
		for _, f := range page.Items {
			if f.Source != store.SourceAnalysis || f.Key == "" {
				continue
			}
			af := analysis.Finding{Key: f.Key, Type: string(f.Type)}
			for _, e := range f.Evidence {
				af.Evidence = append(af.Evidence, analysis.Evidence{InterviewID: string(e.InterviewID), MessageID: string(e.MessageID), Quote: e.Quote})
			}
			out = append(out, af)
		}
		if !page.HasMore {
			return out, nil
		}
		req.After = page.Next
	}
}

// transcript reads an interview's messages in order.
func transcript(ctx context.Context, ts store.TeamStore, id store.InterviewID) ([]analysis.Message, error) {
	var out []analysis.Message
	req := store.PageRequest{Limit: store.MaxPageLimit, SkipTotal: true}
	for {
		page, err := ts.ListMessages(ctx, id, req)
		if err != nil {
			return nil, fmt.Errorf("findings: transcript of %s: %w", id, err)
		}
		for _, m := range page.Items {
			out = append(out, analysis.Message{ID: string(m.ID), Role: analysis.Role(m.Role), Content: m.Content})
		}
		if !page.HasMore {
			return out, nil
		}
		req.After = page.Next
	}
}

var (
	findingTypes = []string{analysis.TypeTheme, analysis.TypePainPoint, analysis.TypeOpportunity, analysis.TypeInsight}
	sentiments   = []string{analysis.SentimentPositive, analysis.SentimentNeutral, analysis.SentimentNegative, analysis.SentimentMixed}
)

// toStore checks an analyzer's findings against its input. A finding with no key, a key seen
// before, no title (or one that shows as nothing), or an unknown type or sentiment is an analyzer bug: the analysis fails. Evidence
// that does not hold (an interview or message not in the input, a quote that is not an
// exact substring of its message) is dropped, so nothing is ever quoted that was not said.
func toStore(found []analysis.Finding, in analysis.Input) ([]store.NewFinding, error) {
	type msg struct{ interview, content string }
	interviews := map[string]bool{}
	messages := map[string]msg{}
	for _, iv := range in.Interviews {
		interviews[iv.ID] = true
		for _, m := range iv.Messages {
			messages[m.ID] = msg{interview: iv.ID, content: m.Content}
		}
	}
	out := make([]store.NewFinding, 0, len(found))
	keys := map[string]bool{}
	for i, f := range found {
		sentiment := cmp.Or(f.Sentiment, analysis.SentimentNeutral)
		title := readable(f.Title)
		switch {
		case f.Key == "" || keys[f.Key]:
			return nil, fmt.Errorf("finding %d: empty or repeated key: %w", i, errPermanent)
		case decode.Blank(title):
			return nil, fmt.Errorf("finding %d: no title: %w", i, errPermanent)
		case !slices.Contains(findingTypes, f.Type) || !slices.Contains(sentiments, sentiment):
			return nil, fmt.Errorf("finding %d: type %q, sentiment %q: %w", i, f.Type, f.Sentiment, errPermanent)
		}
		keys[f.Key] = true
		var ev []store.Evidence
		for _, e := range f.Evidence {
			m, named := messages[e.MessageID]
			switch {
			case !interviews[e.InterviewID] || strings.TrimSpace(e.Quote) == "":
			case e.MessageID != "" && (!named || m.interview != e.InterviewID || !strings.Contains(m.content, e.Quote)):
			default:
				ev = append(ev, store.Evidence{InterviewID: store.InterviewID(e.InterviewID), MessageID: store.MessageID(e.MessageID), Quote: e.Quote})
			}
		}
		confidence := f.Confidence
		if math.IsNaN(confidence) {
			confidence = 0
		}
		out = append(out, store.NewFinding{Key: f.Key, Type: store.FindingType(f.Type), Title: title,
			Summary: f.Summary, Evidence: ev, Frequency: max(f.Frequency, 0), Sentiment: store.Sentiment(sentiment),
			Confidence: min(max(confidence, 0), 1), Tags: readableTags(f.Tags), Source: store.SourceAnalysis})
	}
	return out, nil
}

// readable is a title or tag as the API's rule for one has it: an analyzer writes them from
// what participants said, and a participant's direction override ("export to \u202eVSC")
// would make a title read as something it is not wherever it shows, the public share page
// and terminals included. So overrides, embeddings and isolates go, as a manual title could
// not have them.
func readable(s string) string { return strings.TrimSpace(decode.DropReorders(s)) }

// readableTags are tags made readable, without those left blank.
func readableTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = readable(t); !decode.Blank(t) {
			out = append(out, t)
		}
	}
	return out
}
