package apiserver

import (
	"os"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
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
