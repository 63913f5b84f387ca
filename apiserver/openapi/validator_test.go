package openapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"qual.cx/operator/apiserver/openapi/openapitest"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/signing"
	"qual.cx/operator/internal/store"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

const campaignID = "3f1c9a52-8e4b-4d7a-9c1e-2b5f6a7d8e90"

func campaign() map[string]any {
	return map[string]any{
		"id":              campaignID,
		"title":           "User onboarding research",
		"slug":            "user-onboarding-research-1707566400",
		"status":          "draft",
		"campaign_mode":   "research",
		"max_questions":   10,
		"objectives":      "",
		"description":     "",
		"questions":       []string{"Where did you get stuck?"},
		"settings":        map[string]any{"language": "en", "anonymous": true, "interviewer": "protocol", "analyzer": "builtin"},
		"team_id":         "7a2d4e6f-1b3c-4d5e-8f90-a1b2c3d4e5f6",
		"interview_count": 0,
		"finding_count":   0,
		"published_at":    nil,
		"created_at":      "2024-02-10T12:00:00Z",
		"updated_at":      "2024-02-10T12:00:00Z",
	}
}

const teamID = "7a2d4e6f-1b3c-4d5e-8f90-a1b2c3d4e5f6"

func team(role any) map[string]any {
	return map[string]any{
		"id": teamID, "name": "Acme", "slug": "acme", "plan": "pro", "member_count": 2, "role": role,
		"created_at": "2024-02-10T12:00:00Z", "updated_at": "2024-02-10T12:00:00Z",
	}
}

const interviewID = "5b8e2c4a-9d1f-4e3b-8a7c-6f5e4d3c2b1a"

func interview(participant any) map[string]any {
	return map[string]any{
		"id": interviewID, "campaign_id": campaignID, "status": "in_progress", "participant": participant,
		"message_count": 1, "question_count": 1, "created_at": "2024-02-11T09:00:00Z",
		"updated_at": "2024-02-11T09:00:00Z", "ended_at": nil,
	}
}

func message(role string, sequence int) map[string]any {
	return map[string]any{
		"id": campaignID, "interview_id": interviewID, "role": role, "content": "Where did you get stuck?",
		"sequence": sequence, "created_at": "2024-02-11T09:00:00Z",
	}
}

// with is campaign() changed by f.
func with(f func(c map[string]any)) map[string]any {
	c := campaign()
	f(c)
	return c
}

// exchange is one request to the test server and the response its handler gives.
type exchange struct {
	method, path string
	status       int
	body         any    // JSON-encoded unless nil
	omit         string // a header the handler leaves out
	extra        [2]string
}

func (e exchange) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	for k, v := range map[string]string{
		"X-Request-Id": "req-1", "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59",
		"X-RateLimit-Reset": "1707566460", "RateLimit-Policy": `"requests";q=60;w=60`, "RateLimit": `"requests";r=59;t=60`,
		"Retry-After": "12", "Content-Type": "application/json",
	} {
		if k != e.omit {
			h.Set(k, v)
		}
	}
	if e.extra[0] != "" {
		h.Set(e.extra[0], e.extra[1])
	}
	w.WriteHeader(e.status)
	if e.body != nil {
		_ = json.NewEncoder(w).Encode(e.body)
	}
}

func errorBody(code string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": "m"}}
}

func TestValidator(t *testing.T) {
	var current exchange
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.ServeHTTP(w, r) }))
	defer srv.Close()

	single := func(c map[string]any) map[string]any { return map[string]any{"data": c} }
	list := map[string]any{
		"data":       []any{campaign()},
		"pagination": map[string]any{"next_cursor": nil, "has_more": false, "total_count": 1},
	}
	get := "/api/v1/campaigns/" + campaignID
	tests := []struct {
		name string
		exchange
		fails string // a substring of the failure, or "" when the exchange conforms
	}{
		{name: "campaign", exchange: exchange{method: "GET", path: get, status: 200, body: single(campaign())}},
		{name: "published", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) { c["published_at"] = "2024-02-11T08:00:00Z"; c["status"] = "active" }))}},
		{name: "v1 alias", exchange: exchange{method: "PATCH", path: "/v1/campaigns/" + campaignID, status: 200, body: single(campaign())}},
		{name: "list", exchange: exchange{method: "GET", path: "/api/v1/campaigns?limit=5", status: 200, body: list}},
		{name: "created", exchange: exchange{method: "POST", path: "/api/v1/campaigns", status: 201, body: single(campaign())}},
		{name: "deleted", exchange: exchange{method: "DELETE", path: get, status: 204}},
		{name: "not found", exchange: exchange{method: "GET", path: get, status: 404, body: errorBody("NOT_FOUND")}},
		{name: "unauthorized without rate-limit headers", exchange: exchange{method: "GET", path: get, status: 401,
			body: errorBody("UNAUTHORIZED"), omit: "X-RateLimit-Limit", extra: [2]string{"WWW-Authenticate", `Bearer realm="qual"`}}},
		{name: "unauthorized without WWW-Authenticate", exchange: exchange{method: "GET", path: get, status: 401,
			body: errorBody("UNAUTHORIZED"), omit: "X-RateLimit-Limit"}, fails: `"WWW-Authenticate" missing`},
		{name: "invalid state", exchange: exchange{method: "POST", path: get + "/publish", status: 409, body: errorBody("INVALID_STATE")}},
		{name: "method not allowed", exchange: exchange{method: "PUT", path: get, status: 405,
			body: errorBody("METHOD_NOT_ALLOWED"), extra: [2]string{"Allow", "GET, PATCH, DELETE"}}},
		{name: "team of a key", exchange: exchange{method: "GET", path: "/api/v1/teams/" + teamID, status: 200,
			body: map[string]any{"data": team(nil)}}},
		{name: "me", exchange: exchange{method: "GET", path: "/v1/me", status: 200, body: map[string]any{"data": map[string]any{
			"auth_type": "api_key", "user_id": nil, "key_id": campaignID, "key_type": "secret", "scopes": []string{"campaigns:read"},
			"team_id": teamID, "teams": []any{map[string]any{"id": teamID, "name": "Acme", "role": nil}},
		}}}},
		{name: "ready", exchange: exchange{method: "GET", path: "/api/v1/ready", status: 200, body: map[string]any{"data": map[string]any{
			"status": "ready", "checks": map[string]any{"kubernetes": "ok", "database": "ok"},
		}}}},
		{name: "not ready", exchange: exchange{method: "GET", path: "/api/v1/ready", status: 503, body: errorBody("SERVICE_UNAVAILABLE")}},
		{name: "interview", exchange: exchange{method: "GET", path: "/api/v1/interviews/" + interviewID, status: 200,
			body: map[string]any{"data": interview(nil)}}},
		{name: "interview with participant", exchange: exchange{method: "POST", path: "/api/v1/interviews/" + interviewID + "/complete",
			status: 200, body: map[string]any{"data": interview(map[string]any{
				"name": "Ada", "email": nil, "external_id": nil, "metadata": map[string]any{"plan": "pro"},
			})}}},
		{name: "interview started", exchange: exchange{method: "POST", path: get + "/interviews", status: 201,
			body: map[string]any{"data": func() map[string]any {
				i := interview(nil)
				i["messages"] = []any{message("interviewer", 1)}
				i["participant_token"] = "qual_pt_oDqm4FKcqXmIpGL3YPlizImo1kc5sW3gnXDw"
				return i
			}()}}},
		{name: "interview started without its participant token", fails: "participant_token",
			exchange: exchange{method: "POST", path: get + "/interviews", status: 201,
				body: map[string]any{"data": func() map[string]any {
					i := interview(nil)
					i["messages"] = []any{message("interviewer", 1)}
					return i
				}()}}},
		{name: "last turn", exchange: exchange{method: "POST", path: "/api/v1/interviews/" + interviewID + "/messages", status: 201,
			body: map[string]any{"data": map[string]any{
				"message": message("participant", 2), "reply": nil, "interview": interview(nil), "closing": "Thank you!",
			}}}},
		{name: "unknown path", exchange: exchange{method: "GET", path: "/api/v1/nope", status: 404, body: errorBody("NOT_FOUND")}},

		{name: "extra field", fails: "unsupported", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) { c["owner"] = "x" }))}},
		{name: "wrong enum", fails: "status", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) { c["status"] = "archived" }))}},
		{name: "missing field", fails: "slug", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) { delete(c, "slug") }))}},
		{name: "null not allowed", fails: "title", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) { c["title"] = nil }))}},
		{name: "wrong type", fails: "max_questions", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) { c["max_questions"] = "ten" }))}},
		{name: "bad uuid", fails: "uuid", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) { c["team_id"] = "team-1" }))}},
		{name: "bad date-time", fails: "date-time", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) { c["created_at"] = "yesterday" }))}},
		{name: "nested extra field", fails: "unsupported", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(with(func(c map[string]any) {
				c["settings"] = map[string]any{"language": "en", "anonymous": true, "interviewer": "protocol", "analyzer": "builtin", "x": 1}
			}))}},
		{name: "wrong nullable enum", fails: "role", exchange: exchange{method: "GET", path: "/api/v1/teams/" + teamID, status: 200,
			body: map[string]any{"data": team("boss")}}},
		{name: "health", fails: "status", exchange: exchange{method: "GET", path: "/api/v1/health", status: 200,
			body: map[string]any{"data": map[string]any{"status": "fine"}}}},
		{name: "bad uuid, JSON Schema 2020-12 path", fails: "key_id", exchange: exchange{method: "GET", path: "/api/v1/me", status: 200,
			body: map[string]any{"data": map[string]any{
				"auth_type": "api_key", "user_id": nil, "key_id": "k1", "key_type": nil, "scopes": []string{},
				"team_id": nil, "teams": []any{},
			}}}},
		{name: "participant extra field", fails: "/data/participant", exchange: exchange{method: "GET", path: "/api/v1/interviews/" + interviewID,
			status: 200, body: map[string]any{"data": interview(map[string]any{
				"name": nil, "email": nil, "external_id": nil, "metadata": nil, "phone": "1",
			})}}},
		{name: "turn reply of a wrong role", fails: "/data/reply", exchange: exchange{method: "POST", path: "/api/v1/interviews/" + interviewID + "/messages",
			status: 201, body: map[string]any{"data": map[string]any{
				"message": message("participant", 2), "reply": message("bot", 3), "interview": interview(nil), "closing": nil,
			}}}},
		{name: "no envelope", fails: "data", exchange: exchange{method: "GET", path: get, status: 200, body: campaign()}},
		{name: "undocumented status", fails: "status 418 is not documented for GET /campaigns/{id} (documented: 200, 400, 401", exchange: exchange{method: "GET", path: get, status: 418,
			body: errorBody("INTERNAL_ERROR")}},
		{name: "unknown error code", fails: "code", exchange: exchange{method: "GET", path: get, status: 404, body: errorBody("GONE")}},
		{name: "no request id", fails: "X-Request-Id", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(campaign()), omit: "X-Request-Id"}},
		{name: "no rate-limit header", fails: "X-RateLimit-Remaining", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(campaign()), omit: "X-RateLimit-Remaining"}},
		{name: "no retry-after", fails: "Retry-After", exchange: exchange{method: "GET", path: get, status: 429,
			body: errorBody("RATE_LIMITED"), omit: "Retry-After"}},
		{name: "not JSON", fails: "Content-Type", exchange: exchange{method: "GET", path: get, status: 200,
			body: single(campaign()), extra: [2]string{"Content-Type", "text/plain"}}},
		{name: "bad list", fails: "has_more", exchange: exchange{method: "GET", path: "/api/v1/campaigns", status: 200,
			body: map[string]any{"data": []any{}, "pagination": map[string]any{"next_cursor": nil, "total_count": 0}}}},
		{name: "405 without Allow", fails: "Allow", exchange: exchange{method: "PUT", path: get, status: 405,
			body: errorBody("METHOD_NOT_ALLOWED")}},
		{name: "undocumented method", fails: "not documented", exchange: exchange{method: "PUT", path: get, status: 200,
			body: single(campaign())}},
		{name: "unknown path answered", fails: "not documented", exchange: exchange{method: "GET", path: "/api/v1/nope", status: 200,
			body: single(campaign())}},
		{name: "outside the API", fails: "/api/v1", exchange: exchange{method: "GET", path: "/campaigns", status: 200,
			body: list}},
	}

	v := openapitest.New(t)
	for _, tt := range tests {
		current = tt.exchange
		req, err := http.NewRequest(tt.method, srv.URL+tt.path, http.NoBody)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{TB: t}
		v.Check(rec, req, resp.StatusCode, resp.Header, body)
		switch {
		case tt.fails == "" && len(rec.failures) != 0:
			t.Errorf("%s: unexpected failure: %s", tt.name, rec.failures)
		case tt.fails != "" && len(rec.failures) == 0:
			t.Errorf("%s: passed, want a failure about %q", tt.name, tt.fails)
		case tt.fails != "" && !strings.Contains(rec.failures[0], tt.fails):
			t.Errorf("%s: failure does not mention %q: %s", tt.name, tt.fails, rec.failures[0])
		}
	}

	unchecked := v.Unchecked()
	for _, op := range []string{"GET /campaigns", "POST /campaigns", "GET /campaigns/{id}", "PATCH /campaigns/{id}",
		"DELETE /campaigns/{id}", "POST /campaigns/{id}/publish"} {
		if slices.Contains(unchecked, op) {
			t.Errorf("%s checked but still in Unchecked()", op)
		}
	}
	if !slices.Contains(unchecked, "POST /campaigns/{id}/pause") || !slices.IsSorted(unchecked) {
		t.Errorf("Unchecked() = %v", unchecked)
	}
	if fresh := openapitest.New(t).Unchecked(); len(fresh) != len(operationsList()) {
		t.Errorf("a new Validator has %d unchecked operations, want %d", len(fresh), len(operationsList()))
	}

	// net/http drops a body written on 204, so this one is checked without the server.
	rec := &recorder{TB: t}
	req := httptest.NewRequest(http.MethodDelete, get, http.NoBody)
	header := http.Header{"X-Request-Id": {"r"}, "X-Ratelimit-Limit": {"1"}, "X-Ratelimit-Remaining": {"1"},
		"X-Ratelimit-Reset": {"1"}, "Ratelimit-Policy": {"p"}, "Ratelimit": {"r"}}
	if v.Check(rec, req, http.StatusNoContent, header, []byte("{}")); len(rec.failures) == 0 || !strings.Contains(rec.failures[0], "no body") {
		t.Errorf("body on 204: failures %v", rec.failures)
	}
}

// A delivery is checked against the webhooks entry of its type: the Standard Webhooks headers
// the dispatcher signs with, the envelope, and the data schema of that entry.
func TestValidatorChecksDeliveries(t *testing.T) {
	secret, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 2, 11, 9, 0, 0, 0, time.UTC)
	// deliver renders and signs an event as the dispatcher does.
	deliver := func(typ string, data any) (http.Header, []byte) {
		payload, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		ev := store.Event{ID: "evt_0123456789abcdef0123456789abcdef", Type: typ, CreatedAt: at, Payload: payload}
		body, err := delivery.Body(ev)
		if err != nil {
			t.Fatal(err)
		}
		h, err := delivery.Sign([]string{secret}, string(ev.ID), at, body)
		if err != nil {
			t.Fatal(err)
		}
		return h, body
	}
	v := openapitest.New(t)
	for _, c := range []struct {
		name, typ string
		data      any
		change    func(h http.Header)
		fails     string
	}{
		{name: "campaign.published", typ: "campaign.published", data: with(func(c map[string]any) {
			c["published_at"], c["status"] = "2024-02-11T08:00:00Z", "active"
		})},
		{name: "interview.started", typ: "interview.started", data: interview(nil)},
		{name: "webhook.test", typ: "webhook.test", data: map[string]any{"webhook_id": campaignID, "message": "This is a test event."}},
		{name: "another type's data", typ: "interview.started", data: campaign(), fails: "data"},
		{name: "a type no entry has", typ: "campaign.exploded", data: campaign(), fails: "campaign.exploded"},
		{name: "no signature", typ: "campaign.created", data: campaign(), fails: "webhook-signature",
			change: func(h http.Header) { h.Del("webhook-signature") }},
		{name: "a signature of another scheme", typ: "campaign.created", data: campaign(), fails: "webhook-signature",
			change: func(h http.Header) { h.Set("webhook-signature", "sha256=abc") }},
		{name: "no timestamp", typ: "campaign.created", data: campaign(), fails: "webhook-timestamp",
			change: func(h http.Header) { h.Del("webhook-timestamp") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, body := deliver(c.typ, c.data)
			if c.change != nil {
				c.change(h)
			}
			rec := &recorder{TB: t}
			v.CheckDelivery(rec, h, body)
			switch {
			case c.fails == "" && len(rec.failures) > 0:
				t.Fatalf("a conforming delivery failed: %v", rec.failures)
			case c.fails != "" && (len(rec.failures) == 0 || !strings.Contains(rec.failures[0], c.fails)):
				t.Fatalf("failures %v, want one naming %q", rec.failures, c.fails)
			}
			// The body alone, as CheckEventBody reads an outbox row, fails only for what is in it.
			rec = &recorder{TB: t}
			v.CheckEventBody(rec, body)
			if bodyFault := c.fails == "data" || c.fails == "campaign.exploded"; bodyFault != (len(rec.failures) > 0) {
				t.Fatalf("the body alone: failures %v", rec.failures)
			}
		})
	}
}
