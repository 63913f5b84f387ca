package apiserver_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/keys"
)

func TestEveryAuthenticationFailureIsTheSame401(t *testing.T) {
	tn := newTenant(t, "authn", qualv1alpha1.PlanEnterprise)
	unknown, _ := keys.Mint(qualv1alpha1.KeySecret)
	noneAlg := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"user-authn-owner","exp":9999999999,"aud":"authenticated"}`)) + "."
	wrongSecret, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "user-authn-owner", "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString([]byte("another-secret-of-at-least-32-bytes!!"))
	noSub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"email": "x@example.com", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwtSecret)
	cases := map[string][]string{
		"no header":     {"Authorization", ""},
		"not bearer":    {"Authorization", "Basic " + tn.secret},
		"empty bearer":  {"Authorization", "Bearer "},
		"bad checksum":  {"Authorization", "Bearer " + mistyped(tn.secret)},
		"unknown key":   {"Authorization", "Bearer " + unknown.Plaintext},
		"expired jwt":   {"Authorization", "Bearer " + sessionToken(t, "user-authn-owner", tn.ownerMail, -time.Minute)},
		"wrong secret":  {"Authorization", "Bearer " + wrongSecret},
		"alg none":      {"Authorization", "Bearer " + noneAlg},
		"missing sub":   {"Authorization", "Bearer " + noSub},
		"garbage token": {"Authorization", "Bearer not.a.jwt"},
		// A subject no team could hold as a member's user ID is no usable identity here.
		"kubernetes identity": {"Authorization", "Bearer " + sessionToken(t, "system:masters", "sys@example.com", time.Hour)},
		"control character":   {"Authorization", "Bearer " + sessionToken(t, "ab\x00c", "nul@example.com", time.Hour)},
		"overlong subject":    {"Authorization", "Bearer " + sessionToken(t, strings.Repeat("L", 129), "long@example.com", time.Hour)},
	}
	var first string
	for name, h := range cases {
		e := call(t, "GET", "/api/v1/campaigns", "", nil, h...).expectError(t, 401, "UNAUTHORIZED")
		if first == "" {
			first = e.Message
		}
		if e.Message != first {
			t.Errorf("%s: the 401 must never say what was wrong: %q vs %q", name, e.Message, first)
		}
	}
	// Two Authorization headers, even both valid, are no credential: a proxy reading the
	// other one would disagree about who is calling.
	req, err := http.NewRequest("GET", api.URL+"/api/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Add("Authorization", "Bearer "+tn.owner)
	req.Header.Add("Authorization", "Bearer "+tn.secret)
	if r := send(t, http.DefaultClient, req); r.status != 401 {
		t.Fatalf("two Authorization headers: %d %s", r.status, r.body)
	}
	// A valid session works, and sees its teams.
	var me struct {
		AuthType string   `json:"auth_type"`
		UserID   string   `json:"user_id"`
		Scopes   []string `json:"scopes"`
		TeamID   string   `json:"team_id"`
	}
	call(t, "GET", "/api/v1/me", tn.owner, nil).expect(t, 200).data(t, &me)
	if me.AuthType != "session" || me.UserID != "user-authn-owner" || me.TeamID != tn.id || strings.Join(me.Scopes, ",") != "*" {
		t.Fatalf("me %+v", me)
	}
}

func TestRevokedAndExpiredKeysAreRefusedAtOnce(t *testing.T) {
	tn := newTenant(t, "revoke", qualv1alpha1.PlanEnterprise)
	var created struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": "ci", "type": "scoped", "scopes": []string{"campaigns:read"}}).
		expect(t, 201).data(t, &created)
	call(t, "GET", "/api/v1/campaigns", created.Key, nil).expect(t, 200)
	call(t, "DELETE", "/api/v1/api-keys/"+created.ID, tn.secret, nil).expect(t, 204)
	call(t, "GET", "/api/v1/campaigns", created.Key, nil).expectError(t, 401, "UNAUTHORIZED")

	var short struct {
		Key string `json:"key"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"type": "secret", "expires_at": time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)}).
		expect(t, 201).data(t, &short)
	call(t, "GET", "/api/v1/me", short.Key, nil).expect(t, 200)
	time.Sleep(4100 * time.Millisecond)
	call(t, "GET", "/api/v1/me", short.Key, nil).expectError(t, 401, "UNAUTHORIZED")
}

func TestScopesAreEnforcedOnEveryEndpoint(t *testing.T) {
	tn := newTenant(t, "scopes", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Scoped"})
	// The scoped key holds campaigns:read only.
	for _, ep := range []struct{ method, path, scope string }{
		{"POST", "/api/v1/campaigns", "campaigns:write"},
		{"PATCH", "/api/v1/campaigns/" + c.ID, "campaigns:write"},
		{"DELETE", "/api/v1/campaigns/" + c.ID, "campaigns:delete"},
		{"POST", "/api/v1/campaigns/" + c.ID + "/publish", "campaigns:publish"},
		{"POST", "/api/v1/campaigns/" + c.ID + "/pause", "campaigns:publish"},
		{"POST", "/api/v1/campaigns/" + c.ID + "/complete", "campaigns:publish"},
		{"GET", "/api/v1/teams", "teams:read"},
		{"POST", "/api/v1/teams", "teams:write"},
		{"GET", "/api/v1/teams/" + tn.id, "teams:read"},
		{"PATCH", "/api/v1/teams/" + tn.id, "teams:write"},
		{"DELETE", "/api/v1/teams/" + tn.id, "teams:write"},
		{"GET", "/api/v1/teams/" + tn.id + "/members", "teams:read"},
		{"POST", "/api/v1/teams/" + tn.id + "/members", "teams:write"},
		{"PATCH", "/api/v1/teams/" + tn.id + "/members/x@example.com", "teams:write"},
		{"DELETE", "/api/v1/teams/" + tn.id + "/members/x@example.com", "teams:write"},
		{"GET", "/api/v1/admin/stats", "admin:read"},
		{"GET", "/api/v1/admin/teams", "admin:read"},
	} {
		e := call(t, ep.method, ep.path, tn.scoped, `{}`).expectError(t, 403, "INSUFFICIENT_SCOPE")
		if !strings.Contains(e.Message, ep.scope) {
			t.Errorf("%s %s: message %q does not name %s", ep.method, ep.path, e.Message, ep.scope)
		}
	}
	call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.scoped, nil).expect(t, 200)
}

func TestKeyTypeRules(t *testing.T) {
	tn := newTenant(t, "keyrules", qualv1alpha1.PlanEnterprise)
	// A key holding teams:write still cannot delete its team: that takes an owner's session.
	call(t, "DELETE", "/api/v1/teams/"+tn.id, tn.secret, nil).expectError(t, 403, "FORBIDDEN")
	call(t, "GET", "/api/v1/teams/"+tn.id, tn.owner, nil).expect(t, 200)
	// Public and scoped keys cannot manage keys at all.
	for _, token := range []string{tn.public, tn.scoped} {
		call(t, "GET", "/api/v1/api-keys", token, nil).expectError(t, 403, "FORBIDDEN")
		call(t, "POST", "/api/v1/api-keys", token, map[string]any{"type": "public"}).expectError(t, 403, "FORBIDDEN")
	}
	for body, field := range map[string]string{
		`{"type":"public","scopes":["campaigns:write"]}`: "scopes",
		`{"type":"scoped"}`:                                         "scopes",
		`{"type":"secret","scopes":[]}`:                             "scopes", // an empty list is not "the creator's scopes"
		`{"scopes":null}`:                                           "scopes",
		`{"type":"secret","scopes":["campaigns:destroy"]}`:          "scopes",
		`{"type":"root"}`:                                           "type",
		`{"type":"secret","allowed_origins":["https://a.example"]}`: "allowed_origins",
		`{"type":"public","scopes":["campaigns:read"],"allowed_origins":["https://a.example/path"]}`: "allowed_origins",
		`{"expires_at":"2001-01-01T00:00:00Z"}`:                                                      "expires_at",
		`{"expires_in_days":366}`:                                                                    "expires_in_days",
		`{"expires_at":"2030-01-01"}`:                                                                "expires_at",
		`{"expires_at":1893456000}`:                                                                  "expires_at",
		`{"type":"public"}`:                                                                          "scopes",
		`{"type":"public","scopes":["campaigns:read"],"allowed_origins":["https://*.example.com"]}`:                    "allowed_origins",
		`{"type":"public","scopes":["campaigns:read"],"allowed_origins":["https://app.example.com:443"]}`:              "allowed_origins",
		`{"type":"public","scopes":["campaigns:read"],"allowed_origins":["https://a.example","https://a.example"]}`:    "allowed_origins",
		`{"type":"public","scopes":["campaigns:read"],"allowed_origins":["https://a.example"` + manyOrigins(20) + `]}`: "allowed_origins",
	} {
		e := call(t, "POST", "/api/v1/api-keys", tn.secret, body).expectError(t, 400, "VALIDATION_ERROR")
		if e.Details[0].Field != field {
			t.Errorf("%s: field %s, want %s", body, e.Details[0].Field, field)
		}
		checkOwnWords(t, body, e)
	}
	// A null expiry, either way it is given, is no expiry.
	for _, field := range []string{"expires_at", "expires_in_days"} {
		var never struct {
			ExpiresAt *string `json:"expires_at"`
		}
		call(t, "POST", "/api/v1/api-keys", tn.owner, map[string]any{"name": "never", field: nil}, "X-Qual-Team", tn.id).expect(t, 201).data(t, &never)
		if never.ExpiresAt != nil {
			t.Errorf("%s null: expires_at %s", field, *never.ExpiresAt)
		}
	}
	// A secret key lacks admin:read, so it cannot grant it.
	e := call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"type": "scoped", "scopes": []string{"admin:read"}}).
		expectError(t, 403, "INSUFFICIENT_SCOPE")
	if !strings.Contains(e.Message, "admin:read") {
		t.Fatalf("message %q", e.Message)
	}
	// A secret key without scopes gets its creator's; the plaintext is shown once.
	var k struct {
		ID     string   `json:"id"`
		Key    string   `json:"key"`
		Prefix string   `json:"prefix"`
		Scopes []string `json:"scopes"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": "backend"}).expect(t, 201).data(t, &k)
	if !strings.HasPrefix(k.Key, "qual_sk_") || k.Prefix != k.Key[:12] || len(k.Scopes) != 13 {
		t.Fatalf("created key %+v", k)
	}
	got := call(t, "GET", "/api/v1/api-keys/"+k.ID, tn.secret, nil).expect(t, 200)
	if strings.Contains(string(got.body), k.Key) || strings.Contains(string(got.body), `"key"`) {
		t.Fatalf("the plaintext must be shown only once: %s", got.body)
	}
	// Rotation: a new key, the old one revoked.
	var rotated struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	call(t, "POST", "/api/v1/api-keys/"+k.ID+"/rotate", tn.secret, nil).expect(t, 200).data(t, &rotated)
	call(t, "GET", "/api/v1/me", k.Key, nil).expectError(t, 401, "UNAUTHORIZED")
	call(t, "GET", "/api/v1/me", rotated.Key, nil).expect(t, 200)
	// An expired key is not rotated: its successor would keep the expiry and be born expired.
	var brief struct {
		ID string `json:"id"`
	}
	soon := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": "brief", "expires_at": soon}).expect(t, 201).data(t, &brief)
	time.Sleep(3 * time.Second)
	call(t, "POST", "/api/v1/api-keys/"+brief.ID+"/rotate", tn.secret, nil).expectError(t, 409, "INVALID_STATE")
	// Public keys answer browsers; secret keys never do.
	r := call(t, "GET", "/api/v1/campaigns", tn.public, nil, "Origin", "https://shop.example")
	if r.header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("public key CORS: %v", r.header)
	}
	r = call(t, "GET", "/api/v1/campaigns", tn.secret, nil, "Origin", "https://shop.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("a secret key must never get CORS headers")
	}
}

// Rotations of one key racing each other, or racing its revocation, leave at most one live
// successor, and none when the revocation came first: the old key is revoked only as it was
// read, before its successor is made.
func TestRacingRotationsMakeOneSuccessor(t *testing.T) {
	tn := newTenant(t, "rotrace", qualv1alpha1.PlanEnterprise)
	for round := range 3 {
		var k struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		}
		call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": fmt.Sprint("raced-", round)}).expect(t, 201).data(t, &k)
		waitUsable(t, "raced key", k.Key)
		results := make(chan response, 4)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				<-start
				if i == 3 && round == 2 { // the last round races a revocation too
					results <- call(t, "DELETE", "/api/v1/api-keys/"+k.ID, tn.secret, nil)
					return
				}
				results <- call(t, "POST", "/api/v1/api-keys/"+k.ID+"/rotate", k.Key, nil)
			})
		}
		close(start)
		wg.Wait()
		close(results)
		live := 0
		for r := range results {
			var out struct {
				Key string `json:"key"`
			}
			if r.status == 200 {
				r.data(t, &out)
				waitUsable(t, "successor", out.Key)
				live++
			} else if r.status != 204 && r.status != 409 && r.status != 401 {
				t.Fatalf("round %d: %d %s", round, r.status, r.body)
			}
		}
		if live > 1 {
			t.Fatalf("round %d: %d live successors of one key", round, live)
		}
		call(t, "GET", "/api/v1/me", k.Key, nil).expectError(t, 401, "UNAUTHORIZED")
	}
}

// manyOrigins is n distinct origins, each after a comma.
func manyOrigins(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"https://b%d.example"`, i)
	}
	return b.String()
}
