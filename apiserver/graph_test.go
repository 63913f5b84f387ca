package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/sharepage"
	"qual.cx/operator/internal/store"
)

type graphNode struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Label  string `json:"label"`
	Weight int    `json:"weight"`
}

type graphEdge struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Type   string `json:"type"`
	Weight int    `json:"weight"`
}

type knowledgeGraph struct {
	Nodes     []graphNode `json:"nodes"`
	Edges     []graphEdge `json:"edges"`
	Truncated bool        `json:"truncated"`
	ExpiresAt string      `json:"expires_at"`
}

func (g knowledgeGraph) node(id string) (graphNode, bool) {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return graphNode{}, false
}

func (g knowledgeGraph) count(typ string) int {
	n := 0
	for _, node := range g.Nodes {
		if node.Type == typ {
			n++
		}
	}
	return n
}

type shareLinkBody struct {
	CampaignID string  `json:"campaign_id"`
	Token      *string `json:"token"`
	URL        *string `json:"url"`
	ExpiresAt  string  `json:"expires_at"`
	CreatedAt  string  `json:"created_at"`
}

// Personal data planted on the interviews: none of it may appear in any graph.
var planted = []string{"Zelda Quuxington", "zelda.quux@planted.example", "crm-planted-4711", "planted-metadata-value",
	"Yorick Plumtree", "yorick@planted.example"}

// graphFixture is a campaign with three interviews (participants with personal data) and two
// findings citing them, made through the API and the store.
type graphFixture struct {
	tn         *tenant
	campaign   campaign
	interviews []interview
	quotes     []string
	theme      store.Finding
	pain       store.Finding
}

func newGraphFixture(t *testing.T, b backend, name string) graphFixture {
	t.Helper()
	tn := newTenant(t, name, qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Pricing research " + name,
		"questions": []string{"What almost stopped you signing up?", "What did you expect?"}})
	people := []map[string]any{
		{"name": planted[0], "email": planted[1], "external_id": planted[2], "metadata": map[string]any{"note": planted[3]}},
		{"name": planted[4], "email": planted[5]},
		nil,
	}
	f := graphFixture{tn: tn, campaign: c, quotes: []string{
		"The pricing page hid the limits of the plan until the end of the trial.",
		"I could not tell which plan had single sign-on, so I asked sales.",
		"Connecting our warehouse took a whole week because the guide was out of date.",
	}}
	var evidence []store.Evidence
	for i, who := range people {
		var body any
		if who != nil {
			body = map[string]any{"participant": who}
		}
		iv := start(t, b.url, tn.secret, c.ID, body)
		tr := answer(t, b.url, tn.secret, iv.ID, f.quotes[i])
		f.interviews = append(f.interviews, iv)
		evidence = append(evidence, store.Evidence{InterviewID: store.InterviewID(iv.ID), MessageID: store.MessageID(tr.Message.ID), Quote: f.quotes[i]})
	}
	rows := b.db.Team(store.TeamID(tn.id))
	ctx := context.Background()
	var err error
	f.theme, err = rows.CreateFinding(ctx, store.NewFinding{CampaignID: store.CampaignID(c.ID), Type: store.FindingTheme,
		Title: "Plan limits are hard to find", Frequency: 2, Tags: []string{"pricing", "trust"}, Evidence: evidence[:2]})
	if err != nil {
		t.Fatal(err)
	}
	f.pain, err = rows.CreateFinding(ctx, store.NewFinding{CampaignID: store.CampaignID(c.ID), Type: store.FindingPainPoint,
		Title: "Setup and sales questions slow adoption", Frequency: 2, Tags: []string{"pricing", "setup"}, Evidence: evidence[1:]})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// publicGet is an unauthenticated GET through c, validated against the document.
func publicGet(t *testing.T, c *http.Client, base, path string) response {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return exchange(t, c, req)
}

// pageGet is an unauthenticated GET of a page outside /api/v1 (not in the document).
func pageGet(t *testing.T, c *http.Client, url string) response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, c, req)
}

func decodeGraph(t *testing.T, r response) knowledgeGraph {
	t.Helper()
	var g knowledgeGraph
	r.data(t, &g)
	return g
}

var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// The graph, its share links and the shared graph, on both store backends.
func TestGraphAndShareLinks(t *testing.T) {
	for i, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			anon := clientFrom([]string{"127.0.0.60", "127.0.0.61"}[i])
			f := newGraphFixture(t, b, "graph-"+b.name)
			base := "/api/v1/campaigns/" + f.campaign.ID

			// The graph, for a key with graph:read.
			r := callAt(t, b.url, "GET", base+"/graph", f.tn.secret, nil).expect(t, 200)
			g := decodeGraph(t, r)
			checkNoPersonalData(t, "the team's graph", r.body)
			if c, ok := g.node("campaign:" + f.campaign.ID); !ok || c.Label != f.campaign.Title || c.Weight != 2 {
				t.Fatalf("campaign node: %+v in %s", c, r.body)
			}
			if n, ok := g.node("theme:" + string(f.theme.ID)); !ok || n.Type != "theme" || n.Weight != 2 || n.Label != f.theme.Title {
				t.Fatalf("theme node: %+v", n)
			}
			if n, ok := g.node("finding:" + string(f.pain.ID)); !ok || n.Type != "finding" {
				t.Fatalf("finding node: %+v", n)
			}
			// Participants are numbered in the order their interviews started, by interview id.
			for k, iv := range f.interviews {
				n, ok := g.node("participant:" + iv.ID)
				if want := "Participant " + string(rune('1'+k)); !ok || n.Label != want {
					t.Fatalf("participant %d: %+v, want %s", k, n, want)
				}
			}
			if g.count("quote") != 3 || g.count("tag") != 3 || g.Truncated {
				t.Fatalf("graph: %s", r.body)
			}
			if !slices.Contains(g.Edges, graphEdge{Source: "finding:" + string(f.pain.ID), Target: "theme:" + string(f.theme.ID),
				Type: "shares_participants", Weight: 1}) {
				t.Fatalf("the two findings share interview 2: %+v", g.Edges)
			}
			// The same findings give the same bytes.
			if again := callAt(t, b.url, "GET", base+"/graph", f.tn.owner, nil).expect(t, 200); string(again.body) != string(r.body) {
				t.Fatalf("not deterministic:\n%s\n%s", r.body, again.body)
			}

			// Scopes and roles.
			callAt(t, b.url, "GET", base+"/graph", f.tn.scoped, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
			callAt(t, b.url, "POST", base+"/graph/share", f.tn.scoped, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
			// A link shows the graph, so graph:share alone makes none; it may still revoke one.
			shareOnly := makeKey(t, f.tn.team, "share-only", qualv1alpha1.KeyScoped, []qualv1alpha1.Scope{"graph:share"})
			waitUsable(t, "the share-only key", shareOnly)
			callAt(t, b.url, "POST", base+"/graph/share", shareOnly, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
			callAt(t, b.url, "DELETE", base+"/graph/share", shareOnly, nil).expectError(t, 404, "NOT_FOUND")
			viewer := sessionToken(t, "user-"+f.tn.team.Name+"-viewer", f.tn.team.Name+"-viewer@example.com", time.Hour)
			callAt(t, b.url, "GET", base+"/graph", viewer, nil).expect(t, 200)
			callAt(t, b.url, "POST", base+"/graph/share", viewer, nil).expectError(t, 403, "FORBIDDEN")
			callAt(t, b.url, "DELETE", base+"/graph/share", viewer, nil).expectError(t, 403, "FORBIDDEN")
			callAt(t, b.url, "DELETE", base+"/graph/share", f.tn.secret, nil).expectError(t, 404, "NOT_FOUND")
			for _, bad := range []any{map[string]any{"expires_in_days": 0}, map[string]any{"expires_in_days": 366},
				map[string]any{"expires_in_days": nil}, map[string]any{"expires_in_days": "7"}, map[string]any{"expires_at": "2030-01-01T00:00:00Z"}} {
				callAt(t, b.url, "POST", base+"/graph/share", f.tn.secret, bad).expect(t, 400)
			}

			// Share for 7 days.
			before := time.Now()
			var link shareLinkBody
			callAt(t, b.url, "POST", base+"/graph/share", f.tn.secret, map[string]any{"expires_in_days": 7}).expect(t, 201).data(t, &link)
			if link.Token == nil || !tokenPattern.MatchString(*link.Token) || link.URL == nil ||
				*link.URL != b.url+"/share/graphs/"+*link.Token || link.CampaignID != f.campaign.ID {
				t.Fatalf("link: %+v", link)
			}
			if exp, err := time.Parse(time.RFC3339, link.ExpiresAt); err != nil ||
				exp.Before(before.Add(7*24*time.Hour-time.Minute)) || exp.After(time.Now().Add(7*24*time.Hour+time.Minute)) {
				t.Fatalf("expires_at %s (%v)", link.ExpiresAt, err)
			}
			first := *link.Token

			// The shared graph: no credentials, no personal data, no interview ids.
			sr := publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+first).expect(t, 200)
			shared := decodeGraph(t, sr)
			checkNoPersonalData(t, "the shared graph", sr.body)
			for _, iv := range f.interviews {
				if strings.Contains(string(sr.body), iv.ID) {
					t.Fatalf("the shared graph names interview %s", iv.ID)
				}
			}
			if sr.header.Get("Cache-Control") != "no-store" || shared.ExpiresAt != link.ExpiresAt {
				t.Fatalf("shared: %v %s", sr.header, sr.body)
			}
			if len(shared.Nodes) != len(g.Nodes) || len(shared.Edges) != len(g.Edges) || shared.count("quote") != 3 {
				t.Fatalf("shared graph differs: %s", sr.body)
			}
			for k := range f.interviews {
				if n, ok := shared.node("participant:" + string(rune('1'+k))); !ok || n.Label != "Participant "+string(rune('1'+k)) {
					t.Fatalf("shared participant %d: %+v", k+1, n)
				}
			}
			for _, q := range f.quotes {
				if !strings.Contains(string(sr.body), q) {
					t.Fatalf("quote %q missing from the shared graph", q)
				}
			}
			// /v1 is the same endpoint.
			publicGet(t, anon, b.url, "/v1/shared/graphs/"+first).expect(t, 200)
			checkSharePage(t, anon, *link.URL, 200)

			// The event, in the outbox, without the token.
			events := sharedEvents(t, b.db, f.tn.id)
			if len(events) != 1 || events[0]["campaign_id"] != f.campaign.ID || events[0]["expires_at"] != link.ExpiresAt ||
				events[0]["created_at"] != link.CreatedAt || len(events[0]) != 3 {
				t.Fatalf("graph.shared events: %v", events)
			}

			// A new link replaces the old one at once; no body means 30 days.
			var second shareLinkBody
			callAt(t, b.url, "POST", base+"/graph/share", f.tn.owner, nil).expect(t, 201).data(t, &second)
			if second.Token == nil || *second.Token == first {
				t.Fatalf("second link: %+v", second)
			}
			if exp, _ := time.Parse(time.RFC3339, second.ExpiresAt); exp.Before(time.Now().Add(30*24*time.Hour - time.Minute)) {
				t.Fatalf("default expiry %s", second.ExpiresAt)
			}
			// The live link, as graph:share alone reads it: the owner made it; no token.
			var live liveShareBody
			callAt(t, b.url, "GET", base+"/graph/share", shareOnly, nil).expect(t, 200).data(t, &live)
			if live.CreatedByUserID == nil || *live.CreatedByUserID != "user-"+f.tn.team.Name+"-owner" || live.CreatedByKeyID != nil ||
				live.ExpiresAt != second.ExpiresAt || live.CreatedAt != second.CreatedAt {
				t.Fatalf("live link %+v, want %+v", live, second)
			}
			callAt(t, b.url, "GET", base+"/graph/share", viewer, nil).expectError(t, 403, "FORBIDDEN")
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+first).expectError(t, 404, "NOT_FOUND")
			checkSharePage(t, anon, b.url+"/share/graphs/"+first, 404)
			// Cut short to the folder, with or without its slash: the page, not a redirect.
			direct := clientFrom([]string{"127.0.0.63", "127.0.0.64"}[i])
			direct.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			checkSharePage(t, direct, b.url+"/share/graphs", 404)
			checkSharePage(t, direct, b.url+"/share/graphs/", 404)
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+*second.Token).expect(t, 200)
			if n := len(sharedEvents(t, b.db, f.tn.id)); n != 2 {
				t.Fatalf("%d graph.shared events, want 2", n)
			}

			// A replay by Idempotency-Key answers the link without its token.
			var third, replay shareLinkBody
			callAt(t, b.url, "POST", base+"/graph/share", f.tn.secret, map[string]any{"expires_in_days": 1},
				"Idempotency-Key", "share-"+b.name).expect(t, 201).data(t, &third)
			rr := callAt(t, b.url, "POST", base+"/graph/share", f.tn.secret, map[string]any{"expires_in_days": 1},
				"Idempotency-Key", "share-"+b.name).expect(t, 201)
			rr.data(t, &replay)
			if third.Token == nil || replay.Token != nil || replay.URL != nil || replay.ExpiresAt != third.ExpiresAt ||
				rr.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay: %+v of %+v", replay, third)
			}
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+*second.Token).expectError(t, 404, "NOT_FOUND")
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+*third.Token).expect(t, 200)

			// Revocation.
			callAt(t, b.url, "DELETE", base+"/graph/share", f.tn.secret, nil).expect(t, 204)
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+*third.Token).expectError(t, 404, "NOT_FOUND")
			checkSharePage(t, anon, b.url+"/share/graphs/"+*third.Token, 404)
			callAt(t, b.url, "DELETE", base+"/graph/share", f.tn.secret, nil).expectError(t, 404, "NOT_FOUND")

			// Expiry: a link past its expires_at is gone; one before it works.
			rows := b.db.Team(store.TeamID(f.tn.id))
			for _, tc := range []struct {
				token   string
				expires time.Time
				status  int
			}{
				{"expiredTokenexpiredTokenexpiredTokenexpired", time.Now().Add(-time.Minute), 404},
				{"liveTokenliveTokenliveTokenliveTokenliveTok", time.Now().Add(time.Hour), 200},
			} {
				if _, err := rows.CreateShareLink(context.Background(), store.NewShareLink{CampaignID: store.CampaignID(f.campaign.ID),
					TokenHash: store.HashToken(tc.token), ExpiresAt: tc.expires}); err != nil {
					t.Fatal(err)
				}
				publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+tc.token).expect(t, tc.status)
				checkSharePage(t, anon, b.url+"/share/graphs/"+tc.token, tc.status)
				callAt(t, b.url, "GET", base+"/graph/share", f.tn.secret, nil).expect(t, tc.status)
				if tc.status == 200 {
					// A link that names no maker (made before makers were recorded) is shown
					// with neither, and judged by its expiry and revocation alone.
					var live liveShareBody
					callAt(t, b.url, "GET", base+"/graph/share", f.tn.secret, nil).data(t, &live)
					if live.CreatedByKeyID != nil || live.CreatedByUserID != nil {
						t.Fatalf("a link with no maker shown as %+v", live)
					}
				}
				if tc.status == 404 {
					// An expired link is no link to revoke either.
					callAt(t, b.url, "DELETE", base+"/graph/share", f.tn.secret, nil).expectError(t, 404, "NOT_FOUND")
				}
			}
			// A live link with a trailing slash or more after it, and the bare prefix, are the
			// not-available page, as a browser shows it.
			for _, path := range []string{"/share/graphs/liveTokenliveTokenliveTokenliveTokenliveTok/", "/share/graphs/liveTokenliveTokenliveTokenliveTokenliveTok/x", "/share/graphs/"} {
				checkSharePage(t, anon, b.url+path, 404)
			}
			// Tokens that cannot be one, and unknown ones.
			for _, bad := range []string{"short", strings.Repeat("A", 43), strings.Repeat("é", 43)} {
				publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+bad).expectError(t, 404, "NOT_FOUND")
			}
		})
	}
}

// Links made at the same moment: each answer is 201 or 409 CONFLICT, and one link is left live.
func TestConcurrentShareLinks(t *testing.T) {
	for i, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			anon := clientFrom([]string{"127.0.0.68", "127.0.0.69"}[i])
			tn := newTenant(t, "graphrace-"+b.name, qualv1alpha1.PlanEnterprise)
			c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Raced"})
			var wg sync.WaitGroup
			results := make([]response, 8)
			for k := range results {
				wg.Go(func() {
					results[k] = callAt(t, b.url, "POST", "/api/v1/campaigns/"+c.ID+"/graph/share", tn.secret, nil)
				})
			}
			wg.Wait()
			var tokens []string
			for _, r := range results {
				switch r.status {
				case 201:
					var l shareLinkBody
					r.data(t, &l)
					tokens = append(tokens, *l.Token)
				default:
					r.expectError(t, 409, "CONFLICT")
				}
			}
			live := 0
			for _, token := range tokens {
				if publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+token).status == 200 {
					live++
				}
			}
			t.Logf("%d of %d made a link, the others were 409", len(tokens), len(results))
			if len(tokens) == 0 || live != 1 {
				t.Fatalf("%d links made, %d live", len(tokens), live)
			}
			if n := len(sharedEvents(t, b.db, tn.id)); n != len(tokens) {
				t.Fatalf("%d graph.shared events for %d links", n, len(tokens))
			}
		})
	}
}

// checkNoPersonalData fails when any planted personal data is in body.
func checkNoPersonalData(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, p := range planted {
		if strings.Contains(string(body), p) {
			t.Fatalf("%s holds personal data %q: %s", what, p, body)
		}
	}
}

// checkSharePage fetches a link's HTML page and checks its status and security headers.
func checkSharePage(t *testing.T, c *http.Client, url string, status int) response {
	t.Helper()
	r := pageGet(t, c, url)
	if r.status != status {
		t.Fatalf("page %s: %d, want %d: %s", url, r.status, status, r.body)
	}
	h := r.header
	if h.Get("Content-Security-Policy") != sharepage.CSP || !strings.HasPrefix(h.Get("Content-Type"), "text/html") ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
		h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("page headers: %v", h)
	}
	body := string(r.body)
	if strings.Contains(body, "<style") || strings.Contains(body, " style=") || regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(body) ||
		strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Fatalf("page holds inline code or external addresses: %s", body)
	}
	return r
}

// sharedEvents are the team's graph.shared payloads.
func sharedEvents(t *testing.T, d store.Store, team string) []map[string]any {
	t.Helper()
	evs, err := d.Team(store.TeamID(team)).PendingEvents(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range evs {
		if e.Type != "graph.shared" {
			continue
		}
		var payload map[string]any
		if err := json.Unmarshal(e.Payload, &payload); err != nil {
			t.Fatal(err)
		}
		out = append(out, payload)
	}
	return out
}

// Another team's campaign graph and share link do not exist for the caller.
func TestGraphTenantIsolation(t *testing.T) {
	b := backends(t)[0]
	f := newGraphFixture(t, b, "graphiso-a")
	other := newTenant(t, "graphiso-b", qualv1alpha1.PlanEnterprise)
	base := "/api/v1/campaigns/" + f.campaign.ID
	var link shareLinkBody
	call(t, "POST", base+"/graph/share", f.tn.secret, nil).expect(t, 201).data(t, &link)
	for _, token := range []string{other.secret, other.owner} {
		call(t, "GET", base+"/graph", token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "POST", base+"/graph/share", token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "DELETE", base+"/graph/share", token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "GET", base+"/graph/share", token, nil).expectError(t, 404, "NOT_FOUND")
		call(t, "GET", base+"/graph", token, nil, "X-Qual-Team", f.tn.id).expectError(t, 404, "NOT_FOUND")
		call(t, "GET", base+"/graph/share", token, nil, "X-Qual-Team", f.tn.id).expectError(t, 404, "NOT_FOUND")
	}
	// b's own link is no answer about a's campaign, nor a's about b's.
	bc := activeCampaign(t, api.URL, other.secret, map[string]any{"title": "B's"})
	call(t, "POST", "/api/v1/campaigns/"+bc.ID+"/graph/share", other.secret, nil).expect(t, 201)
	call(t, "GET", base+"/graph/share", other.secret, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "GET", "/api/v1/campaigns/"+bc.ID+"/graph/share", f.tn.secret, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "GET", base+"/graph/share", f.tn.secret, nil).expect(t, 200)
	call(t, "GET", "/api/v1/campaigns/00000000-0000-4000-8000-000000000000/graph", f.tn.secret, nil).expectError(t, 404, "NOT_FOUND")
	// Neither the attempts nor b's own share replaced a's link.
	publicGet(t, clientFrom("127.0.0.64"), api.URL, "/api/v1/shared/graphs/"+*link.Token).expect(t, 200)
	if n := len(sharedEvents(t, db, other.id)); n != 1 {
		t.Fatalf("b has %d graph.shared events, want its own one", n)
	}

	// A deleted campaign's link goes with it.
	call(t, "DELETE", base, f.tn.secret, nil).expect(t, 204)
	waitShareGone(t, api.URL, *link.Token)
}

type errStatus int

func (e errStatus) Error() string { return http.StatusText(int(e)) }

// The shared graph and its page spend the client address's unauthenticated budget.
func TestSharedGraphSpendsTheUnauthenticatedBudget(t *testing.T) {
	c := clientFrom("127.0.0.62")
	var limited response
	for range 100 {
		if limited = publicGet(t, c, api.URL, "/api/v1/shared/graphs/"+strings.Repeat("x", 43)); limited.status == 429 {
			break
		}
		limited.expectError(t, 404, "NOT_FOUND")
	}
	limited.expectError(t, 429, "RATE_LIMITED")
	if limited.header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", limited.header)
	}
	page := pageGet(t, c, api.URL+"/share/graphs/"+strings.Repeat("x", 43))
	if page.status != 429 || page.header.Get("Retry-After") == "" || page.header.Get("Content-Security-Policy") != sharepage.CSP ||
		!strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("page over the budget: %d %v", page.status, page.header)
	}
	// Another address is not affected.
	publicGet(t, clientFrom("127.0.0.65"), api.URL, "/api/v1/shared/graphs/"+strings.Repeat("x", 43)).expectError(t, 404, "NOT_FOUND")
}

// The page's assets: hashed names, long-lived, the right types, the same CSP; nothing else.
func TestSharePageAssets(t *testing.T) {
	c := clientFrom("127.0.0.66")
	names := sharepage.AssetNames()
	if len(names) != 2 {
		t.Fatalf("assets: %v", names)
	}
	for _, name := range names {
		r := pageGet(t, c, api.URL+sharepage.AssetPrefix+name)
		want := map[bool]string{true: "text/javascript; charset=utf-8", false: "text/css; charset=utf-8"}[strings.HasSuffix(name, ".js")]
		if r.status != 200 || r.header.Get("Content-Type") != want || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			r.header.Get("Content-Security-Policy") != sharepage.CSP || r.header.Get("X-Content-Type-Options") != "nosniff" || len(r.body) < 1000 {
			t.Fatalf("%s: %d %v", name, r.status, r.header)
		}
		if strings.Contains(string(r.body), "innerHTML") || strings.Contains(string(r.body), "http://") && !strings.Contains(string(r.body), "http://www.w3.org/2000/svg") {
			t.Fatalf("%s writes markup or names another host", name)
		}
	}
	for _, missing := range []string{"graph.js", "graph.css", "..%2fgraph.go", "nothing.js"} {
		if r := pageGet(t, c, api.URL+sharepage.AssetPrefix+missing); r.status != 404 {
			t.Fatalf("%s: %d", missing, r.status)
		}
	}
}

// A campaign with more findings than the graph reads still draws its most frequent ones,
// whenever they were made, and its node counts them all: 1,000 manual findings made first
// cannot push the analysis's out of the (shared) graph.
func TestGraphDrawsTheMostFrequentOfManyFindings(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			f := newGraphFixture(t, b, "graphmany-"+b.name)
			rows := b.db.Team(store.TeamID(f.tn.id))
			for i := range 1000 {
				if _, err := rows.CreateFinding(context.Background(), store.NewFinding{CampaignID: store.CampaignID(f.campaign.ID),
					Type: store.FindingInsight, Title: fmt.Sprintf("Filler %04d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			big, err := rows.CreateFinding(context.Background(), store.NewFinding{CampaignID: store.CampaignID(f.campaign.ID),
				Type: store.FindingPainPoint, Title: "The big one", Frequency: 3, Evidence: f.theme.Evidence})
			if err != nil {
				t.Fatal(err)
			}
			g := decodeGraph(t, callAt(t, b.url, "GET", "/api/v1/campaigns/"+f.campaign.ID+"/graph", f.tn.secret, nil).expect(t, 200))
			if n, ok := g.node("finding:" + string(big.ID)); !ok || n.Weight != 3 {
				t.Fatalf("the most frequent finding: %+v %v", n, ok)
			}
			if c, _ := g.node("campaign:" + f.campaign.ID); c.Weight != 1003 || !g.Truncated {
				t.Fatalf("campaign node %+v, truncated %v", c, g.Truncated)
			}
		})
	}
}
