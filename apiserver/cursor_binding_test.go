package apiserver_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

func TestCursorIsBoundToItsEndpoint(t *testing.T) {
	tn := newTenant(t, "cursor-bound", qualv1alpha1.PlanEnterprise)
	for i := range 3 {
		createCampaign(t, tn.secret, map[string]any{"title": fmt.Sprint("Bound ", i)})
	}
	next := func(path string) string {
		t.Helper()
		var page struct {
			Pagination struct {
				NextCursor *string `json:"next_cursor"`
			} `json:"pagination"`
		}
		if err := json.Unmarshal(call(t, "GET", path, tn.owner, nil).expect(t, 200).body, &page); err != nil || page.Pagination.NextCursor == nil {
			t.Fatalf("%s: no next_cursor (%v)", path, err)
		}
		return url.QueryEscape(*page.Pagination.NextCursor)
	}
	// Every list endpoint here sorts by created_at, newest first, unfiltered: the same query,
	// so only the endpoint tells their cursors apart.
	lists := []string{"/campaigns", "/api-keys", "/teams"}
	for _, from := range lists[:2] { // a session in one team gets one page of teams
		cursor := next("/api/v1" + from + "?limit=1")
		for _, base := range []string{"/api/v1", "/v1"} {
			call(t, "GET", base+from+"?limit=1&cursor="+cursor, tn.owner, nil).expect(t, 200)
		}
		for _, to := range lists {
			if to == from {
				continue
			}
			for _, base := range []string{"/api/v1", "/v1"} {
				e := call(t, "GET", base+to+"?limit=1&cursor="+cursor, tn.owner, nil).expectError(t, 400, "INVALID_CURSOR")
				if e.Message == "" {
					t.Fatalf("%s cursor on %s: no message", from, to)
				}
			}
		}
	}
}

// TestCursorIsBoundToItsCaller: a cursor is of no use to another caller, in another team or
// the same one: its position is in a list that caller never read.
func TestCursorIsBoundToItsCaller(t *testing.T) {
	tn := newTenant(t, "cursor-caller", qualv1alpha1.PlanEnterprise)
	other := newTenant(t, "cursor-caller-other", qualv1alpha1.PlanEnterprise)
	for i := range 3 {
		createCampaign(t, tn.secret, map[string]any{"title": fmt.Sprint("Mine ", i)})
		createCampaign(t, other.secret, map[string]any{"title": fmt.Sprint("Theirs ", i)})
	}
	var page struct {
		Pagination struct {
			NextCursor *string `json:"next_cursor"`
		} `json:"pagination"`
	}
	if err := json.Unmarshal(call(t, "GET", "/api/v1/campaigns?limit=1", tn.secret, nil).expect(t, 200).body, &page); err != nil || page.Pagination.NextCursor == nil {
		t.Fatalf("no next_cursor (%v)", err)
	}
	path := "/api/v1/campaigns?limit=1&cursor=" + url.QueryEscape(*page.Pagination.NextCursor)
	call(t, "GET", path, tn.secret, nil).expect(t, 200)
	for _, token := range []string{other.secret, other.owner, tn.owner} {
		call(t, "GET", path, token, nil).expectError(t, 400, "INVALID_CURSOR")
	}
}
