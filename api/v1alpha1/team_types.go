package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TeamRole is a member's role in a team.
// +kubebuilder:validation:Enum=owner;admin;member;viewer
type TeamRole string

// The roles of a team member, from most to least privileged.
const (
	RoleOwner  TeamRole = "owner"
	RoleAdmin  TeamRole = "admin"
	RoleMember TeamRole = "member"
	RoleViewer TeamRole = "viewer"
)

// TeamMember is one person in a team, known by e-mail and, once they have signed in, user ID.
type TeamMember struct {
	// userID is the member's user ID: the `sub` claim of their session token. It is bound
	// in the team's RoleBindings as a Kubernetes user, so it cannot name one of Kubernetes'
	// own identities (`system:…`, such as system:anonymous).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('system:')",message="a user ID cannot name a Kubernetes identity (system:...)"
	UserID string `json:"userID,omitempty"`

	// email is the member's e-mail address: the `email` claim of their session token.
	// It identifies the member in the list: one `@` between two parts with no space of any
	// kind, control or format character (a zero-width space or a direction override would
	// make the list show another address than the one that matches).
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[^@\p{Cc}\p{Cf}\p{Z}]+@[^@\p{Cc}\p{Cf}\p{Z}]+$`
	Email string `json:"email"`

	// role is what the member may do: owner and admin manage everything, member reads and
	// writes campaigns, viewer only reads.
	// +required
	Role TeamRole `json:"role"`

	// addedAt is when the member joined the team.
	// +optional
	AddedAt *metav1.Time `json:"addedAt,omitempty"`
}

// TeamMembership is since when an e-mail has been in a team's members, as the controller saw
// it.
type TeamMembership struct {
	// email is the member's e-mail, as spec.members spells it.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=254
	Email string `json:"email"`

	// since is the team's metadata.generation when the controller first saw the e-mail in
	// spec.members after it was last absent.
	// +required
	// +kubebuilder:validation:Minimum=1
	Since int64 `json:"since"`
}

// TeamSpec is the desired state of a Team.
// +kubebuilder:validation:XValidation:rule="!has(self.members) || size(self.members) == 0 || self.members.exists(m, m.role == 'owner')",message="members must include at least one owner",fieldPath=".members"
// +kubebuilder:validation:XValidation:rule="has(self.namespace) || !has(oldSelf.namespace)",message="namespace cannot be removed once set",fieldPath=".namespace"
type TeamSpec struct {
	// displayName is the team's human-readable name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	// +kubebuilder:validation:XValidation:rule="self.matches(r'[^\\s\\p{Z}\\x{0B}\\x{85}\\x{AD}\\x{34F}\\x{61C}\\x{115F}\\x{1160}\\x{17B4}\\x{17B5}\\x{180B}-\\x{180F}\\x{200B}-\\x{200F}\\x{2028}-\\x{202F}\\x{2060}-\\x{206F}\\x{2800}\\x{3164}\\x{FE00}-\\x{FE0F}\\x{FEFF}\\x{FFA0}\\x{FFF0}-\\x{FFFB}\\x{13430}-\\x{1343F}\\x{1BCA0}-\\x{1BCA3}\\x{1D173}-\\x{1D17A}\\x{E0000}-\\x{E0FFF}]')",message="displayName must not be blank"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'[\\x{202A}-\\x{202E}\\x{2066}-\\x{2069}]')",message="displayName must not hold direction overrides, embeddings or isolates (U+202A to U+202E, U+2066 to U+2069)"
	DisplayName string `json:"displayName"`

	// plan is the team's plan; it sets the team's rate limits.
	// +optional
	// +kubebuilder:default=starter
	Plan Plan `json:"plan,omitempty"`

	// members are the people in the team and their roles, one entry per e-mail.
	// +optional
	// +listType=map
	// +listMapKey=email
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:XValidation:rule="self.all(a, !has(a.userID) || self.exists_one(b, has(b.userID) && b.userID == a.userID))",message="member userIDs must be unique"
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.exists_one(b, b.email.lowerAscii() == a.email.lowerAscii()))",message="member e-mails must be unique ignoring letter case: a session's e-mail matches either"
	Members []TeamMember `json:"members,omitempty"`

	// namespace is the namespace the team owns; it defaults to `team-<name>` and cannot change once set.
	// It cannot be `default` or start with `kube-`: a team's members get RBAC in its namespace.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="namespace cannot be changed once set"
	// +kubebuilder:validation:XValidation:rule="self != 'default' && !self.startsWith('kube-')",message="namespace cannot be default or start with kube-: those are the cluster's own"
	Namespace string `json:"namespace,omitempty"`
}

// TeamStatus is the observed state of a Team.
type TeamStatus struct {
	// namespace is the namespace the team owns, once the controller has claimed it.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// memberCount is the number of members in spec.members.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MemberCount int32 `json:"memberCount,omitempty"`

	// observedMembers are the e-mails of spec.members the controller last announced: it diffs
	// spec.members against them to tell who joined and who left.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=254
	ObservedMembers []string `json:"observedMembers,omitempty"`

	// memberships say since when each e-mail of spec.members and observedMembers has been a
	// member: the generation at which the controller first saw it in spec.members after it
	// was last absent. That generation names the membership's team.member_added and
	// team.member_removed events (their ids derive from it), so it is recorded, onto the Team
	// as read, before either is written: every pass announcing a change, whatever generation
	// it reads, writes the same id, and a member who leaves and comes back is a new one.
	// +optional
	// +listType=map
	// +listMapKey=email
	// +kubebuilder:validation:MaxItems=200
	Memberships []TeamMembership `json:"memberships,omitempty"`

	// observedManagers are the e-mails (in lower case) and user IDs of the owners and admins
	// the controller last saw. An API key whose spec.owner is among them and no longer names
	// an owner or admin is revoked: a key acts for its owner and may mint keys, a power that
	// must not outlive the owner's place in the team however the members were edited.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=200
	// +kubebuilder:validation:items:MaxLength=254
	ObservedManagers []string `json:"observedManagers,omitempty"`

	// observedGeneration is the metadata.generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the team's state: Ready, Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Team is a tenant: it owns one namespace, its members map to RBAC there, and its plan sets
// its rate limits.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name: a team's name is at most 63 characters: it is the label value of its namespace"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.spec.namespace) || !has(self.spec.namespace) || self.spec.namespace == 'team-' + self.metadata.name",message="namespace is set at creation: added later, it can only name the team-<name> the team already owns",fieldPath=".spec.namespace"
// +kubebuilder:validation:XValidation:rule="has(self.spec.namespace) || size(self.metadata.name) <= 58",message="a team whose name is over 58 characters must set spec.namespace",fieldPath=".spec.namespace"
// +kubebuilder:validation:XValidation:rule="has(self.spec.namespace) || self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="a team whose name is not a DNS label (a dot in it) must set spec.namespace: team-<name> must be one",fieldPath=".spec.namespace"
// +kubebuilder:resource:scope=Cluster,shortName=qteam,categories=qual
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.spec.plan`
// +kubebuilder:printcolumn:name="Team Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.memberCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Team struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the team.
	// +required
	Spec TeamSpec `json:"spec"`

	// status is the observed state of the team.
	// +optional
	Status TeamStatus `json:"status,omitempty"`
}

// TeamList is a list of Teams.
// +kubebuilder:object:root=true
type TeamList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's standard metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the teams.
	Items []Team `json:"items"`
}
