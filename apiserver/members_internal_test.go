package apiserver

import (
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
)

// A member change is decided against the list it is written over, not the caller's cached
// role: two owners removing each other at once, the second write finds its caller gone.
func TestAMemberChangeRechecksTheCaller(t *testing.T) {
	ann := &authn.Principal{Kind: authn.KindSession, UserID: "u-ann", Email: "ann@example.com"}
	list := func(role qualv1alpha1.TeamRole) []qualv1alpha1.TeamMember {
		return []qualv1alpha1.TeamMember{{Email: "bo@example.com", UserID: "u-bo", Role: qualv1alpha1.RoleOwner},
			{Email: "ann@example.com", UserID: "u-ann", Role: role}}
	}
	for _, c := range []struct {
		name    string
		ms      []qualv1alpha1.TeamMember
		touched qualv1alpha1.TeamRole
		want    envelope.Code // "" for allowed
	}{
		{"an owner", list(qualv1alpha1.RoleOwner), qualv1alpha1.RoleOwner, ""},
		{"removed meanwhile", list(qualv1alpha1.RoleOwner)[:1], qualv1alpha1.RoleMember, envelope.CodeNotFound},
		{"demoted to viewer meanwhile", list(qualv1alpha1.RoleViewer), qualv1alpha1.RoleMember, envelope.CodeForbidden},
		{"demoted to admin, touching an owner", list(qualv1alpha1.RoleAdmin), qualv1alpha1.RoleOwner, envelope.CodeForbidden},
		{"an admin touching a member", list(qualv1alpha1.RoleAdmin), qualv1alpha1.RoleMember, ""},
		{"an e-mail bound to another user", []qualv1alpha1.TeamMember{{Email: "ann@example.com", UserID: "u-other", Role: qualv1alpha1.RoleOwner}},
			qualv1alpha1.RoleMember, envelope.CodeNotFound},
	} {
		e := stillManages(ann, c.ms, c.touched)
		switch {
		case c.want == "" && e != nil:
			t.Errorf("%s: refused: %v", c.name, e)
		case c.want != "" && (e == nil || e.Code != c.want):
			t.Errorf("%s: %v, want %s", c.name, e, c.want)
		}
	}
	if e := stillManages(&authn.Principal{Kind: authn.KindAPIKey}, nil, qualv1alpha1.RoleMember); e != nil {
		t.Errorf("a key: %v (its power ends with its revocation)", e)
	}
}
