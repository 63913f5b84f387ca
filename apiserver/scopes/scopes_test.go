package scopes

import (
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

func TestScopeSets(t *testing.T) {
	set, unknown := Parse([]qualv1alpha1.Scope{"campaigns:read", "teams:write"})
	if unknown != "" || !set.Has(CampaignsRead|TeamsWrite) || set.Has(CampaignsWrite) {
		t.Fatalf("set %b, unknown %q", set, unknown)
	}
	if _, unknown := Parse([]qualv1alpha1.Scope{"campaigns:destroy"}); unknown != "campaigns:destroy" {
		t.Fatalf("unknown %q", unknown)
	}
	if got := set.Missing(CampaignsRead | AdminRead); got != "admin:read" {
		t.Fatalf("missing %q", got)
	}
	if len(All.Names()) != 14 || SecretDefault.Has(AdminRead) || len(SecretDefault.Names()) != 13 {
		t.Fatal("all or secret default is wrong")
	}
	public := PublicAllowed()
	if !public.Has(Of("interviews:write")|CampaignsRead|AdminRead) || public.Has(CampaignsWrite) {
		t.Fatalf("public scopes %v", public.Names())
	}
}
