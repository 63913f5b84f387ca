package apiserver

import (
	"os"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"qual.cx/operator/internal/egress"
)

// The events REST accepts are the Webhook CRD's: kubectl and REST subscribe alike.
func TestWebhookEventsAreTheCRDs(t *testing.T) {
	raw, err := os.ReadFile("../config/crd/bases/qual.cx_webhooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatal(err)
	}
	events := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["events"].Items.Schema
	var crdEnum []string
	for _, v := range events.Enum {
		var s string
		if err := yaml.Unmarshal(v.Raw, &s); err != nil {
			t.Fatal(err)
		}
		crdEnum = append(crdEnum, s)
	}
	if want := append([]string{"*"}, webhookEvents...); !slices.Equal(crdEnum, want) {
		t.Fatalf("CRD events %v\nREST events %v", crdEnum, want)
	}
}

func TestCheckEvents(t *testing.T) {
	for _, c := range []struct {
		events []string
		valid  bool
	}{
		{[]string{"*"}, true}, {[]string{"campaign.created", "finding.created"}, true},
		{[]string{}, false}, {[]string{"webhook.test"}, false}, {[]string{"*", "campaign.created"}, false},
		{[]string{"campaign.created", "*"}, false}, {[]string{"campaign.created", "campaign.created"}, false},
		{[]string{"nope"}, false},
	} {
		if msg := checkEvents(c.events); (msg == "") != c.valid {
			t.Errorf("%v: valid %v, want %v (%s)", c.events, msg == "", c.valid, msg)
		}
	}
}

// REST refuses a webhook URL for its characters exactly when the rule the controller, the
// dispatcher and the Webhook schema hold it to does (egress.CheckURLCharacters).
func TestWebhookURLCharactersAreShared(t *testing.T) {
	for _, u := range []string{
		"https://hooks.example/h", "https://hooks.example/a%20b?c=%E2%9C%93", "https://hooks.example/{a}|^`[b]",
		"https://hooks.example/a b", "https://hooks.example/a\tb", "https://hooks.example/caf\u00e9",
		"https://hooks.example/a\x7f", "https://hooks.example/%", "https://hooks.example/?q=%zz",
	} {
		rest := checkWebhookURL(u, false, egress.Policy{})
		if shared := egress.CheckURLCharacters(u); (rest != "") != (shared != nil) {
			t.Errorf("%q: REST says %q, the shared rule %v", u, rest, shared)
		}
	}
}
