package apiserver_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

func TestTenantsNeverSeeEachOther(t *testing.T) {
	a := newTenant(t, "tenant-a", qualv1alpha1.PlanEnterprise)
	b := newTenant(t, "tenant-b", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, a.secret, map[string]any{"title": "Secret plans of A"})
	var keyA struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/api-keys", a.secret, map[string]any{"type": "secret"}).expect(t, 201).data(t, &keyA)

	for _, token := range []string{b.secret, b.owner} {
		for _, ep := range []struct{ method, path, body string }{
			{"GET", "/api/v1/campaigns/" + c.ID, ""},
			{"PATCH", "/api/v1/campaigns/" + c.ID, `{"title":"pwned"}`},
			{"DELETE", "/api/v1/campaigns/" + c.ID, ""},
			{"POST", "/api/v1/campaigns/" + c.ID + "/publish", ""},
			{"GET", "/api/v1/campaigns?team_id=" + a.id, ""},
			{"GET", "/api/v1/teams/" + a.id, ""},
			{"PATCH", "/api/v1/teams/" + a.id, `{"name":"pwned"}`},
			{"DELETE", "/api/v1/teams/" + a.id, ""},
			{"GET", "/api/v1/teams/" + a.id + "/members", ""},
			{"POST", "/api/v1/teams/" + a.id + "/members", `{"email":"spy@example.com"}`},
			{"DELETE", "/api/v1/teams/" + a.id + "/members/" + a.ownerMail, ""},
			{"GET", "/api/v1/api-keys/" + keyA.ID, ""},
			{"DELETE", "/api/v1/api-keys/" + keyA.ID, ""},
			{"POST", "/api/v1/api-keys/" + keyA.ID + "/rotate", ""},
			{"POST", "/api/v1/campaigns", `{"title":"x","team_id":"` + a.id + `"}`},
		} {
			var body any
			if ep.body != "" {
				body = ep.body
			}
			call(t, ep.method, ep.path, token, body).expectError(t, 404, "NOT_FOUND")
		}
		// Naming A's team in the header is 404 too.
		call(t, "GET", "/api/v1/me", token, nil, "X-Qual-Team", a.id).expectError(t, 404, "NOT_FOUND")
		list := call(t, "GET", "/api/v1/campaigns", token, nil).expect(t, 200)
		if strings.Contains(string(list.body), c.ID) {
			t.Fatal("B lists A's campaign")
		}
		keys := call(t, "GET", "/api/v1/api-keys", token, nil).expect(t, 200)
		if strings.Contains(string(keys.body), keyA.ID) {
			t.Fatal("B lists A's key")
		}
	}
	// A still has its campaign, untouched.
	var still campaign
	call(t, "GET", "/api/v1/campaigns/"+c.ID, a.secret, nil).expect(t, 200).data(t, &still)
	if still.Title != "Secret plans of A" {
		t.Fatalf("A's campaign changed: %+v", still)
	}
}

func TestTeamsAndMembers(t *testing.T) {
	tn := newTenant(t, "members", qualv1alpha1.PlanPro)
	member := sessionToken(t, "user-members-member", "members-member@example.com", 3600e9)
	viewer := sessionToken(t, "user-members-viewer", "members-viewer@example.com", 3600e9)

	var team struct {
		ID, Name, Plan string
		Role           *string
		MemberCount    int `json:"member_count"`
	}
	call(t, "GET", "/api/v1/teams/"+tn.id, tn.owner, nil).expect(t, 200).data(t, &team)
	if team.Plan != "pro" || team.MemberCount != 3 || team.Role == nil || *team.Role != "owner" {
		t.Fatalf("team %+v", team)
	}
	// Members: add, duplicate, promote, last-owner rule, remove.
	call(t, "POST", "/api/v1/teams/"+tn.id+"/members", tn.owner, map[string]any{"email": "new@example.com", "role": "admin"}).expect(t, 201)
	call(t, "POST", "/api/v1/teams/"+tn.id+"/members", tn.owner, map[string]any{"email": "new@example.com"}).expectError(t, 409, "CONFLICT")
	call(t, "POST", "/api/v1/teams/"+tn.id+"/members", member, map[string]any{"email": "x@example.com"}).expectError(t, 403, "FORBIDDEN")
	call(t, "PATCH", "/api/v1/teams/"+tn.id+"/members/"+tn.ownerMail, tn.owner, map[string]any{"role": "viewer"}).expectError(t, 409, "CONFLICT")
	call(t, "DELETE", "/api/v1/teams/"+tn.id+"/members/user-members-owner", tn.owner, nil).expectError(t, 409, "CONFLICT")
	call(t, "PATCH", "/api/v1/teams/"+tn.id+"/members/new@example.com", tn.owner, map[string]any{"role": "member"}).expect(t, 200)
	call(t, "DELETE", "/api/v1/teams/"+tn.id+"/members/new@example.com", tn.owner, nil).expect(t, 204)
	call(t, "DELETE", "/api/v1/teams/"+tn.id+"/members/new@example.com", tn.owner, nil).expectError(t, 404, "NOT_FOUND")
	var members []struct{ Email, Role string }
	call(t, "GET", "/api/v1/teams/"+tn.id+"/members?sort_by=name&order=asc", viewer, nil).expect(t, 200).data(t, &members)
	if len(members) != 3 || members[0].Email != "members-member@example.com" {
		t.Fatalf("members %+v", members)
	}
	// Roles: a viewer cannot write campaigns; a member cannot delete them; plan needs an admin.
	call(t, "POST", "/api/v1/campaigns", viewer, map[string]any{"title": "x"}).expectError(t, 403, "FORBIDDEN")
	c := createCampaign(t, member, map[string]any{"title": "By a member"})
	call(t, "DELETE", "/api/v1/campaigns/"+c.ID, member, nil).expectError(t, 403, "FORBIDDEN")
	call(t, "PATCH", "/api/v1/teams/"+tn.id, tn.owner, map[string]any{"plan": "enterprise"}).expectError(t, 403, "FORBIDDEN")
	call(t, "PATCH", "/api/v1/teams/"+tn.id, tn.owner, map[string]any{"name": "Renamed"}).expect(t, 200)
	admin := sessionToken(t, "root", "root@platform.example", 3600e9)
	call(t, "GET", "/api/v1/admin/stats", admin, nil).expect(t, 200)
	call(t, "GET", "/api/v1/admin/stats", tn.owner, nil).expectError(t, 403, "FORBIDDEN")

	// A new team through REST: the creator is its owner; keys cannot create teams.
	var created struct {
		ID   string  `json:"id"`
		Plan string  `json:"plan"`
		Role *string `json:"role"`
	}
	call(t, "POST", "/api/v1/teams", member, map[string]any{"name": "Side project"}).expect(t, 201).data(t, &created)
	if created.Plan != "starter" || created.Role == nil || *created.Role != "owner" {
		t.Fatalf("created team %+v", created)
	}
	call(t, "GET", "/api/v1/teams/"+created.ID, member, nil).expect(t, 200)
	call(t, "POST", "/api/v1/teams", tn.secret, map[string]any{"name": "By key"}).expectError(t, 403, "FORBIDDEN")
	call(t, "DELETE", "/api/v1/teams/"+created.ID, member, nil).expect(t, 204)
	call(t, "GET", "/api/v1/teams/"+created.ID, member, nil).expectError(t, 404, "NOT_FOUND")
}

func TestRoutingErrors(t *testing.T) {
	tn := newTenant(t, "routing", qualv1alpha1.PlanEnterprise)
	r := call(t, "PUT", "/api/v1/campaigns", tn.secret, `{}`)
	r.expectError(t, 405, "METHOD_NOT_ALLOWED")
	if r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	call(t, "GET", "/api/v1/nothing-here", tn.secret, nil).expectError(t, 404, "NOT_FOUND")
	// A path with an empty, "." or ".." segment is no route either, not a redirect to another.
	for _, p := range []string{"/api/v1//campaigns", "/api/v1/./me", "/api/v1/campaigns/../me"} {
		req, err := http.NewRequest("GET", api.URL+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = p // sent as written, not cleaned by the client
		req.Header.Set("Authorization", "Bearer "+tn.secret)
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		exchange(t, noRedirect, req).expectError(t, 404, "NOT_FOUND")
	}
	call(t, "GET", "/api/v1/health", "", nil).expect(t, 200)
	call(t, "GET", "/api/v1/ready", "", nil).expect(t, 200)
	call(t, "GET", "/api/v1/openapi.json", "", nil).expect(t, 200)
	r = call(t, "GET", "/api/v1/me", tn.secret, nil, "X-Request-Id", "trace-me-42")
	if r.header.Get("X-Request-Id") != "trace-me-42" {
		t.Fatal("X-Request-Id must be echoed")
	}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit"} {
		if r.header.Get(h) == "" {
			t.Errorf("authenticated response lacks %s", h)
		}
	}
	if got := r.header.Get("RateLimit-Policy"); got != `"requests";q=300;w=60` {
		t.Errorf("RateLimit-Policy %q", got)
	}
	// Preflight for a browser origin some public key accepts.
	req, _ := http.NewRequest("OPTIONS", api.URL+"/api/v1/campaigns", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
	}
}

func TestUsageShowsTheBudgets(t *testing.T) {
	tn := newTenant(t, "usage", qualv1alpha1.PlanGrowth)
	var u struct {
		Plan      string         `json:"plan"`
		Limits    map[string]int `json:"limits"`
		Remaining map[string]int `json:"remaining"`
	}
	call(t, "GET", "/api/v1/usage", tn.secret, nil).expect(t, 200).data(t, &u)
	if u.Plan != "growth" || u.Limits["requests_per_minute"] != 120 || u.Limits["interviews_per_hour"] != 100 ||
		u.Remaining["requests_per_minute"] >= 120 || u.Remaining["analysis_per_hour"] != 100 {
		t.Fatalf("usage %+v", u)
	}
}

// A member's e-mail is checked as the Team CRD checks it, so a refusal names email and never
// carries the Kubernetes API's wording; a full team refuses one more member plainly.
func TestMemberEmailsAndTheMemberCap(t *testing.T) {
	tn := newTenant(t, "member-cap", qualv1alpha1.PlanEnterprise)
	members := "/api/v1/teams/" + tn.id + "/members"
	for _, bad := range []string{"a@@example.com", "x@b@example.com", "a@exam\u0085ple.com", "tab\t@example.com", "@example.com"} {
		e := call(t, "POST", members, tn.owner, map[string]any{"email": bad}).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != "email" || strings.Contains(e.Message, "spec.") {
			t.Errorf("%q: %+v", bad, e)
		}
	}
	var team struct {
		MemberCount int `json:"member_count"`
	}
	call(t, "GET", "/api/v1/teams/"+tn.id, tn.owner, nil).expect(t, 200).data(t, &team)
	for i := team.MemberCount; i < 100; i++ {
		call(t, "POST", members, tn.owner, map[string]any{"email": fmt.Sprintf("m%03d@cap.example", i)}).expect(t, 201)
	}
	e := call(t, "POST", members, tn.owner, map[string]any{"email": "one-more@cap.example"}).expectError(t, 409, "CONFLICT")
	if !strings.Contains(e.Message, "100 members") {
		t.Fatalf("message %q", e.Message)
	}
}

// A platform admin session sets the plan of any team, member or not, and reaches nothing else
// there: another change, or none, is the 404 (or 403) anyone else gets. Others' plan changes
// are refused as before.
func TestPlatformAdminSetsAnyTeamsPlan(t *testing.T) {
	outside := newTenant(t, "adminplan-out", qualv1alpha1.PlanStarter)
	viewing := newTenant(t, "adminplan-in", qualv1alpha1.PlanStarter,
		qualv1alpha1.TeamMember{Email: "root@platform.example", UserID: "user-root-adminplan", Role: qualv1alpha1.RoleViewer})
	admin := sessionToken(t, "user-root-adminplan", "root@platform.example", time.Hour)
	type team struct {
		ID   string  `json:"id"`
		Plan string  `json:"plan"`
		Role *string `json:"role"`
	}
	planOf := func(tn *tenant) qualv1alpha1.Plan {
		t.Helper()
		var obj qualv1alpha1.Team
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(tn.team), &obj); err != nil {
			t.Fatal(err)
		}
		return obj.Spec.Plan
	}

	// A team they are not in: the plan alone.
	path := "/api/v1/teams/" + outside.id
	var got team
	call(t, "PATCH", path, admin, map[string]any{"plan": "pro"}).expect(t, 200).data(t, &got)
	if got.ID != outside.id || got.Plan != "pro" || got.Role != nil || planOf(outside) != qualv1alpha1.PlanPro {
		t.Fatalf("the admin's plan change answered %+v; the Team's plan is %s", got, planOf(outside))
	}
	for _, body := range []map[string]any{{"name": "Taken over"}, {"plan": "enterprise", "name": "Taken over"}, {}} {
		call(t, "PATCH", path, admin, body).expectError(t, 404, "NOT_FOUND")
	}
	call(t, "GET", path, admin, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "DELETE", path, admin, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "PATCH", path, admin, map[string]any{"plan": "platinum"}).expectError(t, 400, "VALIDATION_ERROR")
	call(t, "PATCH", "/api/v1/teams/00000000-0000-4000-8000-000000000000", admin, map[string]any{"plan": "pro"}).expectError(t, 404, "NOT_FOUND")

	// A team they view: the plan, whatever their role; a rename needs the owner or admin role.
	path = "/api/v1/teams/" + viewing.id
	call(t, "PATCH", path, admin, map[string]any{"plan": "enterprise"}).expect(t, 200).data(t, &got)
	if got.Plan != "enterprise" || got.Role == nil || *got.Role != "viewer" || planOf(viewing) != qualv1alpha1.PlanEnterprise {
		t.Fatalf("the admin's plan change answered %+v", got)
	}
	call(t, "PATCH", path, admin, map[string]any{"name": "Renamed"}).expectError(t, 403, "FORBIDDEN")

	// Anyone else: 404 for a team they are not in, 403 for the plan of their own.
	call(t, "PATCH", "/api/v1/teams/"+outside.id, viewing.owner, map[string]any{"plan": "enterprise"}).expectError(t, 404, "NOT_FOUND")
	call(t, "PATCH", "/api/v1/teams/"+outside.id, outside.owner, map[string]any{"plan": "enterprise"}).expectError(t, 403, "FORBIDDEN")
	call(t, "PATCH", "/api/v1/teams/"+outside.id, outside.secret, map[string]any{"plan": "enterprise"}).expectError(t, 403, "FORBIDDEN")
	if planOf(outside) != qualv1alpha1.PlanPro {
		t.Fatalf("plan %s after refused changes", planOf(outside))
	}
}
