package apiserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// TestEmailsAreJudgedAsTheDocumentSays: every field that takes an e-mail address (a
// participant's, the participant_email filter, a new member's) accepts exactly what the
// OpenAPI document accepts, internationalized addresses (RFC 6531) included, as the Team
// schema and sessions' e-mail claims do; and refuses what it refuses with a 400
// VALIDATION_ERROR naming the field.
func TestEmailsAreJudgedAsTheDocumentSays(t *testing.T) {
	tn := newTenant(t, "emails", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "E-mails"})
	long := strings.Repeat("ü", 240) + "@ex.example" // 251 characters, 491 bytes
	for _, tc := range []struct {
		email string
		ok    bool
	}{
		{"ada@example.com", true}, {"jürgen@bücher.example", true}, {"用户@例子.example", true}, {long, true},
		{"ada", false}, {"@example.com", false}, {"ada@", false}, {"a@b@example.com", false},
		{"ada lovelace@example.com", false}, {"ada\t@example.com", false}, {"ada\u0085@example.com", false},
		{strings.Repeat("a", 244) + "@ex.example", false}, // 255 characters
		// Shown as another address than the one that matches: a zero-width space, a direction
		// override, a no-break space, a line separator.
		{"ada\u200b@example.com", false}, {"ada@exa\u202emple.com", false}, {"ada\u00a0@example.com", false},
		{"ada@example\u2028.com", false},
	} {
		checkEmail(t, tc.ok, "participant.email", "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret,
			map[string]any{"participant": map[string]any{"email": tc.email}})
		checkEmail(t, tc.ok, "participant_email", "GET", "/api/v1/interviews?participant_email="+url.QueryEscape(tc.email), tn.secret, nil)
		checkEmail(t, tc.ok, "email", "POST", "/api/v1/teams/"+tn.id+"/members", tn.owner,
			map[string]any{"email": tc.email, "role": "viewer"})
	}
	// A participant's empty address is none, in the document as on the server.
	checkEmail(t, true, "participant.email", "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret,
		map[string]any{"participant": map[string]any{"email": ""}})
}

// checkEmail sends one request and checks that the server and the document agree on it
// (ok: both accept it), and that a refusal is a 400 naming field.
func checkEmail(t *testing.T, ok bool, field, method, path, token string, body any) {
	t.Helper()
	var raw []byte
	req, err := http.NewRequest(method, api.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	documented := validator.CheckRequest(req, raw)
	if documented == nil != ok {
		t.Errorf("%s %s: the document's verdict is %v, want accepted=%v", method, path, documented, ok)
	}
	r := call(t, method, path, token, raw)
	if ok {
		if r.status >= 300 {
			t.Errorf("%s %s: %d %s, want it accepted", method, path, r.status, r.body)
		}
		return
	}
	e := r.expectError(t, 400, "VALIDATION_ERROR")
	if !slices.ContainsFunc(e.Details, func(d struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}) bool {
		return d.Field == field
	}) {
		t.Errorf("%s %s: the 400 does not name %s: %+v", method, path, field, e)
	}
}
