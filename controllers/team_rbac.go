package controllers

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
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
	// storeVerbs are what the aggregated data.qual.cx API serves: it is read-only and has no
	// watch.
	storeVerbs = []string{"get", "list"}
)

// The manager may grant only what it holds (see team_controller.go), so it holds storeRead.
// +kubebuilder:rbac:groups=data.qual.cx,resources=interviews;messages;findings;analyses,verbs=get;list

// storeRead lets a role read the store's rows through the aggregated API. Every role gets it:
// in the REST API every member, viewers included, holds interviews:read and findings:read
// (sessions skip scope checks; only writes check roles).
var storeRead = rbacv1.PolicyRule{
	APIGroups: []string{datav1alpha1.GroupName},
	Resources: []string{"interviews", "messages", "findings", "analyses"},
	Verbs:     storeVerbs,
}

// The manager may grant only what it holds, so it holds eventsRead too. (One marker holds
// every verb on events, here and for recording them: controller-gen keeps only one of two
// rules on the same groups and resources.)
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=get;list;watch;create;patch

// eventsRead lets a role read the Events the controllers write in the team namespace (a key
// minted or revoked, a webhook's URL refused or its signing secret replaced, a campaign
// published). RBAC cannot scope Events by the object they are about, so only the roles that
// read every object they concern get it: owners and admins. A member or viewer would read the
// Events of webhooks (whose refusals quote the URL, often a credential itself) and of keys.
var eventsRead = rbacv1.PolicyRule{
	APIGroups: []string{"", "events.k8s.io"},
	Resources: []string{"events"},
	Verbs:     readVerbs,
}

// accessLevels map member roles to what they may do with the team's qual.cx objects:
// owners and admins everything, members read and write campaigns, viewers read campaigns.
// Webhooks and API keys are the managers' alone, as in REST: a webhook's URL is often a
// credential itself, and a key's object names its owner and scopes. No level reads Secrets:
// each plaintext Secret is readable by the one person it was made for (secret_readers.go).
var accessLevels = []accessLevel{
	{
		name:  "qual-team-admin",
		roles: []qualv1alpha1.TeamRole{qualv1alpha1.RoleOwner, qualv1alpha1.RoleAdmin},
		rules: []rbacv1.PolicyRule{
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns", "webhooks", "apikeys"}, Verbs: allVerbs},
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns/status", "webhooks/status", "apikeys/status"}, Verbs: readVerbs},
			eventsRead,
			storeRead,
		},
	},
	{
		name:  "qual-team-member",
		roles: []qualv1alpha1.TeamRole{qualv1alpha1.RoleMember},
		rules: []rbacv1.PolicyRule{
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns"}, Verbs: writeVerbs},
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns/status"}, Verbs: readVerbs},
			storeRead,
		},
	},
	{
		name:  "qual-team-viewer",
		roles: []qualv1alpha1.TeamRole{qualv1alpha1.RoleViewer},
		rules: []rbacv1.PolicyRule{
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns"}, Verbs: readVerbs},
			{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"campaigns/status"}, Verbs: readVerbs},
			storeRead,
		},
	},
}

// serviceBinding grants one of the operator's service accounts, in the operator's namespace,
// a ClusterRole inside a team namespace only, never cluster-wide: it reaches the team's
// Secrets one namespace at a time and never the operator's own.
type serviceBinding struct {
	clusterRole, serviceAccount string
}

// serviceBindings are the operator's grants in every team namespace, each a RoleBinding
// named after its ClusterRole: the dispatcher reads the signing Secret a Webhook names, and
// the apiserver writes the signing Secrets of webhooks made or rotated through REST.
var serviceBindings = []serviceBinding{
	{clusterRole: "qual-dispatcher-team-secrets", serviceAccount: "qual-dispatcher"},
	{clusterRole: "qual-apiserver-team-secrets", serviceAccount: "qual-apiserver"},
}

// bindingNames are the names of every RoleBinding the Team controller writes into a team
// namespace.
func bindingNames() []string {
	names := make([]string, 0, len(accessLevels)+len(serviceBindings))
	for _, level := range accessLevels {
		names = append(names, level.name)
	}
	for _, b := range serviceBindings {
		names = append(names, b.clusterRole)
	}
	return names
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
