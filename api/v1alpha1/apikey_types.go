package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIKeyType is the kind of an API key: where it may be used and which scopes it may hold.
// +kubebuilder:validation:Enum=secret;public;scoped
type APIKeyType string

// The API key types and the prefixes of their tokens.
const (
	// KeySecret keys (`qual_sk_`) are for servers.
	KeySecret APIKeyType = "secret"
	// KeyPublic keys (`qual_pk_`) are for browsers and may only read and start interviews.
	KeyPublic APIKeyType = "public"
	// KeyScoped keys (`qual_scope_`) carry an explicit list of scopes.
	KeyScoped APIKeyType = "scoped"
)

// Scope is a permission an API key carries.
// +kubebuilder:validation:Enum=campaigns:read;campaigns:write;campaigns:delete;campaigns:publish;interviews:read;interviews:write;findings:read;findings:write;graph:read;graph:share;teams:read;teams:write;webhooks:manage;admin:read
type Scope string

// APIKeyCredential is a key minted outside the cluster: only its digest and display parts.
type APIKeyCredential struct {
	// hashRef is the SHA-256 digest of the key as `sha256:` plus 64 lowercase hex digits.
	// +required
	// +kubebuilder:validation:MinLength=71
	// +kubebuilder:validation:MaxLength=71
	// +kubebuilder:validation:Pattern=`^sha256:[a-f0-9]{64}$`
	HashRef string `json:"hashRef"`

	// prefix is the key's first 12 characters, shown to tell keys apart.
	// +required
	// +kubebuilder:validation:MinLength=12
	// +kubebuilder:validation:MaxLength=12
	// +kubebuilder:validation:Pattern=`^qual_(sk|pk|scope)_`
	Prefix string `json:"prefix"`

	// lastFour is the key's last four characters.
	// +required
	// +kubebuilder:validation:MinLength=4
	// +kubebuilder:validation:MaxLength=4
	LastFour string `json:"lastFour"`
}

// APIKeySpec is the desired state of an APIKey.
// +kubebuilder:validation:XValidation:rule="self.type != 'scoped' || (has(self.scopes) && size(self.scopes) > 0)",message="a scoped key must list its scopes",fieldPath=".scopes"
// +kubebuilder:validation:XValidation:rule="self.type != 'public' || !has(self.scopes) || self.scopes.all(s, s.endsWith(':read') || s == 'interviews:write')",message="a public key may only hold read scopes and interviews:write",fieldPath=".scopes"
// +kubebuilder:validation:XValidation:rule="self.type != 'public' || (has(self.scopes) && size(self.scopes) > 0) || (has(self.revoked) && self.revoked)",message="a public key must list its scopes: read scopes and interviews:write",fieldPath=".scopes"
// +kubebuilder:validation:XValidation:rule="self.type == 'public' || !has(self.allowedOrigins)",message="allowedOrigins is only for public keys",fieldPath=".allowedOrigins"
// +kubebuilder:validation:XValidation:rule="self.type == oldSelf.type",message="type cannot be changed",fieldPath=".type"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.credential) || (has(self.credential) && self.credential == oldSelf.credential)",message="credential cannot be changed",fieldPath=".credential"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.credential) || !has(self.credential)",message="credential can only be set at creation",fieldPath=".credential"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.revoked) || !oldSelf.revoked || (has(self.revoked) && self.revoked)",message="a revoked key stays revoked",fieldPath=".revoked"
// +kubebuilder:validation:XValidation:rule="has(self.owner) == has(oldSelf.owner) && (!has(self.owner) || self.owner == oldSelf.owner)",message="owner cannot be added, removed or changed after creation",fieldPath=".owner"
type APIKeySpec struct {
	// type is secret (`qual_sk_`, for servers), public (`qual_pk_`, for browsers) or scoped
	// (`qual_scope_`, explicit scopes).
	// +required
	Type APIKeyType `json:"type"`

	// displayName is the key's human-readable name. When given, something in it must show: a
	// name of only white space or format characters (such as U+200B) would list as a blank row.
	// +optional
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || self.matches(r'[^\\s\\p{Z}\\x{0B}\\x{85}\\x{AD}\\x{34F}\\x{61C}\\x{115F}\\x{1160}\\x{17B4}\\x{17B5}\\x{180B}-\\x{180F}\\x{200B}-\\x{200F}\\x{2028}-\\x{202F}\\x{2060}-\\x{206F}\\x{2800}\\x{3164}\\x{FE00}-\\x{FE0F}\\x{FEFF}\\x{FFA0}\\x{FFF0}-\\x{FFFB}\\x{13430}-\\x{1343F}\\x{1BCA0}-\\x{1BCA3}\\x{1D173}-\\x{1D17A}\\x{E0000}-\\x{E0FFF}]')",message="displayName must not be blank"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'[\\x{202A}-\\x{202E}\\x{2066}-\\x{2069}]')",message="displayName must not hold direction overrides, embeddings or isolates (U+202A to U+202E, U+2066 to U+2069)"
	DisplayName string `json:"displayName,omitempty"`

	// scopes are what the key may do. A secret key without scopes may do everything but
	// admin:read; a public key lists its scopes, only read scopes and interviews:write (one
	// made without any before this was checked may still be revoked).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=14
	Scopes []Scope `json:"scopes,omitempty"`

	// expiresAt is when the key stops working; empty means never.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// owner is the user ID or e-mail of the person the key acts for. It is set at creation
	// and cannot be added, removed or changed later, so a key never moves to another person;
	// the annotation qual.cx/created-by records who actually created the object. When an
	// owner or admin leaves the team, the keys either one names them in are revoked.
	// +optional
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	Owner string `json:"owner,omitempty"`

	// allowedOrigins are the browser origins CORS answers for a public key; empty means any.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^https?://[^/\s?#]+$`
	AllowedOrigins []string `json:"allowedOrigins,omitempty"`

	// revoked, once true, disables the key for good.
	// +optional
	Revoked bool `json:"revoked,omitempty"`

	// credential is set by a client that minted the key itself (the REST API does, to hand
	// the plaintext to its caller). When omitted the controller mints a key and writes the
	// plaintext once into a Secret owned by this object. It cannot be added or changed later.
	// +optional
	Credential *APIKeyCredential `json:"credential,omitempty"`
}

// APIKeyStatus is the observed state of an APIKey. It never holds the plaintext.
type APIKeyStatus struct {
	// hashRef is the SHA-256 digest of the key as `sha256:` plus 64 lowercase hex digits.
	// +optional
	// +kubebuilder:validation:MaxLength=71
	HashRef string `json:"hashRef,omitempty"`

	// prefix is the key's first 12 characters.
	// +optional
	// +kubebuilder:validation:MaxLength=12
	Prefix string `json:"prefix,omitempty"`

	// lastFour is the key's last four characters.
	// +optional
	// +kubebuilder:validation:MaxLength=4
	LastFour string `json:"lastFour,omitempty"`

	// secretRef names the Secret that holds the plaintext of a key the controller minted.
	// +optional
	SecretRef *LocalSecretReference `json:"secretRef,omitempty"`

	// lastUsedAt is when the key last authenticated a request, to the minute.
	// +optional
	LastUsedAt *metav1.Time `json:"lastUsedAt,omitempty"`

	// revokedAt is when the key was revoked.
	// +optional
	RevokedAt *metav1.Time `json:"revokedAt,omitempty"`

	// observedGeneration is the metadata.generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the key's state: Ready, Expired and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ConditionExpired is True on an APIKey whose expiresAt has passed.
const ConditionExpired = "Expired"

// ConditionCredentialConflict is True on an APIKey whose spec.credential names the hash of an
// older key. It never clears: such a key never authenticates, even once the older key is gone,
// so copying a hash (which whoever reads a team's keys sees) reaches nobody's key.
const ConditionCredentialConflict = "CredentialConflict"

// The Expires column is a string, the RFC 3339 time: kubectl prints a date column as an age,
// and shows a time in the future as <invalid>.

// APIKey is a credential for the REST API, scoped to its namespace's team.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=qkey,categories=qual
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name: at most 63 characters: it is the label value of the key Secret made for it"
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Prefix",type=string,JSONPath=`.status.prefix`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.spec.expiresAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type APIKey struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the key.
	// +required
	Spec APIKeySpec `json:"spec"`

	// status is the observed state of the key.
	// +optional
	Status APIKeyStatus `json:"status,omitempty"`
}

// APIKeyList is a list of APIKeys.
// +kubebuilder:object:root=true
type APIKeyList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's standard metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the keys.
	Items []APIKey `json:"items"`
}
