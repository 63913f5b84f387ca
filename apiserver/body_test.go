package apiserver_test

import (
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// A route whose body is required answers a missing or blank body with 400, and does nothing:
// an empty POST /api-keys used to mint a secret key with every scope of its caller.
func TestRequiredBodiesAreRequired(t *testing.T) {
	tn := newTenant(t, "bodies", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Bodies"})
	count := func() int {
		var keys []map[string]any
		call(t, "GET", "/api/v1/api-keys", tn.secret, nil).expect(t, 200).data(t, &keys)
		return len(keys)
	}
	keysBefore := count()
	for _, body := range []any{nil, "", "  \n"} {
		call(t, "POST", "/api/v1/api-keys", tn.secret, body).expectError(t, 400, "INVALID_JSON")
		call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, body).expectError(t, 400, "INVALID_JSON")
		call(t, "POST", "/api/v1/webhooks", tn.secret, body).expectError(t, 400, "INVALID_JSON")
		call(t, "PATCH", "/api/v1/teams/"+tn.id, tn.owner, body).expectError(t, 400, "INVALID_JSON")
	}
	if n := count(); n != keysBefore {
		t.Fatalf("keys: %d, then %d", keysBefore, n)
	}
	// A body-less action still takes none.
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/publish", tn.secret, nil).expect(t, 200)
}

// A null item of a list is called null, by its index, on every route that takes a list: it
// used to decode as an empty value and be refused as one ("must not be blank"), or pass
// where an empty value may.
func TestNullListItemsAreCalledNull(t *testing.T) {
	tn := newTenant(t, "null-items", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Nulls"})
	finding := map[string]any{"campaign_id": c.ID, "title": "T", "type": "theme"}
	with := func(base map[string]any, k string, v any) map[string]any {
		out := map[string]any{k: v}
		for name, value := range base {
			out[name] = value
		}
		return out
	}
	for _, rt := range []struct {
		method, path, token string
		body                map[string]any
		field               string
	}{
		{"POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "T", "questions": []any{"Why?", nil}}, "questions[1]"},
		{"PATCH", "/api/v1/campaigns/" + c.ID, tn.secret, map[string]any{"questions": []any{nil}}, "questions[0]"},
		{"POST", "/api/v1/api-keys", tn.owner, map[string]any{"type": "scoped", "scopes": []any{"campaigns:read", nil}}, "scopes[1]"},
		{"POST", "/api/v1/api-keys", tn.owner, map[string]any{"type": "public", "scopes": []string{"campaigns:read"},
			"allowed_origins": []any{"https://app.example", nil}}, "allowed_origins[1]"},
		{"POST", "/api/v1/webhooks", tn.secret, map[string]any{"url": "https://hooks.example.com/q", "events": []any{"campaign.created", nil}}, "events[1]"},
		{"POST", "/api/v1/findings", tn.secret, with(finding, "tags", []any{"pricing", nil}), "tags[1]"},
		{"POST", "/api/v1/findings", tn.secret, with(finding, "evidence", []any{nil}), "evidence[0]"},
	} {
		e := call(t, rt.method, rt.path, rt.token, rt.body).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != rt.field || e.Details[0].Message != "must not be null" {
			t.Errorf("%s %s: details %+v, want %s: must not be null", rt.method, rt.path, e.Details, rt.field)
		}
	}
	if p := listPage(t, tn.secret, ""); p.Pagination.TotalCount != 1 {
		t.Fatalf("refused creates made %d campaigns", p.Pagination.TotalCount)
	}
}
