package resources_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/openapi/openapitest"
	"qual.cx/operator/apiserver/resources"
)

// A key made with kubectl is listed before its controller mints it, with no prefix or last four
// yet: the document says so, and the answer holds to it.
func TestAKeyNotYetMintedMatchesTheDocument(t *testing.T) {
	v := openapitest.New(t)
	for name, k := range map[string]*qualv1alpha1.APIKey{
		"waiting": {},
		"minted":  {Status: qualv1alpha1.APIKeyStatus{Prefix: "qual_sk_AbCd", LastFour: "wXyZ"}},
	} {
		k.UID = types.UID("6f1c2a4e-2b7d-4c1e-9a3f-0d5e8b7c6a41")
		k.Name, k.Namespace, k.CreationTimestamp = "made-with-kubectl", "team-a", metav1.Now()
		k.Spec.Type = qualv1alpha1.KeySecret
		scopes := []qualv1alpha1.Scope{"campaigns:read"}
		body, err := json.Marshal(map[string]any{"data": resources.NewAPIKey(k, "0b6f7c1d-3e2a-4f5b-8c9d-1a2b3c4d5e6f", scopes)})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/api-keys/"+string(k.UID), nil)
		t.Run(name, func(t *testing.T) {
			v.Check(t, req, http.StatusOK, answerHeaders, body)
		})
	}
}

// answerHeaders are the headers every authenticated answer carries.
var answerHeaders = http.Header{
	"Content-Type": {"application/json"}, "X-Request-Id": {"req-1"},
	"X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Remaining": {"59"}, "X-Ratelimit-Reset": {"1800000000"},
	"Ratelimit-Policy": {`"requests";q=60;w=60`}, "Ratelimit": {`"requests";r=59;t=60`},
}
