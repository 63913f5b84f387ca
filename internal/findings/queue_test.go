package findings_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"

	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/findings"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
)

var pg = pgtest.New()

func TestMain(m *testing.M) {
	if os.Getenv(crashHelperEnv) != "" {
		crashHelper()
		return
	}
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// backends are both store backends, each a fresh database per test.
var backends = pg.Backends()

// topics is a tiny deterministic analyzer: one theme per topic word that participants say,
// keyed by the word, quoting it. block, when set, makes it wait for its context to end.
type topics struct {
	calls atomic.Int32
	block bool
}

var topicWords = []string{"pricing", "setup", "support", "export"}

func (a *topics) Analyze(ctx context.Context, in analysis.Input) ([]analysis.Finding, error) {
	a.calls.Add(1)
	if a.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	var out []analysis.Finding
	for _, w := range topicWords {
		f := analysis.Finding{Key: "topic:" + w, Title: "Talk of " + w, Type: analysis.TypeTheme,
			Sentiment: analysis.SentimentMixed, Confidence: 0.5, Tags: []string{w}}
		for _, iv := range in.Interviews {
			for _, m := range iv.Messages {
				if m.Role == analysis.RoleParticipant && strings.Contains(m.Content, w) {
					f.Evidence = append(f.Evidence, analysis.Evidence{InterviewID: iv.ID, MessageID: m.ID, Quote: w})
					f.Frequency++
					break
				}
			}
		}
		if f.Frequency > 0 {
			out = append(out, f)
		}
	}
	return out, nil
}

// renamed finds what topics finds under other keys from its second run on, as the built-in
// analyzer does when a theme crosses a threshold on another of its paths, and as a campaign
// that switched analyzers does.
type renamed struct{ topics }

func (a *renamed) Analyze(ctx context.Context, in analysis.Input) ([]analysis.Finding, error) {
	fs, err := a.topics.Analyze(ctx, in)
	for i := range fs {
		fs[i].Key = fmt.Sprintf("run%d:%s", min(a.calls.Load(), 2), fs[i].Key)
	}
	return fs, err
}

// completed makes a completed interview whose participant says text.
func completed(t *testing.T, ts store.TeamStore, c store.CampaignID, text string) store.Interview {
	t.Helper()
	ctx := context.Background()
	iv, err := ts.CreateInterview(ctx, store.NewInterview{CampaignID: c})
	if err == nil {
		_, err = ts.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleInterviewer, Content: "What was hard?"})
	}
	if err == nil {
		_, err = ts.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: text})
	}
	if err == nil {
		iv, err = ts.EndInterview(ctx, iv.ID, store.InterviewCompleted)
	}
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

func newQueue(t *testing.T, s store.Store, a analysis.Analyzer, rescue time.Duration) *findings.Queue {
	t.Helper()
	return startQueue(t, findings.QueueConfig{Store: s, Analyzer: a,
		JobTimeout: rescue, RescueAfter: rescue, PollInterval: 100 * time.Millisecond, Logger: logr.Discard()})
}

// startQueue starts a queue of cfg, stopped when the test ends.
func startQueue(t *testing.T, cfg findings.QueueConfig) *findings.Queue {
	t.Helper()
	q, err := findings.NewQueue(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = q.Stop(stop)
		cancel()
		q.Close()
	})
	return q
}

// analyzedCampaign is a new team's campaign on backend b, with a queue whose workers run a.
func analyzedCampaign(t *testing.T, b pgtest.Backend, a analysis.Analyzer) (store.TeamStore, store.CampaignID, *findings.Queue) {
	t.Helper()
	s := pgtest.Open(t, b.DSN(t))
	return s.Team(store.TeamID(uuid.NewString())), store.CampaignID(uuid.NewString()), newQueue(t, s, a, 30*time.Second)
}

func analyze(t *testing.T, q *findings.Queue, ts store.TeamStore, c store.CampaignID) store.Analysis {
	t.Helper()
	a, _, err := q.Analyze(context.Background(), ts, c, analysis.Campaign{Title: "Study"}, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// wait polls an analysis until it ends.
func wait(t *testing.T, ts store.TeamStore, id store.AnalysisID, within time.Duration) store.Analysis {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		a, err := ts.GetAnalysis(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == store.AnalysisSucceeded || a.Status == store.AnalysisFailed {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("analysis %s still %s after %s", id, a.Status, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// events counts the outbox's events by type.
func events(t *testing.T, ts store.TeamStore) map[string]int {
	t.Helper()
	evs, err := ts.PendingEvents(context.Background(), store.MaxPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs {
		out[e.Type]++
	}
	return out
}

func findingIDs(t *testing.T, ts store.TeamStore, c store.CampaignID) map[string]store.FindingID {
	t.Helper()
	page, err := ts.ListFindings(context.Background(), store.FindingFilter{CampaignID: c}, store.PageRequest{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.FindingID{}
	for _, f := range page.Items {
		out[f.Title+"/"+string(f.Source)] = f.ID
	}
	return out
}

// A re-analysis keeps the ids of the themes it found before, removes the ones gone, never
// touches manual findings, and writes events only for what changed.
func TestReanalysisIsStable(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ts, c, q := analyzedCampaign(t, b, &topics{})
			one := completed(t, ts, c, "The pricing page confused me and setup was slow.")
			manual, err := findings.Create(context.Background(), ts, store.NewFinding{CampaignID: c, Type: store.FindingInsight,
				Title: "Written by a person", Evidence: []store.Evidence{{InterviewID: one.ID, Quote: "pricing"}}})
			if err != nil {
				t.Fatal(err)
			}

			first := wait(t, ts, analyze(t, q, ts, c).ID, 20*time.Second)
			if first.Status != store.AnalysisSucceeded || len(first.FindingIDs) != 2 {
				t.Fatalf("first analysis: %+v", first)
			}
			before := findingIDs(t, ts, c)
			second := wait(t, ts, analyze(t, q, ts, c).ID, 20*time.Second)
			if second.ID == first.ID || !slices.Equal(second.FindingIDs, first.FindingIDs) {
				t.Fatalf("second analysis: %+v, first %+v", second, first)
			}
			if got := events(t, ts); got[findings.EventFindingCreated] != 3 || got[findings.EventFindingUpdated] != 0 ||
				got[findings.EventAnalysisCompleted] != 2 {
				t.Fatalf("events after two identical runs: %v", got)
			}

			completed(t, ts, c, "Nobody from support answered, and export was broken; pricing too.")
			third := wait(t, ts, analyze(t, q, ts, c).ID, 20*time.Second)
			after := findingIDs(t, ts, c)
			if len(third.FindingIDs) != 4 || after["Talk of pricing/analysis"] != before["Talk of pricing/analysis"] ||
				after["Talk of setup/analysis"] != before["Talk of setup/analysis"] || after["Written by a person/manual"] != manual.ID {
				t.Fatalf("third analysis %+v: findings %v, before %v", third, after, before)
			}
			if got := events(t, ts); got[findings.EventFindingCreated] != 5 || got[findings.EventFindingUpdated] != 1 ||
				got[findings.EventAnalysisCompleted] != 3 {
				t.Fatalf("events after the third run: %v", got) // pricing's frequency went to 2
			}
		})
	}
}

// A theme the analyzer finds again under another key, quoting the same people, is the
// finding it made before: same id, no event, and it takes the newest key, by which the next
// run finds it even when a person has edited its evidence until it quotes none of the
// answers the analyzer quotes.
func TestReanalysisCarriesRenamedThemes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ts, c, q := analyzedCampaign(t, b, &renamed{})
			completed(t, ts, c, "The pricing page confused me and setup was slow.")
			other := completed(t, ts, c, "Setup took a week; pricing was fine.")

			first := wait(t, ts, analyze(t, q, ts, c).ID, 20*time.Second)
			second := wait(t, ts, analyze(t, q, ts, c).ID, 20*time.Second)
			if first.Status != store.AnalysisSucceeded || len(first.FindingIDs) != 2 || !slices.Equal(second.FindingIDs, first.FindingIDs) {
				t.Fatalf("first analysis %+v, second %+v", first, second)
			}
			if got := events(t, ts); got[findings.EventFindingCreated] != 2 || got[findings.EventFindingUpdated] != 0 {
				t.Fatalf("events after a run that renamed every theme: %v", got)
			}
			for _, id := range second.FindingIDs {
				f, err := ts.GetFinding(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(f.Key, "run2:") {
					t.Fatalf("finding %s has key %q, want the second run's", id, f.Key)
				}
			}

			quote := []store.Evidence{{InterviewID: other.ID, Quote: "Setup took a week"}}
			if _, _, err := ts.UpdateFinding(context.Background(), findingIDs(t, ts, c)["Talk of pricing/analysis"],
				store.FindingPatch{Evidence: &quote}); err != nil {
				t.Fatal(err)
			}
			if third := wait(t, ts, analyze(t, q, ts, c).ID, 20*time.Second); !slices.Equal(third.FindingIDs, first.FindingIDs) {
				t.Fatalf("after an evidence edit: %v, want the ids %v kept", third.FindingIDs, first.FindingIDs)
			}
		})
	}
}

// erasing is an analyzer during whose first run an interview is erased: it titles its one
// finding with every participant's words, as a title may quote people its evidence does not.
type erasing struct {
	calls  atomic.Int32
	ts     store.TeamStore
	victim store.InterviewID
}

func (a *erasing) Analyze(ctx context.Context, in analysis.Input) ([]analysis.Finding, error) {
	if a.calls.Add(1) == 1 {
		if err := a.ts.DeleteInterview(ctx, a.victim); err != nil {
			return nil, err
		}
	}
	f := analysis.Finding{Key: "said", Type: analysis.TypeTheme, Sentiment: analysis.SentimentMixed, Confidence: 0.5}
	var said []string
	for _, iv := range in.Interviews {
		m := iv.Messages[len(iv.Messages)-1]
		said = append(said, m.Content)
		if store.InterviewID(iv.ID) != a.victim {
			f.Evidence = append(f.Evidence, analysis.Evidence{InterviewID: iv.ID, MessageID: m.ID, Quote: m.Content})
		}
	}
	f.Title, f.Frequency = strings.Join(said, " / "), len(in.Interviews)
	return []analysis.Finding{f}, nil
}

// An interview erased while an analysis runs never reaches its findings: the findings made
// from it are not stored, and the analysis is made again without it.
func TestErasureDuringAnalysis(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			s := pgtest.Open(t, b.DSN(t))
			ts, c := s.Team(store.TeamID(uuid.NewString())), store.CampaignID(uuid.NewString())
			completed(t, ts, c, "Setup was slow.")
			a := &erasing{ts: ts, victim: completed(t, ts, c, "Ask Xanthe Quillfeather about the pricing.").ID}
			q := newQueue(t, s, a, 30*time.Second)

			done := wait(t, ts, analyze(t, q, ts, c).ID, 20*time.Second)
			if done.Status != store.AnalysisSucceeded || len(done.FindingIDs) != 1 || a.calls.Load() != 2 {
				t.Fatalf("analysis %+v after %d runs, want one finding after two runs", done, a.calls.Load())
			}
			f, err := ts.GetFinding(context.Background(), done.FindingIDs[0])
			if err != nil {
				t.Fatal(err)
			}
			if f.Title != "Setup was slow." || f.Frequency != 1 {
				t.Fatalf("finding %q (frequency %d), want it made from the interview left", f.Title, f.Frequency)
			}
		})
	}
}

// A second analyze while one is queued or running returns that one.
func TestOneAnalysisPerCampaign(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			s := pgtest.Open(t, b.DSN(t))
			ts := s.Team(store.TeamID(uuid.NewString()))
			c := store.CampaignID(uuid.NewString())
			completed(t, ts, c, "setup")
			q, err := findings.NewQueue(context.Background(), findings.QueueConfig{Store: s, Logger: logr.Discard()}) // inserts only
			if err == nil {
				err = q.Start(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			spent := 0
			spend := func() error { spent++; return nil }
			a, existing, err := q.Analyze(context.Background(), ts, c, analysis.Campaign{}, spend)
			if err != nil || existing {
				t.Fatal(existing, err)
			}
			again, existing, err := q.Analyze(context.Background(), ts, c, analysis.Campaign{}, spend)
			if err != nil || !existing || again.ID != a.ID || spent != 1 {
				t.Fatalf("second analyze: %+v existing %v spent %d: %v", again, existing, spent, err)
			}

			// Requests racing for a campaign's first analysis spend once between them and
			// all answer the same one (several rounds, each released at once).
			for round := range 5 {
				raced := store.CampaignID(uuid.NewString())
				completed(t, ts, raced, fmt.Sprint("raced-", round))
				var racedSpent atomic.Int32
				ids := make(chan store.AnalysisID, 16)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for range 16 {
					wg.Go(func() {
						<-start
						a, _, err := q.Analyze(context.Background(), ts, raced, analysis.Campaign{}, func() error { racedSpent.Add(1); return nil })
						if err != nil {
							t.Error(err)
						}
						ids <- a.ID
					})
				}
				close(start)
				wg.Wait()
				close(ids)
				distinct := map[store.AnalysisID]bool{}
				for id := range ids {
					distinct[id] = true
				}
				if racedSpent.Load() != 1 || len(distinct) != 1 {
					t.Fatalf("16 racing analyze calls spent %d and answered %d analyses", racedSpent.Load(), len(distinct))
				}
			}

			// A refused spend leaves no analysis behind: the campaign's slot is free again.
			refused := store.CampaignID(uuid.NewString())
			completed(t, ts, refused, "refused")
			errSpent := errors.New("budget spent")
			if _, _, err := q.Analyze(context.Background(), ts, refused, analysis.Campaign{}, func() error { return errSpent }); !errors.Is(err, errSpent) {
				t.Fatalf("refused analyze: %v", err)
			}
			if a, err := ts.ActiveAnalysis(context.Background(), refused); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a refused analyze left %+v (%v)", a, err)
			}
			if _, existing, err := q.Analyze(context.Background(), ts, refused, analysis.Campaign{}, spend); err != nil || existing {
				t.Fatalf("analyze after a refusal: existing %v: %v", existing, err)
			}

			// Requests racing into a spent budget are all refused: none is shown an analysis
			// that the refusal then takes away.
			edge := store.CampaignID(uuid.NewString())
			completed(t, ts, edge, "edge")
			start := make(chan struct{})
			var shown atomic.Int32
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					<-start
					a, _, err := q.Analyze(context.Background(), ts, edge, analysis.Campaign{}, func() error {
						time.Sleep(20 * time.Millisecond) // a limiter across the network
						return errSpent
					})
					if !errors.Is(err, errSpent) || a.ID != "" {
						shown.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			if n := shown.Load(); n != 0 {
				t.Fatalf("%d of 16 requests into a spent budget were answered with an analysis", n)
			}
		})
	}
}

// The crash helper is this test binary run again as a worker whose analyzer blocks: it says
// "running" once the job has started, and the test kills it with SIGKILL.
const crashHelperEnv = "QUAL_FINDINGS_CRASH_HELPER_DSN"

func crashHelper() {
	s, err := store.Open(context.Background(), os.Getenv(crashHelperEnv))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	a := &topics{block: true}
	// A job carries the rescue bound of the client running it (jobs.Config.RescueAfter, raised
	// to its JobTimeout), so this run's bounds say when the job it dies in is rescued; the
	// test kills it long before the run would time out.
	q, err := findings.NewQueue(context.Background(), findings.QueueConfig{Store: s, Analyzer: a, JobTimeout: 10 * time.Second,
		RescueAfter: 10 * time.Second, PollInterval: 100 * time.Millisecond, Logger: logr.Discard()})
	if err == nil {
		err = q.Start(context.Background())
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for a.calls.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("running")
	select {}
}

// A job whose worker process dies runs again on another worker once River's rescuer sees it
// stuck, and the analysis finishes exactly once: one set of findings, one analysis.completed.
func TestAnalysisSurvivesAWorkerCrash(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			dsn := b.DSN(t)
			s := pgtest.Open(t, dsn)
			ts := s.Team(store.TeamID(uuid.NewString()))
			c := store.CampaignID(uuid.NewString())
			completed(t, ts, c, "The pricing page confused me and setup was slow.")
			// The job is rescued by whichever client leads when it is stuck, after the bound
			// of the client whose run died (the crash helper's).
			inserter, err := findings.NewQueue(context.Background(), findings.QueueConfig{Store: s,
				JobTimeout: 2 * time.Second, RescueAfter: 2 * time.Second, Logger: logr.Discard()})
			if err == nil {
				err = inserter.Start(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			defer inserter.Close()
			queued := analyze(t, inserter, ts, c)

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashHelperEnv+"="+dsn)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			if strings.TrimSpace(line) != "running" {
				_ = cmd.Process.Kill()
				t.Fatalf("crash helper: %q", line)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if a, _ := ts.GetAnalysis(context.Background(), queued.ID); a.Status != store.AnalysisRunning {
				t.Fatalf("after the crash: %+v", a)
			}

			second := &topics{}
			newQueue(t, s, second, 2*time.Second)
			done := wait(t, ts, queued.ID, 90*time.Second)
			if done.Status != store.AnalysisSucceeded || len(done.FindingIDs) != 2 || second.calls.Load() != 1 {
				t.Fatalf("after the rescue: %+v, analyzer runs %d", done, second.calls.Load())
			}
			time.Sleep(time.Second) // anything left to run twice would run now
			if got := events(t, ts); got[findings.EventAnalysisCompleted] != 1 || got[findings.EventFindingCreated] != 2 {
				t.Fatalf("events: %v", got)
			}
			if ids := findingIDs(t, ts, c); len(ids) != 2 {
				t.Fatalf("findings: %v", ids)
			}
			raw, _ := json.Marshal(done)
			t.Logf("rescued: %s", raw)
		})
	}
}

// downModel is a chat model's analyzer while the model is down on a campaign the built-in
// analyzer, which stands in for it, cannot read: each run asks the model once and fails.
type downModel struct{ runs atomic.Int32 }

func (m *downModel) Analyze(context.Context, analysis.Input) ([]analysis.Finding, error) {
	m.runs.Add(1)
	return nil, fmt.Errorf("the model is down, and the built-in analyzer: %w", analysis.ErrLanguage)
}

// notEnglish is the built-in analyzer on a campaign it cannot read.
type notEnglish struct{}

func (notEnglish) Analyze(context.Context, analysis.Input) ([]analysis.Finding, error) {
	return nil, analysis.ErrLanguage
}

// A retry of a paid analysis is not free model use: the request's unit pays for the model run
// of its first attempt only, each later attempt's spends a unit as it starts, and with none
// left the built-in analyzer stands in (here it cannot read the campaign, so the analysis
// fails for good saying the budget was spent, rather than asking the model again).
func TestAnalysisRetriesSpendTheBudget(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := pgtest.Open(t, b.DSN(t))
			ts, c := s.Team(store.TeamID(uuid.NewString())), store.CampaignID(uuid.NewString())
			completed(t, ts, c, "Der Export nach CSV ist ständig abgestürzt.")
			model := &downModel{}
			limiter := ratelimit.NewMemory()
			q := startQueue(t, findings.QueueConfig{Store: s, Limiter: limiter, MaxAttempts: 3,
				Analyzer:   analysis.Chooser{Builtin: notEnglish{}, Model: func(context.Context) analysis.Analyzer { return model }},
				JobTimeout: 30 * time.Second, PollInterval: 100 * time.Millisecond, Logger: logr.Discard()})
			charge := &findings.Charge{Key: "analyses:" + string(ts.Team()), Limit: ratelimit.Limit{Quota: 2, Window: time.Hour}, Paid: true}
			spend := func() error { // what the analyze request spends
				if r, err := limiter.Allow(ctx, charge.Key, charge.Limit, 1); err != nil || !r.Allowed {
					return fmt.Errorf("spend: %+v %w", r, err)
				}
				return nil
			}
			a, _, err := q.AnalyzeCharged(ctx, ts, c, analysis.Campaign{Title: "Studie", Language: "de", Analyzer: analysis.AnalyzerLLM}, charge, spend)
			if err != nil {
				t.Fatal(err)
			}
			got := wait(t, ts, a.ID, time.Minute)
			left, err := limiter.Peek(ctx, charge.Key, charge.Limit)
			if err != nil {
				t.Fatal(err)
			}
			if runs := model.runs.Load(); runs != 2 || left.Remaining != 0 || got.Status != store.AnalysisFailed ||
				!strings.Contains(got.Error, "Analysis/hr budget was spent") {
				t.Fatalf("three attempts on a budget of two asked the model %d times, left %d units, and ended %s: %q",
					runs, left.Remaining, got.Status, got.Error)
			}
		})
	}
}
