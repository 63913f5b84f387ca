package apiserver_test

import (
	"encoding/json"
	"strings"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// TestEveryStringFieldRefusesBadText sends, for every string field of every write route, a
// value holding NUL, another control character and invalid UTF-8: each is 400
// VALIDATION_ERROR naming the field, and nothing is written.
func TestEveryStringFieldRefusesBadText(t *testing.T) {
	tn := newTenant(t, "text", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Clean"})
	routes := []struct {
		method, path, token string
		base                map[string]any
		fields              []string
	}{
		{"POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "T"},
			[]string{"title", "objectives", "description", "questions[0]", "settings.language", "campaign_mode", "team_id"}},
		{"PATCH", "/api/v1/campaigns/" + c.ID, tn.secret, map[string]any{},
			[]string{"title", "objectives", "description", "questions[0]", "settings.language", "campaign_mode"}},
		{"POST", "/api/v1/teams", tn.owner, map[string]any{"name": "T"}, []string{"name", "plan"}},
		{"PATCH", "/api/v1/teams/" + tn.id, tn.owner, map[string]any{}, []string{"name", "plan"}},
		{"POST", "/api/v1/teams/" + tn.id + "/members", tn.owner, map[string]any{"email": "x@example.com"}, []string{"email", "role"}},
		{"PATCH", "/api/v1/teams/" + tn.id + "/members/text-member@example.com", tn.owner, map[string]any{"role": "viewer"}, []string{"role"}},
		{"POST", "/api/v1/api-keys", tn.owner, map[string]any{"type": "public", "scopes": []string{"campaigns:read"}}, []string{"name", "type", "scopes[0]", "allowed_origins[0]"}},
	}
	for _, rt := range routes {
		for _, field := range rt.fields {
			for _, bad := range []string{"nul\x00here", "bell\x07", "crlf\r\n", "\xffinvalid"} {
				raw := withField(t, rt.base, field, bad)
				e := call(t, rt.method, rt.path, rt.token, raw).expectError(t, 400, "VALIDATION_ERROR")
				if len(e.Details) != 1 || e.Details[0].Field != field {
					t.Errorf("%s %s with %s=%q: details %+v", rt.method, rt.path, field, bad, e.Details)
				}
			}
		}
	}
	var still campaign
	call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expect(t, 200).data(t, &still)
	if still.Title != "Clean" || still.Description != "" {
		t.Fatalf("a refused write changed the campaign: %+v", still)
	}
	if p := listPage(t, tn.secret, ""); p.Pagination.TotalCount != 1 {
		t.Fatalf("refused creates made %d campaigns", p.Pagination.TotalCount)
	}
	// Newlines and tabs are text.
	call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"description": "two\nlines\tand a tab"}).expect(t, 200)
}

// withField is base's JSON with value at a path like "a.b" or "a[0]", built as raw bytes so
// invalid UTF-8 reaches the server as sent.
func withField(t *testing.T, base map[string]any, path, value string) []byte {
	t.Helper()
	const marker = "\u2063MARK\u2063"
	body := map[string]any{}
	for k, v := range base {
		body[k] = v
	}
	name, inList := strings.CutSuffix(path, "[0]")
	var v any = marker
	if inList {
		v = []any{marker}
	}
	if parent, child, ok := strings.Cut(name, "."); ok {
		body[parent] = map[string]any{child: v}
	} else {
		body[name] = v
	}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	// Control characters go in as JSON escapes, invalid UTF-8 as the raw bytes.
	quoted, _ := json.Marshal(value)
	if strings.ContainsRune(value, '\uFFFD') || !isValidUTF8(value) {
		quoted = []byte(`"` + value + `"`)
	}
	return []byte(strings.Replace(string(raw), `"`+marker+`"`, string(quoted), 1))
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }

// TestDuplicateNamesAreRefused sends a write whose object names one member twice, the
// second asking for more (a higher role, another title): a reader in front of the API may
// take the first and the decoder the last, so the request is 400 VALIDATION_ERROR naming
// the member, and nothing changes.
func TestDuplicateNamesAreRefused(t *testing.T) {
	tn := newTenant(t, "dupkey", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Clean"})
	for _, rt := range []struct {
		method, path, token, body, field string
	}{
		{"POST", "/api/v1/campaigns", tn.secret, `{"title":"A","title":"B"}`, "title"},
		{"PATCH", "/api/v1/campaigns/" + c.ID, tn.secret, `{"settings":{"language":"en","language":"fr"}}`, "settings.language"},
		{"PATCH", "/api/v1/teams/" + tn.id + "/members/dupkey-member@example.com", tn.owner, `{"role":"viewer","role":"owner"}`, "role"},
		{"POST", "/api/v1/api-keys", tn.owner, `{"type":"public","scopes":["campaigns:read"],"type":"secret"}`, "type"},
	} {
		e := call(t, rt.method, rt.path, rt.token, []byte(rt.body)).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != rt.field {
			t.Errorf("%s %s %s: details %+v", rt.method, rt.path, rt.body, e.Details)
		}
	}
	onlyClean(t, tn, c.ID)
	var members []struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	call(t, "GET", "/api/v1/teams/"+tn.id+"/members", tn.owner, nil).expect(t, 200).data(t, &members)
	for _, m := range members {
		if m.Email == "dupkey-member@example.com" && m.Role != "member" {
			t.Fatalf("the member's role is %q after a refused patch", m.Role)
		}
	}
}

// TestNamesRefuseDirectionOverrides sends, for every name or title people read in a list, a
// value holding a bidirectional override, embedding or isolate, which would make it show as
// something else ("invoice‮fdp.exe" reads "invoiceexe.pdf"): each is 400 VALIDATION_ERROR
// naming the field, nothing is written, and a right-to-left name with only direction marks
// is taken.
func TestNamesRefuseDirectionOverrides(t *testing.T) {
	tn := newTenant(t, "bidi", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Clean"})
	routes := []struct {
		method, path, token string
		body                func(v string) map[string]any
		field               string
	}{
		{"POST", "/api/v1/campaigns", tn.secret, func(v string) map[string]any { return map[string]any{"title": v} }, "title"},
		{"PATCH", "/api/v1/campaigns/" + c.ID, tn.secret, func(v string) map[string]any { return map[string]any{"title": v} }, "title"},
		{"POST", "/api/v1/teams", tn.owner, func(v string) map[string]any { return map[string]any{"name": v} }, "name"},
		{"PATCH", "/api/v1/teams/" + tn.id, tn.owner, func(v string) map[string]any { return map[string]any{"name": v} }, "name"},
		{"POST", "/api/v1/api-keys", tn.owner, func(v string) map[string]any {
			return map[string]any{"name": v, "type": "public", "scopes": []string{"campaigns:read"}}
		}, "name"},
		{"POST", "/api/v1/findings", tn.secret, func(v string) map[string]any {
			return map[string]any{"campaign_id": c.ID, "title": v, "type": "insight"}
		}, "title"},
		{"POST", "/api/v1/findings", tn.secret, func(v string) map[string]any {
			return map[string]any{"campaign_id": c.ID, "title": "T", "type": "insight", "tags": []string{v}}
		}, "tags[0]"},
		{"POST", "/api/v1/campaigns/" + c.ID + "/interviews", tn.secret, func(v string) map[string]any {
			return map[string]any{"participant": map[string]any{"name": v}}
		}, "participant.name"},
		{"POST", "/api/v1/campaigns/" + c.ID + "/interviews", tn.secret, func(v string) map[string]any {
			return map[string]any{"participant": map[string]any{"external_id": v}}
		}, "participant.external_id"},
	}
	for _, rt := range routes {
		for _, bad := range []string{"invoice\u202Efdp.exe", "\u202Aembedded", "isolated\u2067x\u2069", "pop\u202C"} {
			e := call(t, rt.method, rt.path, rt.token, rt.body(bad)).expectError(t, 400, "VALIDATION_ERROR")
			if len(e.Details) != 1 || e.Details[0].Field != rt.field || !strings.Contains(e.Details[0].Message, "direction overrides") {
				t.Errorf("%s %s with %s=%q: details %+v", rt.method, rt.path, rt.field, bad, e.Details)
			}
		}
	}
	onlyClean(t, tn, c.ID)
	// Right-to-left text needs no override; a direction mark changes no order.
	call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"title": "מחקר\u200F 2026"}).expect(t, 200)
}

// onlyClean fails unless the tenant's one campaign, id, is still titled "Clean": refused
// writes changed nothing and made nothing.
func onlyClean(t *testing.T, tn *tenant, id string) {
	t.Helper()
	var still campaign
	call(t, "GET", "/api/v1/campaigns/"+id, tn.secret, nil).expect(t, 200).data(t, &still)
	if still.Title != "Clean" {
		t.Fatalf("a refused write changed the campaign: %+v", still)
	}
	if p := listPage(t, tn.secret, ""); p.Pagination.TotalCount != 1 {
		t.Fatalf("refused creates made %d campaigns", p.Pagination.TotalCount)
	}
}

// TestOptionalNamesRefuseInvisibleText: a key's name and a participant's name and external id
// may be left out, empty or white space alone (trimmed to nothing: a key then gets its default
// name), but one that holds something must show it, as a team's name or a campaign's title
// must: zero-width, format or filler characters alone would list as a blank row (the
// outside-in sweep stored "\u200b\u2063" as a key's name). Each is 400 VALIDATION_ERROR
// naming the field, and nothing is written.
func TestOptionalNamesRefuseInvisibleText(t *testing.T) {
	tn := newTenant(t, "invisible-names", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Clean"})
	count := func(path string) int {
		var items []map[string]any
		call(t, "GET", path, tn.secret, nil).expect(t, 200).data(t, &items)
		return len(items)
	}
	keys, interviews := count("/api/v1/api-keys"), count("/api/v1/campaigns/"+c.ID+"/interviews")
	routes := []struct {
		path  string
		body  func(v string) map[string]any
		field string
	}{
		{"/api/v1/api-keys", func(v string) map[string]any {
			return map[string]any{"name": v, "scopes": []string{"campaigns:read"}}
		}, "name"},
		{"/api/v1/campaigns/" + c.ID + "/interviews", func(v string) map[string]any {
			return map[string]any{"participant": map[string]any{"name": v}}
		}, "participant.name"},
		{"/api/v1/campaigns/" + c.ID + "/interviews", func(v string) map[string]any {
			return map[string]any{"participant": map[string]any{"external_id": v}}
		}, "participant.external_id"},
	}
	for _, rt := range routes {
		for _, bad := range []string{"\u200b", "\u200b\u2063", " \uFEFF\u200D ", "\U000E0020\u2064", "\u3164\u2800"} {
			e := call(t, "POST", rt.path, tn.secret, rt.body(bad)).expectError(t, 400, "VALIDATION_ERROR")
			if len(e.Details) != 1 || e.Details[0].Field != rt.field || !strings.Contains(e.Details[0].Message, "show") {
				t.Errorf("POST %s with %s=%+q: details %+v", rt.path, rt.field, bad, e.Details)
			}
		}
	}
	if k, i := count("/api/v1/api-keys"), count("/api/v1/campaigns/"+c.ID+"/interviews"); k != keys || i != interviews {
		t.Fatalf("refused writes made keys (%d, then %d) or interviews (%d, then %d)", keys, k, interviews, i)
	}
	// White space alone is no name; a name that shows keeps its format characters.
	var key struct {
		Name string `json:"name"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": "  ", "scopes": []string{"campaigns:read"}}).expect(t, 201).data(t, &key)
	if key.Name != "secret key" {
		t.Errorf("a blank name gave the key %q, want the default", key.Name)
	}
	call(t, "POST", "/api/v1/api-keys", tn.secret, map[string]any{"name": "CI\u200b", "scopes": []string{"campaigns:read"}}).expect(t, 201)
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/interviews", tn.secret, map[string]any{
		"participant": map[string]any{"name": "\u200fנועה", "external_id": " "}}).expect(t, 201)
}
