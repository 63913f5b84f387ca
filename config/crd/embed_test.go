package crd

import (
	"slices"
	"testing"
)

func TestCRDsDecodesEveryGeneratedFile(t *testing.T) {
	crds, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range crds {
		names = append(names, c.Name)
		if c.Kind != "CustomResourceDefinition" || c.Spec.Group != "qual.cx" || len(c.Spec.Versions) == 0 {
			t.Errorf("%s: kind %q group %q versions %d", c.Name, c.Kind, c.Spec.Group, len(c.Spec.Versions))
		}
	}
	want := []string{"apikeys.qual.cx", "campaigns.qual.cx", "teams.qual.cx", "webhooks.qual.cx"}
	if !slices.Equal(names, want) {
		t.Errorf("CRDs = %v, want %v", names, want)
	}
}
