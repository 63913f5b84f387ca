package apiserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
	"qual.cx/operator/internal/teststack"
)

type interview struct {
	ID            string         `json:"id"`
	CampaignID    string         `json:"campaign_id"`
	Status        string         `json:"status"`
	Participant   map[string]any `json:"participant"`
	MessageCount  int            `json:"message_count"`
	QuestionCount int            `json:"question_count"`
	UpdatedAt     string         `json:"updated_at"`
	EndedAt       *string        `json:"ended_at"`
	Messages      []message      `json:"messages"`
	// ParticipantToken is in a start's answer only.
	ParticipantToken *string `json:"participant_token"`
}

type message struct {
	ID          string `json:"id"`
	InterviewID string `json:"interview_id"`
	Role        string `json:"role"`
	Content     string `json:"content"`
	Sequence    int64  `json:"sequence"`
}

type turn struct {
	Message   message   `json:"message"`
	Reply     *message  `json:"reply"`
	Interview interview `json:"interview"`
	Closing   *string   `json:"closing"`
}

// backend is a REST server over one store backend, on the suite's control plane.
type backend struct {
	name string
	url  string
	db   store.Store
}

var (
	// suitePG is the suite's PostgreSQL server, started by the first database asked of it
	// and stopped after the suite.
	suitePG   = pgtest.New()
	pgOnce    sync.Once
	pgBackend backend
	pgErr     error
)

// backends are the suite's server (SQLite, with the controllers) and a REST replica over
// PostgreSQL, started once for the tests that run on both.
func backends(t *testing.T) []backend {
	t.Helper()
	pgOnce.Do(func() {
		tb := &suiteTB{}
		afterSuite = append(afterSuite, tb.cleanup)
		pgdb, err := store.Open(context.Background(), suitePG.Database(tb))
		if err != nil {
			pgErr = err
			return
		}
		srv, err := startStack(context.Background(), ratelimit.NewMemory(), false, pgdb)
		if err != nil {
			pgErr = err
			return
		}
		hs := httptest.NewServer(srv.Handler())
		afterSuite = append(afterSuite, func() { hs.Close(); _ = pgdb.Close() })
		pgBackend = backend{name: "postgres", url: hs.URL, db: pgdb}
	})
	if pgErr != nil {
		t.Fatalf("the PostgreSQL replica: %v", pgErr)
	}
	return []backend{{name: "sqlite", url: api.URL, db: db}, pgBackend}
}

// activeCampaign creates and publishes a campaign.
func activeCampaign(t *testing.T, base, token string, body map[string]any) campaign {
	t.Helper()
	var c campaign
	callAt(t, base, "POST", "/api/v1/campaigns", token, body).expect(t, 201).data(t, &c)
	callAt(t, base, "POST", "/api/v1/campaigns/"+c.ID+"/publish", token, nil).expect(t, 200)
	return c
}

func start(t *testing.T, base, token, campaignID string, body any, headers ...string) interview {
	t.Helper()
	var iv interview
	callAt(t, base, "POST", "/api/v1/campaigns/"+campaignID+"/interviews", token, body, headers...).expect(t, 201).data(t, &iv)
	return iv
}

func answer(t *testing.T, base, token, id, content string, headers ...string) turn {
	t.Helper()
	var tr turn
	callAt(t, base, "POST", "/api/v1/interviews/"+id+"/messages", token, map[string]any{"content": content}, headers...).
		expect(t, 201).data(t, &tr)
	return tr
}

const longAnswer = "The first week I spent most of my time connecting our data sources, which took far longer than the setup guide suggested."

// bigCRMID is an integer float64 cannot hold (2^53 + 1).
const bigCRMID = "9007199254740993"

// A participant holds a whole interview from a browser with a public key: the opening
// question, a probe after a vague answer, the protocol's questions, and the end.
func TestInterviewFromABrowserWithAPublicKey(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn := newTenant(t, "browser-"+b.name, qualv1alpha1.PlanEnterprise)
			const origin = "https://survey.example.com"
			public := makeKeyWith(t, tn.team, "survey", qualv1alpha1.KeyPublic,
				[]qualv1alpha1.Scope{"interviews:read", "interviews:write"}, origin)
			waitUsable(t, "survey key", public)
			c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Onboarding", "objectives": "Learn where setup is hard.",
				"questions": []string{"How did your first week go?", "What almost made you give up?"}, "max_questions": 6})

			pre, err := http.NewRequest("OPTIONS", b.url+"/api/v1/campaigns/"+c.ID+"/interviews", nil)
			if err != nil {
				t.Fatal(err)
			}
			pre.Header.Set("Origin", origin)
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type, x-qual-participant-token")
			if r := send(t, http.DefaultClient, pre); r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != origin ||
				!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "X-Qual-Participant-Token") {
				t.Fatalf("preflight: %d %v", r.status, r.header)
			}
			var iv interview
			r := callAt(t, b.url, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", public, map[string]any{
				"participant": map[string]any{"name": "Ada", "email": "ada@example.com", "external_id": "u-1",
					"metadata": map[string]any{"plan": "pro", "crm_id": json.Number(bigCRMID)}},
			}, "Origin", origin).expect(t, 201)
			r.data(t, &iv)
			// Metadata is kept as given: an integer past 2^53 keeps every digit.
			if !strings.Contains(string(r.body), `"crm_id":`+bigCRMID) {
				t.Fatalf("metadata: %s", r.body)
			}
			if r.header.Get("Access-Control-Allow-Origin") != origin {
				t.Fatalf("start from the browser: no CORS header: %v", r.header)
			}
			// A page can tell a replay from a first answer, and a stale read.
			if exposed := r.header.Get("Access-Control-Expose-Headers"); !strings.Contains(exposed, "Idempotent-Replayed") ||
				!strings.Contains(exposed, "Warning") {
				t.Fatalf("exposed headers: %q", exposed)
			}
			// A page on another origin cannot use the key, not even blindly: nothing starts.
			callAt(t, b.url, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", public, nil, "Origin", "https://evil.example").
				expectError(t, 403, "FORBIDDEN")
			if iv.Status != "in_progress" || iv.QuestionCount != 1 || iv.MessageCount != 1 || len(iv.Messages) != 1 ||
				iv.Messages[0].Role != "interviewer" || iv.Messages[0].Sequence != 1 || !strings.Contains(iv.Messages[0].Content, "first week") {
				t.Fatalf("started: %+v", iv)
			}
			if iv.Participant["email"] != "ada@example.com" || iv.Participant["external_id"] != "u-1" {
				t.Fatalf("participant: %+v", iv.Participant)
			}
			// The page answers with the interview's participant token, as a public key must.
			if iv.ParticipantToken == nil || !strings.HasPrefix(*iv.ParticipantToken, keys.ParticipantPrefix) {
				t.Fatalf("participant token: %v", iv.ParticipantToken)
			}
			page := []string{"Origin", origin, "X-Qual-Participant-Token", *iv.ParticipantToken}

			probe := answer(t, b.url, public, iv.ID, "Fine I guess.", page...)
			if probe.Reply == nil || probe.Reply.Sequence != 3 || probe.Interview.QuestionCount != 2 || probe.Message.Role != "participant" {
				t.Fatalf("a vague answer gets one probe: %+v", probe)
			}
			next := answer(t, b.url, public, iv.ID, longAnswer, page...)
			if next.Reply == nil || !strings.Contains(next.Reply.Content, "give up") {
				t.Fatalf("after the probe, the next protocol question: %+v", next.Reply)
			}
			last := answer(t, b.url, public, iv.ID, "Honestly the pricing page, it hid the limits of the plan until the end of the trial.", page...)
			if last.Reply != nil || last.Interview.Status != "completed" || last.Closing == nil || *last.Closing == "" || last.Interview.EndedAt == nil {
				t.Fatalf("the protocol is done: %+v", last)
			}
			callAt(t, b.url, "POST", "/api/v1/interviews/"+iv.ID+"/messages", public, map[string]any{"content": "one more"}, page...).
				expectError(t, 409, "INVALID_STATE")

			var got interview
			stored := callAt(t, b.url, "GET", "/api/v1/interviews/"+iv.ID, public, nil).expect(t, 200)
			stored.data(t, &got)
			if !strings.Contains(string(stored.body), `"crm_id":`+bigCRMID) {
				t.Fatalf("stored metadata: %s", stored.body)
			}
			if got.MessageCount != 6 || got.QuestionCount != 3 || got.Status != "completed" {
				t.Fatalf("the whole interview: %+v", got)
			}
			checkTranscript(t, b.url, public, iv.ID, 6)
		})
	}
}

// checkTranscript walks an interview's messages two at a time in both orders.
func checkTranscript(t *testing.T, base, token, id string, n int) {
	t.Helper()
	for _, order := range []string{"", "desc"} {
		var seqs []int64
		path := "/api/v1/interviews/" + id + "/messages?limit=2&order=" + order
		for path != "" {
			r := callAt(t, base, "GET", path, token, nil).expect(t, 200)
			var page struct {
				Data       []message `json:"data"`
				Pagination struct {
					NextCursor *string `json:"next_cursor"`
					TotalCount int     `json:"total_count"`
				} `json:"pagination"`
			}
			if err := json.Unmarshal(r.body, &page); err != nil {
				t.Fatal(err)
			}
			if page.Pagination.TotalCount != n {
				t.Fatalf("total_count %d, want %d", page.Pagination.TotalCount, n)
			}
			for _, m := range page.Data {
				seqs = append(seqs, m.Sequence)
			}
			path = ""
			if page.Pagination.NextCursor != nil {
				path = "/api/v1/interviews/" + id + "/messages?limit=2&order=" + order + "&cursor=" + *page.Pagination.NextCursor
			}
		}
		for i, s := range seqs {
			want := int64(i + 1)
			if order == "desc" {
				want = int64(n - i)
			}
			if s != want {
				t.Fatalf("order %q: sequences %v", order, seqs)
			}
		}
		if len(seqs) != n {
			t.Fatalf("order %q: %d messages, want %d", order, len(seqs), n)
		}
	}
}

// makeKeyWith is makeKey for a key limited to browser origins (none: any origin).
func makeKeyWith(t *testing.T, team *qualv1alpha1.Team, name string, typ qualv1alpha1.APIKeyType, scopes []qualv1alpha1.Scope, origins ...string) string {
	t.Helper()
	return makeKeyBy(t, k8s, team, name, "owner@"+team.Name, typ, scopes, origins...)
}

// makeKeyBy is makeKeyWith by the Kubernetes user of c, naming owner.
func makeKeyBy(t *testing.T, c client.Client, team *qualv1alpha1.Team, name, owner string, typ qualv1alpha1.APIKeyType, scopes []qualv1alpha1.Scope, origins ...string) string {
	t.Helper()
	k, err := keys.Mint(typ)
	if err != nil {
		t.Fatal(err)
	}
	obj := &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team-" + team.Name},
		Spec: qualv1alpha1.APIKeySpec{Type: typ, Scopes: scopes, Owner: owner, AllowedOrigins: origins,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: k.HashRef, Prefix: k.Prefix, LastFour: k.LastFour}},
	}
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	return k.Plaintext
}

// max_questions is the server's rule: every interviewer question counts, probes included,
// and the answer to the last one ends the interview with no reply.
func TestMaxQuestionsEndsTheInterview(t *testing.T) {
	tn := newTenant(t, "maxq", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Short", "max_questions": 2,
		"questions": []string{"What do you do?", "What tools do you use?"}})
	iv := start(t, api.URL, tn.secret, c.ID, nil)
	probe := answer(t, api.URL, tn.secret, iv.ID, "Stuff.")
	if probe.Reply == nil || probe.Interview.QuestionCount != 2 {
		t.Fatalf("second question (a probe): %+v", probe)
	}
	end := answer(t, api.URL, tn.secret, iv.ID, longAnswer)
	if end.Reply != nil || end.Interview.Status != "completed" || end.Interview.QuestionCount != 2 {
		t.Fatalf("the answer to the last allowed question ends it: %+v", end)
	}
	// Its events are in the outbox, with the interview as payload.
	events := outbox(t, db, tn.id)
	if events["interview.started"] != 1 || events["interview.completed"] != 1 {
		t.Fatalf("outbox: %v", events)
	}
}

// outbox counts the team's undispatched events by type, checking each payload is an interview.
func outbox(t *testing.T, d store.Store, team string) map[string]int {
	t.Helper()
	evs, err := d.Team(store.TeamID(team)).PendingEvents(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs {
		if !strings.HasPrefix(e.Type, "interview.") {
			continue // the controllers' events of the team's keys and campaigns
		}
		var iv interview
		if err := json.Unmarshal(e.Payload, &iv); err != nil || iv.ID == "" || iv.CampaignID == "" {
			t.Fatalf("%s payload %s (%v)", e.Type, e.Payload, err)
		}
		out[e.Type]++
	}
	return out
}

func TestInterviewStateAndInputRefusals(t *testing.T) {
	tn := newTenant(t, "ivrefuse", qualv1alpha1.PlanEnterprise)
	var draft campaign
	call(t, "POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "Draft"}).expect(t, 201).data(t, &draft)
	e := call(t, "POST", "/api/v1/campaigns/"+draft.ID+"/interviews", tn.secret, nil).expectError(t, 409, "INVALID_STATE")
	if !strings.Contains(e.Message, "draft") {
		t.Fatalf("message: %s", e.Message)
	}
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Live",
		"questions": []string{"How is it going?", "What would you change?", "Anything else?"}})
	iv := start(t, api.URL, tn.secret, c.ID, map[string]any{})

	for name, tc := range map[string]struct {
		body  any
		field string
	}{
		"blank":        {map[string]any{"content": "   "}, "content"},
		"only a BOM":   {map[string]any{"content": "\ufeff "}, "content"},
		"missing":      {map[string]any{}, "content"},
		"too long":     {map[string]any{"content": strings.Repeat("a", 10001)}, "content"},
		"wrong type":   {map[string]any{"content": 42}, "content"},
		"unknown":      {map[string]any{"content": "x", "contnet": "x"}, "contnet"},
		"control char": {map[string]any{"content": "a\u0000b"}, "content"},
		"array":        {map[string]any{"content": []string{"x"}}, "content"},
	} {
		e := call(t, "POST", "/api/v1/interviews/"+iv.ID+"/messages", tn.secret, tc.body).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) == 0 || e.Details[0].Field != tc.field {
			t.Errorf("%s: %+v", name, e)
		}
	}
	answer(t, api.URL, tn.secret, iv.ID, strings.Repeat("word ", 2000)) // exactly 10000 characters is fine

	for name, p := range map[string]map[string]any{
		"participant.email":    {"email": "not-an-address"},
		"participant.name":     {"name": strings.Repeat("n", 201)},
		"participant.metadata": {"metadata": map[string]any{"blob": strings.Repeat("m", 17<<10)}},
	} {
		e := call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, map[string]any{"participant": p}).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) == 0 || e.Details[0].Field != name {
			t.Errorf("%s: %+v", name, e)
		}
	}
	// Metadata nested past 8 levels would make every list that shows it unreadable to
	// parsers with a recursion limit; null is no participant.
	deep := `{"leaf":1}`
	for range 4 {
		deep = `{"a":[` + deep + `]}` // two levels more
	}
	e = call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, `{"participant":{"metadata":`+deep+`}}`).
		expectError(t, 400, "VALIDATION_ERROR")
	if len(e.Details) != 1 || e.Details[0].Field != "participant.metadata" {
		t.Errorf("metadata nested 9 levels: %+v", e)
	}
	// A number no 64-bit float holds would make every list and event showing it unreadable.
	for _, n := range []string{"1e400", "-1e400", "[1, 2e308]"} {
		e = call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, `{"participant":{"metadata":{"n":`+n+`}}}`).
			expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != "participant.metadata" {
			t.Errorf("metadata %s: %+v", n, e)
		}
	}
	if none := start(t, api.URL, tn.secret, c.ID, `{"participant":null}`); none.Participant != nil {
		t.Errorf("participant null stored %v", none.Participant)
	}
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret,
		map[string]any{"participant": map[string]any{"metadata": map[string]any{"a": map[string]any{"b": []any{1, map[string]any{"c": 2}}}}}}).expect(t, 201)
	// A member name is text too (PostgreSQL's jsonb refuses a NUL in one): the error names
	// the object that holds it.
	e = call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret,
		map[string]any{"participant": map[string]any{"metadata": map[string]any{"a\u0000b": 1}}}).expectError(t, 400, "VALIDATION_ERROR")
	if len(e.Details) != 1 || e.Details[0].Field != "participant.metadata" {
		t.Errorf("a NUL in a metadata name: %+v", e.Details)
	}
	// An address as long as SMTP carries is taken (the OpenAPI's 254); one longer is one
	// error, not also a malformed address.
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com"
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, map[string]any{"participant": map[string]any{"email": long}}).expect(t, 201)
	e = call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, map[string]any{"participant": map[string]any{"email": "x" + long}}).
		expectError(t, 400, "VALIDATION_ERROR")
	if len(e.Details) != 1 || e.Details[0].Field != "participant.email" {
		t.Errorf("a 255-character address: %+v", e.Details)
	}

	// Roles and key types.
	viewer := sessionToken(t, "user-ivrefuse-viewer", "ivrefuse-viewer@example.com", 3600e9)
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", viewer, nil).expectError(t, 403, "FORBIDDEN")
	call(t, "POST", "/api/v1/interviews/"+iv.ID+"/messages", viewer, map[string]any{"content": "x"}).expectError(t, 403, "FORBIDDEN")
	call(t, "GET", "/api/v1/interviews/"+iv.ID, viewer, nil).expect(t, 200)
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.scoped, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
	call(t, "GET", "/api/v1/interviews/"+iv.ID, tn.public, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
	call(t, "DELETE", "/api/v1/interviews/"+iv.ID, tn.public, nil).expectError(t, 403, "FORBIDDEN")

	// Pausing refuses new interviews and lets running ones go on.
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/pause", tn.secret, nil).expect(t, 200)
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil).expectError(t, 409, "INVALID_STATE")
	running := call(t, "POST", "/api/v1/interviews/"+iv.ID+"/messages", tn.secret, map[string]any{"content": longAnswer})
	if running.status != 201 {
		t.Fatalf("a paused campaign's running interview takes answers: %d %s", running.status, running.body)
	}
	var done interview
	call(t, "POST", "/api/v1/interviews/"+iv.ID+"/complete", tn.secret, nil).expect(t, 200).data(t, &done)
	if done.Status != "completed" || done.EndedAt == nil {
		t.Fatalf("complete: %+v", done)
	}
	e = call(t, "POST", "/api/v1/interviews/"+iv.ID+"/complete", tn.secret, map[string]any{}).expectError(t, 409, "INVALID_STATE")
	if !strings.Contains(e.Message, "completed") {
		t.Fatalf("the message says from where: %s", e.Message)
	}

	// Completing the campaign ends its running interviews: answered ones as completed,
	// unanswered ones as abandoned.
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/publish", tn.secret, nil).expect(t, 200)
	answered := start(t, api.URL, tn.secret, c.ID, nil)
	answer(t, api.URL, tn.secret, answered.ID, "Stuff.")
	silent := start(t, api.URL, tn.secret, c.ID, nil)
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/complete", tn.secret, nil).expect(t, 200)
	call(t, "POST", "/api/v1/interviews/"+answered.ID+"/messages", tn.secret, map[string]any{"content": longAnswer}).
		expectError(t, 409, "INVALID_STATE")
	// The Campaign controller ends them; polled in the store, so the polls spend no budget.
	waitFor(t, "the completed campaign's interviews to end", func() error {
		for id, want := range map[string]store.InterviewStatus{answered.ID: store.InterviewCompleted, silent.ID: store.InterviewAbandoned} {
			got, err := db.Team(store.TeamID(tn.id)).GetInterview(context.Background(), store.InterviewID(id))
			if err != nil {
				return err
			}
			if got.Status != want {
				return fmt.Errorf("%s is %s, want %s", id, got.Status, want)
			}
		}
		return nil
	})
	var ended interview
	call(t, "GET", "/api/v1/interviews/"+silent.ID, tn.secret, nil).expect(t, 200).data(t, &ended)
	if ended.Status != "abandoned" || ended.EndedAt == nil {
		t.Fatalf("through the API: %+v", ended)
	}

	call(t, "DELETE", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expect(t, 204)
	call(t, "GET", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "GET", "/api/v1/interviews/"+iv.ID+"/messages", tn.secret, nil).expectError(t, 404, "NOT_FOUND")
}

// A turn is one transaction that expects the transcript it read: of two answers racing on
// one interview, one lands and the other is a CONFLICT, never an interleaved transcript.
func TestConcurrentAnswersDoNotInterleave(t *testing.T) {
	tn := newTenant(t, "ivrace", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Race", "max_questions": 50})
	for range 5 {
		iv := start(t, api.URL, tn.secret, c.ID, nil)
		statuses := make(chan int, 4)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				r := call(t, "POST", "/api/v1/interviews/"+iv.ID+"/messages", tn.secret, map[string]any{"content": longAnswer + strconv.Itoa(i)})
				statuses <- r.status
			})
		}
		wg.Wait()
		close(statuses)
		won := 0
		for s := range statuses {
			switch s {
			case 201:
				won++
			case 409:
			default:
				t.Fatalf("status %d", s)
			}
		}
		var got interview
		call(t, "GET", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expect(t, 200).data(t, &got)
		if won < 1 || got.MessageCount != 1+2*won || got.QuestionCount != 1+won {
			t.Fatalf("%d answers won; interview %+v", won, got)
		}
	}
}

// An answer that names the question it replies to lands once: a double submit that does not
// overlap in time is a CONFLICT too, and asks the interviewer nothing.
func TestAnswerNamesItsQuestion(t *testing.T) {
	tn := newTenant(t, "ivreplyto", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Reply to", "max_questions": 50})
	iv := start(t, api.URL, tn.secret, c.ID, nil)
	opening := iv.Messages[0].ID
	send := func(body map[string]any) response {
		return call(t, "POST", "/api/v1/interviews/"+iv.ID+"/messages", tn.secret, body)
	}
	for _, bad := range []any{nil, "", "not-an-id", 7} {
		e := send(map[string]any{"content": longAnswer, "reply_to": bad}).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != "reply_to" {
			t.Fatalf("reply_to %v: %+v", bad, e)
		}
	}
	var first turn
	send(map[string]any{"content": longAnswer, "reply_to": strings.ToUpper(opening)}).expect(t, 201).data(t, &first)
	send(map[string]any{"content": longAnswer, "reply_to": opening}).expectError(t, 409, "CONFLICT")
	// An id that was never one of its questions is a mistake, not a lost race: the answer
	// itself, another interview's question, an id of nothing.
	other := start(t, api.URL, tn.secret, c.ID, nil)
	for _, foreign := range []string{first.Message.ID, other.Messages[0].ID, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"} {
		e := send(map[string]any{"content": longAnswer, "reply_to": foreign}).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != "reply_to" {
			t.Fatalf("reply_to %v: %+v", foreign, e)
		}
	}
	var got interview
	call(t, "GET", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expect(t, 200).data(t, &got)
	if got.MessageCount != 3 || got.QuestionCount != 2 {
		t.Fatalf("a refused answer was stored: %+v", got)
	}
	// Four submits of one answer, one at a time or at once: exactly one lands.
	statuses := make(chan int, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { statuses <- send(map[string]any{"content": longAnswer, "reply_to": first.Reply.ID}).status })
	}
	wg.Wait()
	close(statuses)
	won := 0
	for st := range statuses {
		if st == 201 {
			won++
		} else if st != 409 {
			t.Fatalf("status %d", st)
		}
	}
	call(t, "GET", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expect(t, 200).data(t, &got)
	if won != 1 || got.MessageCount != 5 {
		t.Fatalf("%d of one answer's submits landed; interview %+v", won, got)
	}
}

// The Interviews/hr budget: refused starts cost nothing; past the budget, 429 naming it.
func TestInterviewsHourlyBudget(t *testing.T) {
	tn := newTenant(t, "ivbudget", qualv1alpha1.PlanStarter) // 10 interviews an hour
	var draft campaign
	call(t, "POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "Draft"}).expect(t, 201).data(t, &draft)
	for range 3 {
		call(t, "POST", "/api/v1/campaigns/"+draft.ID+"/interviews", tn.secret, nil).expectError(t, 409, "INVALID_STATE")
	}
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Budget"})
	for range 10 {
		start(t, api.URL, tn.secret, c.ID, nil)
	}
	r := call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil)
	e := r.expectError(t, 429, "RATE_LIMITED")
	if !strings.Contains(e.Message, "Interviews/hr") || r.header.Get("Retry-After") == "" {
		t.Fatalf("429 must name the budget and say when: %s %v", e.Message, r.header)
	}
	// Its rate-limit headers describe the spent budget, not the per-minute one.
	if r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Limit") != "10" ||
		!strings.HasPrefix(r.header.Get("RateLimit-Policy"), `"interviews";q=10;w=3600`) {
		t.Fatalf("429 headers describe another budget: %v", r.header)
	}
	var cmp campaign
	call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expect(t, 200).data(t, &cmp)
	var withCount struct {
		InterviewCount int `json:"interview_count"`
	}
	call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expect(t, 200).data(t, &withCount)
	if withCount.InterviewCount != 10 {
		t.Fatalf("interview_count %d right after 10 starts, want 10", withCount.InterviewCount)
	}
}

// A start the store fails to write spends no Interviews/hr unit: after ten failed starts, a
// starter team (10 an hour) still starts ten, and only then is refused.
func TestUnstoredStartsSpendNoBudget(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	srv, err := teststack.Start(t.Context(), teststack.Options{Config: cfg, Store: db, Limiter: ratelimit.NewMemory(),
		JWTSecret: jwtSecret, Tune: func(c *apiserver.Config) { c.Store = failingStarts{Store: c.Store, failing: &failing} }})
	if err != nil {
		t.Fatal(err)
	}
	replica := httptest.NewServer(srv.Handler())
	t.Cleanup(replica.Close)
	tn := newTenant(t, "ivbudget-unstored", qualv1alpha1.PlanStarter)
	waitFor(t, "the key at the replica", func() error { return authorizedAt(t, replica.URL, "/api/v1/me", tn.secret) })
	c := activeCampaign(t, replica.URL, tn.secret, map[string]any{"title": "Unstored"})
	for range 10 {
		callAt(t, replica.URL, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil).expectError(t, 500, "INTERNAL_ERROR")
	}
	failing.Store(false)
	for range 10 {
		start(t, replica.URL, tn.secret, c.ID, nil)
	}
	e := callAt(t, replica.URL, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil).expectError(t, 429, "RATE_LIMITED")
	if !strings.Contains(e.Message, "Interviews/hr") {
		t.Fatalf("the eleventh start is refused for another reason: %s", e.Message)
	}
}

// A start asks the limiter for its Interviews/hr unit holding no store transaction: while the
// limiter has not answered, another write of the replica commits (SQLite has one writer, which
// a start holding it would keep from every other request), and the start then lands.
func TestInterviewStartHoldsNoTransactionWhileTheLimiterDecides(t *testing.T) {
	limiter := &heldBudget{Limiter: ratelimit.NewMemory(), asked: make(chan struct{}, 1), release: make(chan struct{})}
	srv, err := teststack.Start(t.Context(), teststack.Options{Config: cfg, Store: db, Limiter: limiter, JWTSecret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	replica := httptest.NewServer(srv.Handler())
	t.Cleanup(replica.Close)
	var release sync.Once // before the replica closes, which waits for the held start
	t.Cleanup(func() { release.Do(func() { close(limiter.release) }) })
	tn := newTenant(t, "ivbudget-held", qualv1alpha1.PlanEnterprise)
	waitFor(t, "the key at the replica", func() error { return authorizedAt(t, replica.URL, "/api/v1/me", tn.secret) })
	c := activeCampaign(t, replica.URL, tn.secret, map[string]any{"title": "Held budget"})
	limiter.key.Store("interviews:" + tn.id)
	started := make(chan response, 1)
	go func() {
		started <- callAt(t, replica.URL, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil)
	}()
	<-limiter.asked
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := db.Team(store.TeamID(tn.id)).SaveIdempotency(ctx, store.IdempotencyRecord{Key: "meanwhile", StatusCode: 200}); err != nil {
		t.Fatalf("a write while the start's limiter call was pending: %v", err)
	}
	release.Do(func() { close(limiter.release) })
	var iv interview
	(<-started).expect(t, 201).data(t, &iv)
	var listed []interview
	callAt(t, replica.URL, "GET", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil).expect(t, 200).data(t, &listed)
	if len(listed) != 1 || listed[0].ID != iv.ID {
		t.Fatalf("after the held start: %+v", listed)
	}
}

// heldBudget is a limiter whose decisions about key wait for release, after telling asked.
type heldBudget struct {
	ratelimit.Limiter
	key     atomic.Value
	asked   chan struct{}
	release chan struct{}
}

func (l *heldBudget) Allow(ctx context.Context, key string, limit ratelimit.Limit, n int) (ratelimit.Result, error) {
	if l.key.Load() == key {
		select {
		case l.asked <- struct{}{}:
		default:
		}
		<-l.release
	}
	return l.Limiter.Allow(ctx, key, limit, n)
}

// failingStarts is a store whose interview writes fail while failing is set, as a full disk
// or a lost connection would fail them.
type failingStarts struct {
	store.Store
	failing *atomic.Bool
}

func (s failingStarts) Team(id store.TeamID) store.TeamStore {
	return failingStartsTeam{TeamStore: s.Store.Team(id), failing: s.failing}
}

type failingStartsTeam struct {
	store.TeamStore
	failing *atomic.Bool
}

// InTx hands fn a handle that fails interview writes too.
func (ts failingStartsTeam) InTx(ctx context.Context, fn func(tx store.TeamStore) error) error {
	return ts.TeamStore.InTx(ctx, func(tx store.TeamStore) error {
		return fn(failingStartsTeam{TeamStore: tx, failing: ts.failing})
	})
}

func (ts failingStartsTeam) CreateInterview(ctx context.Context, in store.NewInterview) (store.Interview, error) {
	if ts.failing.Load() {
		return store.Interview{}, errors.New("disk full")
	}
	return ts.TeamStore.CreateInterview(ctx, in)
}

// Lists: filters, both sorts, cursors, exact totals; a session sees every team's.
func TestInterviewLists(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			a := newTenant(t, "ivlist-a-"+b.name, qualv1alpha1.PlanEnterprise)
			c1 := activeCampaign(t, b.url, a.secret, map[string]any{"title": "One"})
			c2 := activeCampaign(t, b.url, a.secret, map[string]any{"title": "Two"})
			var ids []string
			for i := range 5 {
				c := c1
				if i%2 == 1 {
					c = c2
				}
				ids = append(ids, start(t, b.url, a.secret, c.ID, nil).ID)
			}
			callAt(t, b.url, "POST", "/api/v1/interviews/"+ids[0]+"/complete", a.secret, nil).expect(t, 200)
			callAt(t, b.url, "POST", "/api/v1/interviews/"+ids[1]+"/messages", a.secret, map[string]any{"content": longAnswer}).expect(t, 201)

			for query, want := range map[string]int{
				"":                      5,
				"?campaign_id=" + c1.ID: 3,
				"?status=completed":     1,
				"?status=in_progress&campaign_id=" + c2.ID: 2,
				"?team_id=" + a.id:                         5,
			} {
				got := walkInterviews(t, b.url, a.secret, "/api/v1/interviews"+query, 2)
				if len(got) != want {
					t.Errorf("%q: %d interviews, want %d", query, len(got), want)
				}
			}
			if got := walkInterviews(t, b.url, a.secret, "/api/v1/campaigns/"+c2.ID+"/interviews?sort_by=updated_at&order=desc", 1); len(got) != 2 || got[0] != ids[1] {
				t.Errorf("by updated_at, the answered interview first: %v (answered %s)", got, ids[1])
			}
			asc := walkInterviews(t, b.url, a.secret, "/api/v1/interviews?order=asc", 2)
			if strings.Join(asc, ",") != strings.Join(ids, ",") {
				t.Errorf("oldest first: %v, want %v", asc, ids)
			}
			callAt(t, b.url, "DELETE", "/api/v1/interviews/"+ids[4], a.owner, nil).expect(t, 204)
			if got := walkInterviews(t, b.url, a.owner, "/api/v1/interviews?campaign_id="+c1.ID, 100); len(got) != 2 {
				t.Errorf("after a delete, the campaign lists %v", got)
			}
			callAt(t, b.url, "GET", "/api/v1/interviews?status=paused", a.secret, nil).expectError(t, 400, "VALIDATION_ERROR")
			callAt(t, b.url, "GET", "/api/v1/interviews?campaign_id=nope", a.secret, nil).expectError(t, 400, "VALIDATION_ERROR")
			callAt(t, b.url, "GET", "/api/v1/interviews?sort_by=title", a.secret, nil).expectError(t, 400, "VALIDATION_ERROR")
		})
	}
}

// walkInterviews follows a list's cursors and checks total_count on every page.
func walkInterviews(t *testing.T, base, token, path string, limit int) []string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	first := path + sep + "limit=" + strconv.Itoa(limit)
	var ids []string
	total := -1
	for next := first; next != ""; {
		var page struct {
			Data       []interview `json:"data"`
			Pagination struct {
				NextCursor *string `json:"next_cursor"`
				HasMore    bool    `json:"has_more"`
				TotalCount int     `json:"total_count"`
			} `json:"pagination"`
		}
		r := callAt(t, base, "GET", next, token, nil).expect(t, 200)
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		if total >= 0 && page.Pagination.TotalCount != total {
			t.Fatalf("%s: total_count moved from %d to %d", path, total, page.Pagination.TotalCount)
		}
		total = page.Pagination.TotalCount
		for _, iv := range page.Data {
			ids = append(ids, iv.ID)
		}
		next = ""
		if page.Pagination.NextCursor != nil {
			next = first + "&cursor=" + *page.Pagination.NextCursor
		}
	}
	if total != len(ids) {
		t.Fatalf("%s: total_count %d, walked %d", path, total, len(ids))
	}
	return ids
}

// A start repeated with its Idempotency-Key replays the first answer, but never the
// participant's personal data, which must not outlive the interview in a record, nor the
// participant token: a record holds no credential, and a public key's records are shared by
// every page that holds the key, which could guess a key another page sent.
func TestInterviewStartReplayHoldsNoPersonalData(t *testing.T) {
	tn := newTenant(t, "ivreplay", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Replay"})
	body := map[string]any{"participant": map[string]any{"name": "Grace", "email": "grace@example.com"}}
	first := start(t, api.URL, tn.secret, c.ID, body, "Idempotency-Key", "start-1")
	again := start(t, api.URL, tn.secret, c.ID, body, "Idempotency-Key", "start-1")
	if again.ID != first.ID || first.Participant["name"] != "Grace" || again.Participant != nil ||
		first.ParticipantToken == nil || again.ParticipantToken != nil {
		t.Fatalf("first %+v, replay %+v", first, again)
	}
	page := start(t, api.URL, tn.public, c.ID, nil, "Idempotency-Key", "start-1")
	if replayed := start(t, api.URL, tn.public, c.ID, nil, "Idempotency-Key", "start-1"); replayed.ID != page.ID || replayed.ParticipantToken != nil {
		t.Fatalf("a public key's replayed start: %+v", replayed)
	}
	// Records are kept per caller (idempotency.go): the secret key's holds no token.
	var me struct {
		KeyID string `json:"key_id"`
	}
	call(t, "GET", "/api/v1/me", tn.secret, nil).expect(t, 200).data(t, &me)
	record, err := db.Team(store.TeamID("caller:"+me.KeyID)).GetIdempotency(context.Background(), "start-1")
	if err != nil || strings.Contains(string(record.Body), *first.ParticipantToken) || !strings.Contains(string(record.Body), first.ID) {
		t.Fatalf("the idempotency record (%v): %s", err, record.Body)
	}
	var stored interview
	call(t, "GET", "/api/v1/interviews/"+first.ID, tn.secret, nil).expect(t, 200).data(t, &stored)
	if stored.Participant["email"] != "grace@example.com" {
		t.Fatalf("the interview keeps its participant: %+v", stored)
	}
}

// A start repeated after its interview was erased is told so (404 naming the interview, as a
// replay) rather than run again: a retry loop overlapping a GDPR erasure must not store the
// erased participant anew from its body. The record left holds nothing of the participant.
func TestInterviewStartReplayAfterErasure(t *testing.T) {
	tn := newTenant(t, "iverased", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Erased"})
	body := map[string]any{"participant": map[string]any{"name": "Pat Smith", "email": "pat@example.com"}}
	first := start(t, api.URL, tn.secret, c.ID, body, "Idempotency-Key", "start-1")
	call(t, "DELETE", "/api/v1/interviews/"+first.ID, tn.secret, nil).expect(t, 204)
	for range 2 {
		r := call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, body, "Idempotency-Key", "start-1")
		if e := r.expectError(t, 404, "NOT_FOUND"); !strings.Contains(e.Message, "interview "+first.ID) || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the start repeated after the erasure: %s %v", r.body, r.header)
		}
	}
	var listed []interview
	call(t, "GET", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil).expect(t, 200).data(t, &listed)
	if len(listed) != 0 {
		t.Fatalf("the repeated start made %+v", listed)
	}
	var me struct {
		KeyID string `json:"key_id"`
	}
	call(t, "GET", "/api/v1/me", tn.secret, nil).expect(t, 200).data(t, &me)
	record, err := db.Team(store.TeamID("caller:"+me.KeyID)).GetIdempotency(context.Background(), "start-1")
	if err != nil || len(record.Body) != 0 || len(record.RequestHash) != 0 || record.Gone != first.ID {
		t.Fatalf("the start's record after the erasure (%v): %+v", err, record)
	}
}

// An interview erased while its start is still running (between storing the interview and
// recording the start's answer under its Idempotency-Key) leaves the same gone marker as one
// erased after: the repeat of the start is 404 naming the interview, and stores nothing of
// the participant again. The erasure is made from the hook the start's recording runs first,
// so the interleaving is the same on every run.
func TestInterviewErasedWhileItsStartRuns(t *testing.T) {
	var erase func(id string)
	srv, err := teststack.Start(t.Context(), teststack.Options{Config: cfg, Store: db, Limiter: ratelimit.NewMemory(),
		JWTSecret: jwtSecret, Tune: func(c *apiserver.Config) {
			c.Store = beforeRecording{Store: c.Store, key: "start-raced", hook: func(id string) { erase(id) }}
		}})
	if err != nil {
		t.Fatal(err)
	}
	replica := httptest.NewServer(srv.Handler())
	t.Cleanup(replica.Close)
	tn := newTenant(t, "iverased-racing", qualv1alpha1.PlanEnterprise)
	waitFor(t, "the key at the replica", func() error { return authorizedAt(t, replica.URL, "/api/v1/me", tn.secret) })
	erase = func(id string) {
		callAt(t, replica.URL, "DELETE", "/api/v1/interviews/"+id, tn.secret, nil).expect(t, 204)
	}
	c := activeCampaign(t, replica.URL, tn.secret, map[string]any{"title": "Erased while starting"})
	body := map[string]any{"participant": map[string]any{"name": "Pat Smith", "email": "pat@example.com"}}
	first := start(t, replica.URL, tn.secret, c.ID, body, "Idempotency-Key", "start-raced")
	for range 2 {
		r := callAt(t, replica.URL, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, body, "Idempotency-Key", "start-raced")
		if e := r.expectError(t, 404, "NOT_FOUND"); !strings.Contains(e.Message, "interview "+first.ID) || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the start repeated after the erasure it raced: %s %v", r.body, r.header)
		}
	}
	var listed []interview
	callAt(t, replica.URL, "GET", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil).expect(t, 200).data(t, &listed)
	if len(listed) != 0 {
		t.Fatalf("the repeated start made %+v", listed)
	}
}

// beforeRecording is a store whose callers' idempotency records run hook with the id of the
// answer before the answer under key is recorded: a step of another request made while the
// request under key has done its work and not yet recorded it.
type beforeRecording struct {
	store.Store
	key  string
	hook func(answerID string)
}

func (s beforeRecording) Team(id store.TeamID) store.TeamStore {
	if !strings.HasPrefix(string(id), "caller:") {
		return s.Store.Team(id)
	}
	return recordingTeam{TeamStore: s.Store.Team(id), on: s}
}

type recordingTeam struct {
	store.TeamStore
	on beforeRecording
}

func (ts recordingTeam) CompleteIdempotency(ctx context.Context, claim store.IdempotencyRecord, status int, body []byte) error {
	if claim.Key == ts.on.key {
		var answer struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &answer); err == nil && answer.Data.ID != "" {
			ts.on.hook(answer.Data.ID)
		}
	}
	return ts.TeamStore.CompleteIdempotency(ctx, claim, status, body)
}

// Another team's interview does not exist for the caller, on every route.
func TestInterviewTenantIsolation(t *testing.T) {
	a := newTenant(t, "iviso-a", qualv1alpha1.PlanEnterprise)
	b := newTenant(t, "iviso-b", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, a.secret, map[string]any{"title": "Private"})
	iv := start(t, api.URL, a.secret, c.ID, map[string]any{"participant": map[string]any{"email": "secret@example.com"}})
	for _, token := range []string{b.secret, b.owner} {
		call(t, "GET", "/api/v1/interviews/"+iv.ID, token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "GET", "/api/v1/interviews/"+iv.ID+"/messages", token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "POST", "/api/v1/interviews/"+iv.ID+"/messages", token, map[string]any{"content": "hijack"}).expectError(t, 404, "NOT_FOUND")
		call(t, "POST", "/api/v1/interviews/"+iv.ID+"/complete", token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "DELETE", "/api/v1/interviews/"+iv.ID, token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "GET", "/api/v1/campaigns/"+c.ID+"/interviews", token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "GET", "/api/v1/interviews?campaign_id="+c.ID, token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "GET", "/api/v1/interviews?team_id="+a.id, token, nil).expectError(t, 404, "NOT_FOUND")
		if got := walkInterviews(t, api.URL, token, "/api/v1/interviews", 100); len(got) != 0 {
			t.Fatalf("b lists a's interviews: %v", got)
		}
	}
	var still interview
	call(t, "GET", "/api/v1/interviews/"+iv.ID, a.secret, nil).expect(t, 200).data(t, &still)
	if still.Status != "in_progress" || still.MessageCount != 1 {
		t.Fatalf("a's interview was touched: %+v", still)
	}
}

// A key that may answer interviews but not read them (a browser's public key, or a scoped
// key with interviews:write alone) learns nothing of the participant from answering or
// completing an interview another caller started; a key that may read them does.
func TestAnsweringKeyLearnsNoParticipant(t *testing.T) {
	tn := newTenant(t, "answer-only", qualv1alpha1.PlanEnterprise)
	const origin = "https://survey.example.com"
	writers := map[string][]string{
		"public": {makeKeyWith(t, tn.team, "answers-public", qualv1alpha1.KeyPublic, []qualv1alpha1.Scope{"interviews:write"}, origin), "Origin", origin},
		"scoped": {makeKeyWith(t, tn.team, "answers-scoped", qualv1alpha1.KeyScoped, []qualv1alpha1.Scope{"interviews:write"})},
	}
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Who answers", "questions": []string{"How did it go?", "What would you change?"}})
	who := map[string]any{"name": "Victim", "email": "victim@example.com", "external_id": "crm-7", "metadata": map[string]any{"diagnosis": "x"}}
	for name, w := range writers {
		waitUsable(t, name+" key", w[0])
		iv := start(t, api.URL, tn.secret, c.ID, map[string]any{"participant": who})
		// The participant's token, which the public key needs to answer, shows no more.
		headers := append(append([]string{}, w[1:]...), "X-Qual-Participant-Token", *iv.ParticipantToken)
		r := callAt(t, api.URL, "POST", "/api/v1/interviews/"+iv.ID+"/messages", w[0], map[string]any{"content": longAnswer}, headers...).expect(t, 201)
		done := callAt(t, api.URL, "POST", "/api/v1/interviews/"+iv.ID+"/complete", w[0], nil, headers...).expect(t, 200)
		for what, body := range map[string][]byte{"answer": r.body, "complete": done.body} {
			if strings.Contains(string(body), "victim") || strings.Contains(string(body), "crm-7") || strings.Contains(string(body), "diagnosis") {
				t.Errorf("%s key, %s: the participant leaks: %s", name, what, body)
			}
		}
		var tr turn
		r.data(t, &tr)
		if tr.Interview.Participant != nil || tr.Interview.ID != iv.ID {
			t.Errorf("%s key: interview %+v", name, tr.Interview)
		}
	}
	// The team's secret key reads interviews, so it sees the participant it answers for.
	iv := start(t, api.URL, tn.secret, c.ID, map[string]any{"participant": who})
	if tr := answer(t, api.URL, tn.secret, iv.ID, longAnswer); tr.Interview.Participant["email"] != "victim@example.com" {
		t.Errorf("secret key: participant %+v", tr.Interview.Participant)
	}
}

// An anonymous campaign keeps no participant data: a start that sends some is refused, naming
// the field, and one without it runs.
func TestAnonymousCampaignKeepsNoParticipant(t *testing.T) {
	tn := newTenant(t, "anonymous", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Anonymous", "questions": []string{"How did it go?"},
		"settings": map[string]any{"anonymous": true}})
	for _, who := range []map[string]any{{"name": "Ada"}, {"email": "ada@example.com"}, {"external_id": "u-1"}, {"metadata": map[string]any{"plan": "pro"}}} {
		e := callAt(t, api.URL, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, map[string]any{"participant": who}).
			expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != "participant" {
			t.Errorf("%v: details %+v", who, e.Details)
		}
	}
	if iv := start(t, api.URL, tn.secret, c.ID, nil); iv.Participant != nil || iv.Status != "in_progress" {
		t.Fatalf("started %+v", iv)
	}
	// The refused starts left nothing behind.
	var all []interview
	callAt(t, api.URL, "GET", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, nil).expect(t, 200).data(t, &all)
	if len(all) != 1 {
		t.Fatalf("%d interviews, want the one started without participant data", len(all))
	}
}
