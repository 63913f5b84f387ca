package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Field managers of the operator's writes, so `kubectl get --show-managed-fields` tells them
// apart from users' and the REST API can tell a spec change from the controllers' own writes.
const (
	// ControllerFieldManager owns what the controllers write: finalizers, children, status.
	ControllerFieldManager = "qual-manager"
	// APIServerFieldManager owns what the REST API writes.
	APIServerFieldManager = "qual-apiserver"
)

// Labels the operator reads and writes on Kubernetes objects.
const (
	// LabelManagedBy marks objects the operator created; its cache watches only these.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is LabelManagedBy's value on the operator's objects.
	ManagedByValue = "qual-operator"
	// LabelTeam on a namespace names the Team that owns it. A namespace labelled for a team
	// before the team exists is adopted by it; one labelled for another team never is.
	LabelTeam = "qual.cx/team"
	// LabelTeamUID on a namespace holds its Team's UID: the team's id in the REST API and in
	// the store. It outlives the Team while the namespace terminates, so the finalizers of
	// the objects inside can still find their team's rows.
	LabelTeamUID = "qual.cx/team-uid"
)

// ServingTeam returns the UID of the team whose data a namespace serves: its LabelTeamUID,
// or "" when it has none or is being deleted. Deleting a team deletes its namespace, which may
// stay Terminating for long (its objects' finalizers, or no namespace controller in `qual
// dev`), and nothing may serve the team's data from it meanwhile: readers that answer for a
// team (the REST directory, the aggregated API) use this. The finalizers of the objects inside
// read the label itself, as they must still find their team's rows to erase them.
func ServingTeam(ns metav1.Object) string {
	if !ns.GetDeletionTimestamp().IsZero() {
		return ""
	}
	return ns.GetLabels()[LabelTeamUID]
}

// SystemNamespace is the operator's own namespace. Tenants cannot write there, so it is the
// only namespace where an APIKey may hold admin:read (an admission policy enforces it).
const SystemNamespace = "qual-system"

// Annotations the operator's admission policies write and protect.
const (
	// AnnotationCreatedBy on an APIKey or Webhook is the Kubernetes user who created it, set
	// by an admission policy on create (whatever the client sent) and refused on any later
	// change. It names who may read the plaintext Secret made for one made with kubectl.
	AnnotationCreatedBy = "qual.cx/created-by"
	// AnnotationMintedBy on an APIKey the REST API minted for a request made with another key
	// is that key's UID: when a departing manager's keys are revoked, so are the keys they
	// minted. Admission policies let only the REST API (its service account, or a cluster
	// admin) set it on create, and refuse any change to it after.
	AnnotationMintedBy = "qual.cx/minted-by"
	// AnnotationIdempotencyClaim on an APIKey (made or a rotation's successor), Webhook,
	// Campaign or Team the REST API created for a request with an Idempotency-Key is a hash of
	// that request's claim: a repeat whose first run died before recording its answer finds the
	// object by it, and answers it rather than make a second one. Admission policies let only the REST API set it on create, and refuse any
	// change to it after, so no one can plant an object as another request's answer.
	AnnotationIdempotencyClaim = "qual.cx/idempotency-claim"
	// AnnotationRevokedByClaim on an APIKey a REST rotation revoked under an Idempotency-Key
	// is that request's claim, written in the same apply as spec.revoked: a repeat whose first
	// run died between revoking the key and minting its successor finds its own claim there,
	// and mints the successor rather than refuse the revoked key. Admission policies let only
	// the REST API set it, in the write that revokes the key, and refuse any change to it
	// after, so no one can make a revoked key rotatable.
	AnnotationRevokedByClaim = "qual.cx/revoked-by-claim"
	// AnnotationMemberClaims on a Team maps each member the REST API added under an
	// Idempotency-Key (by e-mail, as EmailKey spells it) to that request's claim, as JSON: a
	// repeat whose first run died after the member landed and before its answer was recorded
	// finds its own claim there, and answers the add as a replay instead of "already a
	// member". The REST API keeps it to the members the team has. An admission policy lets
	// only the REST API add or change it, so an account granted Team writes cannot make a
	// member it added read as a request's add; removing it is allowed, as it only makes the
	// repeat a 409.
	AnnotationMemberClaims = "qual.cx/member-claims"
)
