package apiserver_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// An erasure request ("everything about ada@example.com") finds the participant's interviews
// with one filtered list, on both store backends: by e-mail, ASCII letters in any case, or by
// external id, exactly; across campaigns and pages, with an exact total; only in the caller's
// teams, however another team's participant is called.
func TestInterviewsByParticipant(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { findParticipants(t, b) })
	}
}

func findParticipants(t *testing.T, b backend) {
	a := newTenant(t, "ivfind-a-"+b.name, qualv1alpha1.PlanEnterprise)
	other := newTenant(t, "ivfind-b-"+b.name, qualv1alpha1.PlanEnterprise)
	c1 := activeCampaign(t, b.url, a.secret, map[string]any{"title": "Onboarding"})
	c2 := activeCampaign(t, b.url, a.secret, map[string]any{"title": "Pricing"})
	started := func(token, campaignID, email, external string) string {
		p := map[string]any{}
		if email != "" {
			p["email"] = email
		}
		if external != "" {
			p["external_id"] = external
		}
		return start(t, b.url, token, campaignID, map[string]any{"participant": p}).ID
	}
	ada := []string{
		started(a.secret, c1.ID, "ada@example.com", "crm-4711"),
		started(a.secret, c1.ID, "Ada@Example.COM", ""),
		started(a.secret, c2.ID, " ada@example.com ", "crm-4711"),
		started(a.secret, c2.ID, "ada@example.com", ""),
	}
	bob := started(a.secret, c1.ID, "bob@example.com", "CRM-4711")
	// An external id shaped like a UUID is the caller's, not one of the API's ids: its
	// letter case is kept and matched.
	const upperUUID = "0A1B2C3D-4E5F-4A6B-8C7D-8E9F0A1B2C3D"
	carol := started(a.secret, c2.ID, "", upperUUID)
	started(a.secret, c1.ID, "", "")
	co := activeCampaign(t, b.url, other.secret, map[string]any{"title": "Elsewhere"})
	othersAda := started(other.secret, co.ID, "ada@example.com", "crm-4711")

	for path, want := range map[string][]string{
		"/api/v1/interviews?participant_email=ADA%40example.com":                            ada,
		"/api/v1/interviews?participant_email=ada@example.com&sort_by=updated_at&order=asc": ada,
		"/api/v1/interviews?participant_email=ada@example.com&team_id=" + a.id:              ada,
		"/api/v1/interviews?participant_email=ada@example.com&campaign_id=" + c1.ID:         ada[:2],
		"/api/v1/campaigns/" + c2.ID + "/interviews?participant_email=ada@example.com":      ada[2:],
		"/api/v1/interviews?external_id=crm-4711":                                           {ada[0], ada[2]},
		"/api/v1/interviews?external_id=%20crm-4711%20":                                     {ada[0], ada[2]},
		"/api/v1/interviews?external_id=CRM-4711":                                           {bob},
		"/api/v1/interviews?participant_email=ada@example.com&external_id=crm-4711":         {ada[0], ada[2]},
		"/api/v1/interviews?participant_email=ada@example.com&status=completed":             nil,
		"/api/v1/interviews?participant_email=nobody@example.com":                           nil,
		"/api/v1/interviews?external_id=" + upperUUID:                                       {carol},
		"/api/v1/interviews?external_id=" + strings.ToLower(upperUUID):                      nil,
	} {
		if got := walkInterviews(t, b.url, a.secret, path, 1); !sameIDs(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	// The other team's Ada is only its own.
	for _, token := range []string{other.secret, other.owner} {
		for _, path := range []string{"/api/v1/interviews?participant_email=ada@example.com", "/api/v1/interviews?external_id=crm-4711"} {
			if got := walkInterviews(t, b.url, token, path, 1); !sameIDs(got, []string{othersAda}) {
				t.Errorf("the other team's %s: %v, want only %s", path, got, othersAda)
			}
		}
	}
	callAt(t, b.url, "GET", "/api/v1/interviews?participant_email=ada@example.com&team_id="+a.id, other.secret, nil).
		expectError(t, 404, "NOT_FOUND")

	// A cursor is bound to the participant: written another way, the same address
	// continues the list; another address is another query.
	next := firstCursor(t, b.url, a.secret, "/api/v1/interviews?limit=1&participant_email=ada@example.com")
	callAt(t, b.url, "GET", "/api/v1/interviews?limit=1&participant_email=ADA@EXAMPLE.COM&cursor="+next, a.secret, nil).expect(t, 200)
	for _, q := range []string{"participant_email=bob@example.com", "external_id=crm-4711", ""} {
		callAt(t, b.url, "GET", "/api/v1/interviews?limit=1&"+q+"&cursor="+next, a.secret, nil).expectError(t, 400, "INVALID_CURSOR")
	}

	// Listing needs interviews:read, with or without the filter, and says nothing else.
	for _, token := range []string{a.scoped, a.public} {
		plain := callAt(t, b.url, "GET", "/api/v1/interviews", token, nil)
		filtered := callAt(t, b.url, "GET", "/api/v1/interviews?participant_email=ada@example.com", token, nil)
		plain.expectError(t, 403, "INSUFFICIENT_SCOPE")
		if filtered.expectError(t, 403, "INSUFFICIENT_SCOPE"); string(filtered.body) != string(plain.body) {
			t.Errorf("a key without interviews:read is told %s with the filter, %s without", filtered.body, plain.body)
		}
	}
	// A lookup with nothing to look up (an erasure script's unset variable) is refused, never
	// answered with every interview.
	for _, q := range []string{"participant_email=ada", "participant_email=" + strings.Repeat("a", 250) + "@example.com",
		"external_id=" + strings.Repeat("x", 201), "participant_email=", "external_id=", "participant_email=%20", "external_id=%20%20"} {
		e := callAt(t, b.url, "GET", "/api/v1/interviews?"+q, a.secret, nil).expectError(t, 400, "VALIDATION_ERROR")
		if field, _, _ := strings.Cut(q, "="); len(e.Details) != 1 || e.Details[0].Field != field {
			t.Errorf("%s: %+v", q, e)
		}
	}

	// Erased one by one, the participant is gone.
	for _, id := range ada {
		callAt(t, b.url, "DELETE", "/api/v1/interviews/"+id, a.secret, nil).expect(t, 204)
	}
	if got := walkInterviews(t, b.url, a.secret, "/api/v1/interviews?participant_email=ada@example.com", 10); len(got) != 0 {
		t.Errorf("after the erasure: %v", got)
	}
}

// sameIDs compares two lists of ids as sets.
func sameIDs(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

// firstCursor is the next_cursor of a list's first page, escaped for a query.
func firstCursor(t *testing.T, base, token, path string) string {
	t.Helper()
	var page struct {
		Pagination struct {
			NextCursor *string `json:"next_cursor"`
		} `json:"pagination"`
	}
	r := callAt(t, base, "GET", path, token, nil).expect(t, 200)
	if err := json.Unmarshal(r.body, &page); err != nil || page.Pagination.NextCursor == nil {
		t.Fatalf("%s: no next cursor in %s (%v)", path, r.body, err)
	}
	return url.QueryEscape(*page.Pagination.NextCursor)
}
