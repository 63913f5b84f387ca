package controllers

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// accessLevel is one Role a team's namespace gets, and the member roles bound to it.
type accessLevel struct {
	name  string
	roles []qualv1alpha1.TeamRole
	rules []rbacv1.PolicyRule
}

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"get", "list", "watch", "create", "update", "patch"}
	allVerbs   = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
)

// accessLevels map member roles to what they may do with the team's qual.cx objects:
// owners and admins everything, members read and write campaigns, viewers read.
var accessLevels = []accessLevel{
	{
		name:  "qual-team-admin",
		roles: []qualv1alpha1.TeamRole{qualv1alpha1.RoleOwner, qualv1alpha1.RoleAdmin},
		rules: []rbacv1.PolicyRule{
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns", "webhooks", "apikeys"}, Verbs: allVerbs},
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns/status", "webhooks/status", "apikeys/status"}, Verbs: readVerbs},
			// The plaintext of a key minted for kubectl users lives in a Secret.
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: readVerbs},
		},
	},
	{
		name:  "qual-team-member",
		roles: []qualv1alpha1.TeamRole{qualv1alpha1.RoleMember},
		rules: []rbacv1.PolicyRule{
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns"}, Verbs: writeVerbs},
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns/status"}, Verbs: readVerbs},
		},
	},
	{
		name:  "qual-team-viewer",
		roles: []qualv1alpha1.TeamRole{qualv1alpha1.RoleViewer},
		rules: []rbacv1.PolicyRule{
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns", "webhooks", "apikeys"}, Verbs: readVerbs},
		},
	},
}

// subjectsFor returns the RBAC users of the members holding one of roles: each member by
// e-mail, and by user ID too once known, so either identity an authenticator reports works.
func subjectsFor(members []qualv1alpha1.TeamMember, roles []qualv1alpha1.TeamRole) []rbacv1.Subject {
	var subjects []rbacv1.Subject
	for _, m := range members {
		if !slices.Contains(roles, m.Role) {
			continue
		}
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: m.Email})
		if m.UserID != "" {
			subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: m.UserID})
		}
	}
	return subjects
}
