// Package analysis measures an analysis through the REST API end to end, on SQLite and on
// PostgreSQL in one run: POST /campaigns/{id}/analyze, then GET /analyses/{id} every 10 ms
// until it has succeeded, for a campaign of 100 and of 1,000 completed interviews. The
// baseline, measured in the same run on the same interviews and alternated with the API
// run, is the built-in analyzer's own time (analysis.New().Analyze on the same input, read
// once beforehand); the ratio says what the queue, reading the transcripts from the store,
// and writing the findings and events in one transaction add to it. read-ms/op is the
// store read alone (findings.Input, as the job does it), for the breakdown.
//
// Run it with:
//
//	KUBEBUILDER_ASSETS="$(hack/control-plane.sh)" go test -run '^$' -bench Analysis -benchtime 3x -timeout 60m ./bench/analysis/
package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/findings"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
	"qual.cx/operator/internal/testenv"
	"qual.cx/operator/internal/teststack"
)

var (
	cfg  *rest.Config
	k8s  client.Client
	pg   = pgtest.New()
	runs atomic.Int64
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(testenv.Main(m, true, func(env *envtest.Environment, c *rest.Config) (func(), error) {
		cfg = c
		var err error
		k8s, err = client.New(cfg, client.Options{Scheme: env.Scheme})
		return pg.Close, err
	}))
}

var backends = pg.Backends()

// BenchmarkAnalysis runs each size on each backend; the stack (a REST replica with its
// analysis workers, as `qual apiserver` runs them) starts once per backend.
func BenchmarkAnalysis(b *testing.B) {
	for _, be := range backends {
		b.Run(be.Name, func(b *testing.B) {
			st := startStack(b, be.DSN(b))
			for _, n := range []int{100, 1000} {
				b.Run(fmt.Sprintf("interviews=%d", n), func(b *testing.B) { benchAnalysis(b, st, n) })
			}
		})
	}
}

func benchAnalysis(b *testing.B, st *stack, n int) {
	spec := qualv1alpha1.CampaignSpec{Title: "Team workspace study", Objectives: "Learn what slows teams down.",
		Questions: questions}
	t := st.newTeam(b, fmt.Sprintf("an%d", n), spec)
	seed(b, st.db.Team(store.TeamID(t.uid)), store.CampaignID(t.campaign), n)
	ctx := context.Background()
	brief := analysis.Campaign{Title: spec.Title, Objectives: spec.Objectives, Questions: spec.Questions}
	in, err := findings.Input(ctx, st.db.Team(store.TeamID(t.uid)), store.CampaignID(t.campaign), brief)
	must(b, err)
	if len(in.Interviews) != n {
		b.Fatalf("%d interviews read, want %d", len(in.Interviews), n)
	}
	analyzer := analysis.New()
	var api, alone, read time.Duration
	found := 0
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		_, err := findings.Input(ctx, st.db.Team(store.TeamID(t.uid)), store.CampaignID(t.campaign), brief)
		must(b, err)
		read += time.Since(start)

		start = time.Now()
		fs, err := analyzer.Analyze(ctx, in)
		must(b, err)
		alone += time.Since(start)

		start = time.Now()
		ids := st.analyze(b, t)
		api += time.Since(start)
		if len(ids) != len(fs) {
			b.Fatalf("the API's analysis left %d findings, the analyzer alone found %d", len(ids), len(fs))
		}
		found = len(fs)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(api), "api-ms/op")
	b.ReportMetric(ms(alone), "analyzer-ms/op")
	b.ReportMetric(ms(read), "read-ms/op")
	b.ReportMetric(float64(api)/float64(alone), "api/analyzer")
	b.ReportMetric(float64(found), "findings")
}

// analyze asks for an analysis and polls it until it has succeeded; it returns its findings.
func (s *stack) analyze(b *testing.B, t team) []string {
	status, body := s.do(b, t, "POST", "/campaigns/"+t.campaign+"/analyze")
	if status != http.StatusAccepted {
		b.Fatalf("analyze: %d %s", status, body)
	}
	var queued struct {
		Data struct{ ID string } `json:"data"`
	}
	must(b, json.Unmarshal(body, &queued))
	for {
		status, body = s.do(b, t, "GET", "/analyses/"+queued.Data.ID)
		var got struct {
			Data struct {
				Status     string   `json:"status"`
				FindingIDs []string `json:"finding_ids"`
			} `json:"data"`
		}
		must(b, json.Unmarshal(body, &got))
		switch {
		case status != http.StatusOK || got.Data.Status == "failed":
			b.Fatalf("analysis: %d %s", status, body)
		case got.Data.Status == "succeeded":
			return got.Data.FindingIDs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The study's protocol, and what participants say: each interview answers every question,
// each answer drawn from a few recurring complaints, wishes and praise (so the analyzer has
// themes to find) plus answers of its own.
var (
	questions = []string{"How did you set up your workspace?", "What slowed your team down?",
		"What would you change first?", "What do you like about it?"}
	answers = [][]string{
		{"Importing our projects took most of a day because the importer kept timing out.",
			"Setup was quick, the templates did most of the work for us.",
			"Inviting the team was confusing; half of them never got the invitation e-mail.",
			"I connected the calendar and it just worked."},
		{"Search is slow, it takes seconds to find a document we wrote last week.",
			"Notifications are overwhelming, we get pinged for every small edit.",
			"The mobile app crashes when we open large boards.",
			"Permissions are confusing, nobody knows who can see what."},
		{"I wish there was an offline mode for when the train has no signal.",
			"Faster search, definitely, the search is far too slow.",
			"Fewer notifications, or at least a daily digest instead of every edit.",
			"Clearer permissions, a simple view of who can see a document."},
		{"The editor is lovely and fast, writing in it is a pleasure.",
			"Comments and mentions make review much easier than e-mail.",
			"Support answered within an hour when we were stuck.",
			"The price is fair for what we get."},
	}
)

// seed stores n completed interviews of the campaign, as the API leaves them.
func seed(b *testing.B, ts store.TeamStore, c store.CampaignID, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range n {
		err := ts.InTx(ctx, func(tx store.TeamStore) error {
			iv, err := tx.CreateInterview(ctx, store.NewInterview{CampaignID: c})
			if err != nil {
				return err
			}
			for q, question := range questions {
				if _, err := tx.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleInterviewer, Content: question}); err != nil {
					return err
				}
				a := answers[q][rng.IntN(len(answers[q]))]
				if rng.IntN(4) == 0 {
					a = fmt.Sprintf("Participant %d here: nothing in particular about that, it was fine.", i)
				}
				if _, err := tx.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: a}); err != nil {
					return err
				}
			}
			_, err = tx.EndInterview(ctx, iv.ID, store.InterviewCompleted)
			return err
		})
		must(b, err)
	}
}

// stack is one backend's REST replica with its analysis workers.
type stack struct {
	db     store.Store
	url    string
	client *http.Client
	run    int64
}

type team struct{ uid, campaign, key string }

func startStack(b *testing.B, dsn string) *stack {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	db, err := store.Open(ctx, dsn)
	must(b, err)
	b.Cleanup(func() { _ = db.Close() })
	srv, err := teststack.Start(ctx, teststack.Options{Config: cfg, Store: db, Limiter: ratelimit.NewMemory(),
		JWTSecret: []byte("analysis-bench-secret-at-least-32-bytes!"),
		Tune: func(c *apiserver.Config) {
			// Budgets out of reach, so the benchmark measures analyses, not refusals.
			c.Plans = plans.Table{qualv1alpha1.PlanEnterprise: {RequestsPerMinute: 60_000_000, InterviewsPerHour: 1_000_000, AnalysisPerHour: 1_000_000}}
		}})
	must(b, err)
	api := httptest.NewServer(srv.Handler())
	b.Cleanup(api.Close)
	return &stack{db: db, url: api.URL + "/api/v1", client: &http.Client{}, run: runs.Add(1)}
}

// newTeam makes an enterprise team as the Team controller would, a secret key and an active
// campaign, and waits until the REST server serves them.
func (s *stack) newTeam(b *testing.B, purpose string, spec qualv1alpha1.CampaignSpec) team {
	ctx := context.Background()
	name := fmt.Sprintf("%s-%d-%d", purpose, s.run, time.Now().UnixNano()%1_000_000)
	tm := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: qualv1alpha1.TeamSpec{
		DisplayName: name, Plan: qualv1alpha1.PlanEnterprise,
		Members: []qualv1alpha1.TeamMember{{Email: "owner@" + name + ".example", Role: qualv1alpha1.RoleOwner}}}}
	must(b, k8s.Create(ctx, tm))
	ns := "team-" + name
	must(b, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels: map[string]string{qualv1alpha1.LabelTeamUID: string(tm.UID)}}}))
	tm.Status.Namespace = ns
	must(b, k8s.Status().Update(ctx, tm))
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	must(b, err)
	must(b, k8s.Create(ctx, &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Credential: &qualv1alpha1.APIKeyCredential{
			HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour}}}))
	spec.State = qualv1alpha1.StateActive
	c := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "study"}, Spec: spec}
	must(b, k8s.Create(ctx, c))
	t := team{uid: string(tm.UID), campaign: string(c.UID), key: minted.Plaintext}
	testenv.Eventually(b, time.Minute, "the REST server serves the team's campaign", func() error {
		if status, body := s.do(b, t, "GET", "/campaigns/"+t.campaign); status != http.StatusOK {
			return fmt.Errorf("GET campaign: %d %s", status, body)
		}
		return nil
	})
	return t
}

// do sends one request with the team's key and no body.
func (s *stack) do(b *testing.B, t team, method, path string) (int, []byte) {
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(""))
	must(b, err)
	req.Header.Set("Authorization", "Bearer "+t.key)
	resp, err := s.client.Do(req)
	must(b, err)
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	must(b, err)
	return resp.StatusCode, out
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
