package admission

import (
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestPoliciesDecodesEveryFileKustomizeLists(t *testing.T) {
	objs, err := Policies()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName())
	}
	want := []string{
		"ValidatingAdmissionPolicy/qual-apikey-admin-scope",
		"ValidatingAdmissionPolicyBinding/qual-apikey-admin-scope",
		"MutatingAdmissionPolicy/qual-apikey-created-by",
		"MutatingAdmissionPolicyBinding/qual-apikey-created-by",
		"ValidatingAdmissionPolicy/qual-apikey-created-by-immutable",
		"ValidatingAdmissionPolicyBinding/qual-apikey-created-by-immutable",
		"ValidatingAdmissionPolicy/qual-apikey-minted-by",
		"ValidatingAdmissionPolicyBinding/qual-apikey-minted-by",
		"ValidatingAdmissionPolicy/qual-apikey-revoked-by-claim",
		"ValidatingAdmissionPolicyBinding/qual-apikey-revoked-by-claim",
		"ValidatingAdmissionPolicy/qual-idempotency-claim",
		"ValidatingAdmissionPolicyBinding/qual-idempotency-claim",
		"ValidatingAdmissionPolicy/qual-operator-finalizers",
		"ValidatingAdmissionPolicyBinding/qual-operator-finalizers",
		"ValidatingAdmissionPolicy/qual-manager-namespaces",
		"ValidatingAdmissionPolicyBinding/qual-manager-namespaces",
		"ValidatingAdmissionPolicy/qual-team-member-claims",
		"ValidatingAdmissionPolicyBinding/qual-team-member-claims",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Policies() = %v, want %v", got, want)
	}

	// The binary installs what `kubectl apply -k config/admission` would: every file the
	// kustomization lists is embedded, and nothing else.
	raw, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ Resources []string }
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	embedded, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range embedded {
		names = append(names, e.Name())
	}
	slices.Sort(k.Resources)
	if !slices.Equal(names, k.Resources) {
		t.Errorf("embedded %v, kustomization lists %v", names, k.Resources)
	}
	for _, o := range objs {
		if !strings.HasPrefix(o.GetName(), "qual-") {
			t.Errorf("%s: policy names start with qual-", o.GetName())
		}
	}
}
