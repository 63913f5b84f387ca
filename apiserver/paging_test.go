package apiserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/openapi"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/ratelimit/redistest"
)

type page struct {
	Data       []campaign `json:"data"`
	Pagination struct {
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
		TotalCount int     `json:"total_count"`
	} `json:"pagination"`
}

func listPage(t *testing.T, token, query string) page {
	t.Helper()
	r := call(t, "GET", "/api/v1/campaigns?"+query, token, nil).expect(t, 200)
	var p page
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPaginationWalksEveryItemOnceWithInsertsBetweenPages(t *testing.T) {
	tn := newTenant(t, "paging", qualv1alpha1.PlanEnterprise)
	for i := range 23 {
		mode := "research"
		if i%3 == 0 {
			mode = "hr"
		}
		createCampaign(t, tn.secret, map[string]any{"title": fmt.Sprintf("Study %02d", i), "campaign_mode": mode})
	}
	for _, sort := range []string{"created_at", "updated_at", "title"} {
		for _, order := range []string{"asc", "desc"} {
			seen := map[string]bool{}
			query := "limit=5&sort_by=" + sort + "&order=" + order
			p := listPage(t, tn.secret, query)
			before := p.Pagination.TotalCount
			for pages := 0; ; pages++ {
				for _, c := range p.Data {
					if seen[c.ID] {
						t.Fatalf("%s: %s listed twice", query, c.Title)
					}
					seen[c.ID] = true
				}
				if !p.Pagination.HasMore {
					break
				}
				if pages == 1 {
					// An insert between pages: every campaign that existed still shows up
					// exactly once. (The new one shows up if it sorts after the cursor.)
					createCampaign(t, tn.secret, map[string]any{"title": "Inserted " + sort + order})
				}
				p = listPage(t, tn.secret, query+"&cursor="+*p.Pagination.NextCursor)
			}
			if len(seen) < before {
				t.Fatalf("%s: saw %d of the %d that existed", query, len(seen), before)
			}
		}
	}
	// Filters count every match; a title sort is alphabetical.
	p := listPage(t, tn.secret, "campaign_mode=hr&sort_by=title&order=asc&limit=3")
	if p.Pagination.TotalCount != 8 || len(p.Data) != 3 || p.Data[0].Title != "Study 00" || p.Data[1].Title != "Study 03" {
		t.Fatalf("filtered page %+v", p)
	}
	p = listPage(t, tn.secret, "search=STUDY%201&limit=100")
	if p.Pagination.TotalCount != 10 {
		t.Fatalf("search found %d", p.Pagination.TotalCount)
	}
	// A cursor belongs to its query.
	next := *listPage(t, tn.secret, "campaign_mode=hr&limit=2").Pagination.NextCursor
	call(t, "GET", "/api/v1/campaigns?campaign_mode=research&limit=2&cursor="+next, tn.secret, nil).expectError(t, 400, "INVALID_CURSOR")
	call(t, "GET", "/api/v1/campaigns?campaign_mode=hr&limit=2&order=asc&cursor="+next, tn.secret, nil).expectError(t, 400, "INVALID_CURSOR")
	raw, _ := base64.RawURLEncoding.DecodeString(next)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"id":"`, `"id":"0`, 1)))
	call(t, "GET", "/api/v1/campaigns?campaign_mode=hr&limit=2&cursor="+forged, tn.secret, nil).expectError(t, 400, "INVALID_CURSOR")
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "sort_by=slug", "order=up", "status=archived", "campaign_mode=sales",
		"limit=+5", "limit=2&limit=3", "status=draft&status=active", "cursor=" + next + "&cursor=" + next} {
		call(t, "GET", "/api/v1/campaigns?"+q, tn.secret, nil).expectError(t, 400, "VALIDATION_ERROR")
	}
	// An unset parameter sent empty reads as absent: "cursor=" is the first page.
	first := listPage(t, tn.secret, "campaign_mode=hr&limit=2")
	if again := listPage(t, tn.secret, "campaign_mode=hr&limit=2&cursor=&order="); again.Data[0].ID != first.Data[0].ID {
		t.Fatalf("an empty cursor gave another first page: %+v", again)
	}
}

// A user's first team creation is retried with its Idempotency-Key after a lost answer: the
// retry is the same request, though the user now has a team it could act in, and gets the
// replay, not IDEMPOTENCY_CONFLICT (nor a second team).
func TestAUsersFirstTeamCreationReplays(t *testing.T) {
	token := sessionToken(t, "user-first-team-retried", "first-team-retried@example.com", time.Hour)
	body := map[string]any{"name": "First team"}
	first := call(t, "POST", "/api/v1/teams", token, body, "Idempotency-Key", "signup-1").expect(t, 201)
	var made struct {
		ID string `json:"id"`
	}
	first.data(t, &made)
	t.Cleanup(func() { call(t, "DELETE", "/api/v1/teams/"+made.ID, token, nil) })
	again := call(t, "POST", "/api/v1/teams", token, body, "Idempotency-Key", "signup-1").expect(t, 201)
	if string(first.body) != string(again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the retry of a first team's creation:\n%s\n%s", first.body, again.body)
	}
}

func TestIdempotencyKeyReplaysTheFirstResponse(t *testing.T) {
	tn := newTenant(t, "idempotent", qualv1alpha1.PlanEnterprise)
	body := map[string]any{"title": "Exactly once"}
	first := call(t, "POST", "/api/v1/campaigns", tn.secret, body, "Idempotency-Key", "order-42").expect(t, 201)
	again := call(t, "POST", "/api/v1/campaigns", tn.secret, body, "Idempotency-Key", "order-42").expect(t, 201)
	if string(first.body) != string(again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
	}
	// /v1 is an alias of /api/v1: the same request under it is the same request.
	alias := call(t, "POST", "/v1/campaigns", tn.secret, body, "Idempotency-Key", "order-42").expect(t, 201)
	if string(first.body) != string(alias.body) || alias.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the replay under /v1 differs:\n%s\n%s", first.body, alias.body)
	}
	if again.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("a replay must carry the headers of every JSON answer: %v", again.header)
	}
	call(t, "POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "Other"}, "Idempotency-Key", "order-42").
		expectError(t, 409, "IDEMPOTENCY_CONFLICT")
	p := listPage(t, tn.secret, "search=exactly")
	if p.Pagination.TotalCount != 1 {
		t.Fatalf("the repeat created %d campaigns", p.Pagination.TotalCount)
	}

	// An id in the path is one id in any letter case, for the replay as for the lookup.
	var made campaign
	first.data(t, &made)
	published := call(t, "POST", "/api/v1/campaigns/"+made.ID+"/publish", tn.secret, nil, "Idempotency-Key", "publish-1").expect(t, 200)
	upper := call(t, "POST", "/api/v1/campaigns/"+strings.ToUpper(made.ID)+"/publish", tn.secret, nil, "Idempotency-Key", "publish-1").expect(t, 200)
	if string(published.body) != string(upper.body) || upper.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the replay with the id in upper case differs:\n%s\n%s", published.body, upper.body)
	}

	// Two keys would leave the client guessing which one protects the write: refused, and
	// nothing made.
	for _, keys := range [][]string{{"dup-a", "dup-b"}, {"dup-a", ""}} {
		req, err := http.NewRequest("POST", api.URL+"/api/v1/campaigns", strings.NewReader(`{"title":"Unprotected"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tn.secret)
		req.Header["Idempotency-Key"] = keys
		e := exchange(t, http.DefaultClient, req).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != "Idempotency-Key" {
			t.Fatalf("keys %q: %+v", keys, e)
		}
	}
	if p := listPage(t, tn.secret, "search=unprotected"); p.Pagination.TotalCount != 0 {
		t.Fatalf("a refused key made %d campaigns", p.Pagination.TotalCount)
	}

	// Eight identical first requests racing: the work happens once; the others get the
	// replay or are told the first is still running.
	var wg sync.WaitGroup
	var created, running atomic.Int32
	for range 8 {
		wg.Go(func() {
			r := call(t, "POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "Raced once"}, "Idempotency-Key", "race-1")
			switch {
			case r.status == 201:
				created.Add(1)
			case r.status == 409 && strings.Contains(string(r.body), `"CONFLICT"`):
				if r.header.Get("Retry-After") != "1" {
					t.Errorf("told to retry with Retry-After %q, want 1", r.header.Get("Retry-After"))
				}
				running.Add(1)
			default:
				t.Errorf("unexpected %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	if p := listPage(t, tn.secret, "search=raced"); p.Pagination.TotalCount != 1 || created.Load() == 0 {
		t.Fatalf("%d campaigns from 8 racing requests (%d created answers, %d told to retry)",
			p.Pagination.TotalCount, created.Load(), running.Load())
	}
}

// hammer sends n requests from 32 concurrent clients and counts the successes.
func hammer(t *testing.T, urls []string, token string, n int) (ok, limited int64) {
	t.Helper()
	var okN, limitedN atomic.Int64
	var wg sync.WaitGroup
	jobs := make(chan string)
	for range 32 {
		wg.Go(func() {
			for url := range jobs {
				r := callURL(t, url, token)
				switch r.status {
				case 200:
					okN.Add(1)
				case 429:
					if r.header.Get("Retry-After") == "" {
						t.Error("429 without Retry-After")
					}
					limitedN.Add(1)
				default:
					t.Errorf("unexpected %d %s", r.status, r.body)
				}
			}
		})
	}
	for i := range n {
		jobs <- urls[i%len(urls)]
	}
	close(jobs)
	wg.Wait()
	return okN.Load(), limitedN.Load()
}

func TestRateLimitIsExactUnderConcurrency(t *testing.T) {
	tn := newTenant(t, "limited", qualv1alpha1.PlanStarter)
	// newTenant spent some of the 30 per minute; what is left must be what succeeds.
	var u struct {
		Remaining map[string]int       `json:"remaining"`
		ResetsAt  map[string]time.Time `json:"resets_at"`
	}
	start := time.Now()
	r := call(t, "GET", "/api/v1/usage", tn.secret, nil).expect(t, 200)
	r.data(t, &u)
	// The body's reset time is the header's: the second by which the budget is full again.
	if header, _ := strconv.ParseInt(r.header.Get("X-RateLimit-Reset"), 10, 64); u.ResetsAt["requests_per_minute"].Unix() < header {
		t.Fatalf("usage says the requests budget is full at %d, X-RateLimit-Reset says %d", u.ResetsAt["requests_per_minute"].Unix(), header)
	}
	ok, limited := hammer(t, []string{api.URL + "/api/v1/me"}, tn.secret, 80)
	expectWithinBudget(t, ok, limited, 80, u.Remaining["requests_per_minute"], time.Since(start))
	call(t, "GET", "/api/v1/me", tn.secret, nil).expectError(t, 429, "RATE_LIMITED")
}

// expectWithinBudget checks a burst against a 30-per-minute budget: everything left was
// allowed, and beyond it at most the requests the budget earned back while the test ran (one
// every 2 s), never more.
func expectWithinBudget(t *testing.T, ok, limited int64, sent, left int, elapsed time.Duration) {
	t.Helper()
	earned := int64(elapsed/(2*time.Second)) + 1
	if ok < int64(left) || ok > int64(left)+earned || ok+limited != int64(sent) {
		t.Fatalf("%d allowed and %d limited of %d; want %d (+%d earned back at most)", ok, limited, sent, left, earned)
	}
}

func TestRedisRateLimitIsExactAcrossTwoReplicas(t *testing.T) {
	rds := redistest.New()
	t.Cleanup(rds.Close)
	prefix := rds.Prefix(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var urls []string
	for range 2 {
		srv, err := startStack(ctx, ratelimit.NewRedis(rds.Client(t), prefix), false, db)
		if err != nil {
			t.Fatal(err)
		}
		replica := httptest.NewServer(srv.Handler())
		t.Cleanup(replica.Close)
		urls = append(urls, replica.URL+"/api/v1/me")
	}
	tn := newTenant(t, "limited-redis", qualv1alpha1.PlanStarter)
	var start time.Time
	spent := 0
	waitFor(t, "replicas see the key", func() error {
		for _, u := range urls[spent:] {
			r := callURL(t, u, tn.secret)
			if r.status != 200 {
				return fmt.Errorf("%d", r.status) // refused before spending: a 401
			}
			if spent == 0 {
				start = time.Now()
			}
			spent++
		}
		return nil
	})
	// Two replicas spent 2 of the 30; the Redis budget is one, shared.
	ok, limited := hammer(t, urls, tn.secret, 80)
	expectWithinBudget(t, ok, limited, 80, 30-spent, time.Since(start))
}

// A query parameter a route does not take is refused, naming it, as an unknown JSON field
// is: a misspelt filter, or another team named on a list without a team filter, would
// otherwise be ignored and the whole list pass for the filtered one.
func TestUnknownQueryParametersAreRefused(t *testing.T) {
	tn := newTenant(t, "params", qualv1alpha1.PlanEnterprise)
	other := newTenant(t, "params-other", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Params"})
	for _, tc := range []struct{ path, field string }{
		{"/api/v1/campaigns?stauts=active", "stauts"},
		{"/api/v1/webhooks?team_id=" + other.id, "team_id"},
		{"/api/v1/api-keys?team_id=" + tn.id, "team_id"},
		{"/api/v1/interviews?campaign=" + c.ID, "campaign"},
		{"/api/v1/findings?campaign_id=" + c.ID + "&types=theme", "types"},
		{"/api/v1/campaigns/" + c.ID + "?fields=title", "fields"},
		{"/api/v1/teams/" + tn.id + "/members?role=owner", "role"},
		// The routes that take no credentials read their query as strictly.
		{"/api/v1/health?verbose=1", "verbose"},
		{"/v1/ready?x=1", "x"},
		{"/api/v1/openapi.json?format=yaml", "format"},
		{"/api/v1/shared/graphs/" + strings.Repeat("A", 43) + "?campaign_id=" + c.ID, "campaign_id"},
	} {
		e := call(t, "GET", tc.path, tn.secret, nil).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != tc.field || !strings.Contains(e.Details[0].Message, "not a parameter") {
			t.Errorf("GET %s: details %+v, want %s named", tc.path, e.Details, tc.field)
		}
	}
	// What a route documents still works, under either base path.
	call(t, "GET", "/api/v1/campaigns?status=draft&team_id="+tn.id+"&search=par&sort_by=title&order=asc&limit=5", tn.secret, nil).expect(t, 200)
	call(t, "GET", "/v1/findings?campaign_id="+c.ID+"&type=theme&tag=x", tn.secret, nil).expect(t, 200)
	call(t, "GET", "/api/v1/teams/"+tn.id+"/members?sort_by=name", tn.secret, nil).expect(t, 200)
	call(t, "GET", "/api/v1/health", "", nil).expect(t, 200)
	call(t, "GET", "/v1/openapi.json", "", nil).expect(t, 200)
}

// A filter given with nothing in it is refused, naming it, on every list route of the OpenAPI
// document and on both store backends, never read as absent: a list filtered by nothing
// answers for everything, and a script that erases what a participant lookup lists would,
// run with a variable left unset, erase every interview. The document says so of each filter
// (minLength: 1, or an enum); the pagination parameters still read an empty value as absent.
func TestEmptyFiltersAreRefused(t *testing.T) {
	bs := backends(t)
	tn := newTenant(t, "empty-filters", qualv1alpha1.PlanEnterprise)
	filters := documentedFilters(t)
	for _, want := range []documentedFilter{{"/interviews", "participant_email"}, {"/interviews", "external_id"},
		{"/campaigns/{id}/interviews", "participant_email"}, {"/campaigns/{id}/interviews", "external_id"},
		{"/findings", "tag"}, {"/campaigns/{id}/findings", "type"}, {"/campaigns/{id}/analyses", "status"}, {"/campaigns", "search"}} {
		if !slices.Contains(filters, want) {
			t.Fatalf("the document lists no filter %s of GET %s", want.name, want.path)
		}
	}
	for _, b := range bs {
		t.Run(b.name, func(t *testing.T) {
			var c campaign
			callAt(t, b.url, "POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "Filters"}).expect(t, 201).data(t, &c)
			for _, f := range filters {
				for _, v := range []string{"", "%20%20"} {
					path := "/api/v1" + strings.Replace(f.path, "{id}", c.ID, 1) + "?limit=5&" + f.name + "=" + v
					e := callAt(t, b.url, "GET", path, tn.secret, nil).expectError(t, 400, "VALIDATION_ERROR")
					if len(e.Details) != 1 || e.Details[0].Field != f.name || !strings.Contains(e.Details[0].Message, "must not be empty") {
						t.Errorf("GET %s: details %+v, want %s named", path, e.Details, f.name)
					}
				}
			}
			callAt(t, b.url, "GET", "/api/v1/interviews?cursor=&limit=&sort_by=&order=", tn.secret, nil).expect(t, 200)
		})
	}
}

// documentedFilter is a filter of a GET route of the OpenAPI document: a path as the
// document writes it, and the query parameter.
type documentedFilter struct{ path, name string }

// documentedFilters are the query parameters of the document's GET routes but the pagination
// ones, each of which must say that it takes no empty value.
func documentedFilters(t *testing.T) []documentedFilter {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.JSON())
	if err != nil {
		t.Fatal(err)
	}
	pagination := []string{"cursor", "limit", "sort_by", "order"}
	var out []documentedFilter
	for path, item := range doc.Paths.Map() {
		if item.Get == nil {
			continue
		}
		for _, p := range append(slices.Clone(item.Parameters), item.Get.Parameters...) {
			if p.Value.In != "query" || slices.Contains(pagination, p.Value.Name) {
				continue
			}
			if s := p.Value.Schema.Value; s.MinLength < 1 && (len(s.Enum) == 0 || slices.Contains(s.Enum, any(""))) {
				t.Errorf("GET %s: the document does not say that %s takes no empty value (minLength: 1, or an enum)", path, p.Value.Name)
			}
			out = append(out, documentedFilter{path, p.Value.Name})
		}
	}
	return out
}
