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
