package apiserver_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/openapi"
)

// TestUpperCaseIDsNameTheSameObjects: a UUID is read in any letter case (RFC 9562), in the
// path, the X-Qual-Team header, a filter and a body, and answers always carry the lower-case
// form; an upper-cased id of another team's object is as unknown as the lower-case one.
func TestUpperCaseIDsNameTheSameObjects(t *testing.T) {
	tn := newTenant(t, "upper-ids", qualv1alpha1.PlanEnterprise)
	other := newTenant(t, "upper-ids-other", qualv1alpha1.PlanEnterprise)
	up := strings.ToUpper
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Case"})
	iv, m := interviewed(t, api.URL, tn.secret, c.ID, pricingAnswers[0])

	var got campaign
	call(t, "GET", "/api/v1/campaigns/"+up(c.ID), tn.secret, nil).expect(t, 200).data(t, &got)
	if got.ID != c.ID {
		t.Fatalf("GET by the upper-case id answered %q, want %q", got.ID, c.ID)
	}
	call(t, "PATCH", "/api/v1/campaigns/"+up(c.ID), tn.secret, map[string]any{"description": "patched"}).expect(t, 200).data(t, &got)
	if got.Description != "patched" {
		t.Fatalf("PATCH by the upper-case id: %+v", got)
	}
	var ivs []interview
	call(t, "GET", "/api/v1/interviews?campaign_id="+up(c.ID), tn.secret, nil).expect(t, 200).data(t, &ivs)
	if len(ivs) != 1 || ivs[0].ID != iv.ID {
		t.Fatalf("filtered by the upper-case campaign id: %+v", ivs)
	}
	call(t, "GET", "/api/v1/interviews/"+up(iv.ID)+"/messages", tn.secret, nil).expect(t, 200)
	call(t, "GET", "/api/v1/campaigns", tn.secret, nil, "X-Qual-Team", up(tn.id)).expect(t, 200)
	call(t, "GET", "/api/v1/teams/"+up(tn.id), tn.owner, nil).expect(t, 200)

	var created campaign
	call(t, "POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "Named team", "team_id": up(tn.id)}).expect(t, 201).data(t, &created)
	if created.TeamID != tn.id {
		t.Fatalf("team_id %q, want %q", created.TeamID, tn.id)
	}
	var f finding
	call(t, "POST", "/api/v1/findings", tn.secret, map[string]any{
		"campaign_id": up(c.ID), "title": "Price", "type": "pain_point",
		"evidence": []map[string]any{{"interview_id": up(iv.ID), "message_id": up(m.ID), "quote": "far too expensive"}},
	}).expect(t, 201).data(t, &f)
	if f.CampaignID != c.ID || len(f.Evidence) != 1 || f.Evidence[0].InterviewID != iv.ID || *f.Evidence[0].MessageID != m.ID {
		t.Fatalf("the finding holds ids not in their canonical form: %+v", f)
	}
	call(t, "GET", "/api/v1/findings/"+up(f.ID), tn.secret, nil).expect(t, 200)

	// Another team's ids stay unknown whatever their case.
	call(t, "GET", "/api/v1/campaigns/"+up(c.ID), other.secret, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "GET", "/api/v1/interviews/"+up(iv.ID), other.secret, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "GET", "/api/v1/campaigns", other.secret, nil, "X-Qual-Team", up(tn.id)).expectError(t, 404, "NOT_FOUND")
	e := call(t, "POST", "/api/v1/findings", other.secret, map[string]any{
		"campaign_id": up(c.ID), "title": "Theirs", "type": "theme"}).expectError(t, 404, "NOT_FOUND")
	if !strings.Contains(e.Message, "Campaign") {
		t.Fatalf("another team's campaign: %+v", e)
	}
}

// TestOtherSpellingsOfAnIDAreUnknown: an id is a UUID in its 36-character form, in any
// letter case, and nothing else. The other spellings RFC 9562 parsers (google/uuid among
// them) take for the same UUID, in braces (sent as is or URL-encoded), as a URN or without
// hyphens, name no object on any documented {id} route: each is the 404 of an unknown id, the
// answer the document promises, never a read or a write of the object it spells.
func TestOtherSpellingsOfAnIDAreUnknown(t *testing.T) {
	tn := newTenant(t, "id-spellings", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, api.URL, tn.secret, map[string]any{"title": "Spellings"})
	iv, _ := interviewed(t, api.URL, tn.secret, c.ID, pricingAnswers[0])
	existing := map[string]string{"/campaigns/": c.ID, "/interviews/": iv.ID, "/teams/": tn.id}
	ops, err := openapi.QueryParams()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		method, path, _ := strings.Cut(op, " ")
		prefix, _, ok := strings.Cut(path, "{id}")
		id, known := existing[prefix]
		if !ok || !known {
			continue
		}
		for _, spelling := range []string{"{" + id + "}", "%7B" + id + "%7D", "%7b" + strings.ToUpper(id) + "%7d",
			"urn:uuid:" + id, strings.ReplaceAll(id, "-", "")} {
			p := strings.NewReplacer("{id}", spelling, "{user_id}", tn.ownerMail).Replace(path)
			var body any
			if method == "POST" || method == "PATCH" {
				body = map[string]any{}
			}
			r := call(t, method, "/api/v1"+p, tn.owner, body)
			if r.status != 404 {
				t.Errorf("%s %s: %d %s, want the 404 of an unknown id", method, p, r.status, r.body)
			}
			tried++
		}
	}
	if tried < 5*20 {
		t.Fatalf("only %d requests: the document's {id} routes were not found", tried)
	}
	call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expect(t, 200) // nothing was deleted
}
