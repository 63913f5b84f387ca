package apiserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/envelope"
)

// A request that holds an Idempotency-Key's claim stamps the Kubernetes object it creates with
// the claim (qualv1alpha1.AnnotationIdempotencyClaim): an API key (made, or a rotation's
// successor), a webhook, a campaign or a team. A repeat that runs after the claim's lease ran
// out (its process died between the create and recording the answer) finds that object and
// answers it as a replay, rather than make a second one: a second API key whose first nobody
// saw the plaintext of, a second webhook delivering to the same URL, a second draft campaign,
// or a second team that counts against the user's teams. Each handler looks only among the
// objects of the place it would create in (the acting team's or rotated key's namespace, the
// caller's own teams), and the admission policy qual-idempotency-claim lets only the REST API
// write the stamp, so no one can plant an object as another request's answer. A rotation also
// marks the key it revokes with its claim (markRevokedByClaim), so a repeat whose first run
// died between that revocation and the mint can finish the rotation.

// heldClaim is the Idempotency-Key claim a request runs under.
type heldClaim struct {
	stamp    string   // what the objects the request makes are annotated with
	withheld []string // the answer's fields a replay shows as null
}

type heldClaimKey struct{}

// claimStamp identifies a claim: the caller's records, the key and the request's fingerprint,
// so only the same request by the same caller finds what it made.
func claimStamp(records, key string, sum []byte) string {
	h := sha256.New()
	_, _ = io.WriteString(h, records+"\n"+key+"\n")
	_, _ = h.Write(sum)
	return hex.EncodeToString(h.Sum(nil))
}

func withClaim(r *http.Request, c heldClaim) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), heldClaimKey{}, c))
}

func claimOf(ctx context.Context) (heldClaim, bool) {
	c, ok := ctx.Value(heldClaimKey{}).(heldClaim)
	return c, ok
}

// stampClaim annotates an object the request is about to create with its claim, if it has one.
func stampClaim(ctx context.Context, obj metav1.Object) {
	annotateClaim(ctx, obj, qualv1alpha1.AnnotationIdempotencyClaim)
}

// markRevokedByClaim annotates the write that revokes a key the request rotates with its claim,
// if it has one: should the request die before it mints the successor, its repeat finds the
// key revoked by its own claim (revokedByClaim) and mints it, where any other request finds a
// revoked key and is refused. The admission policy qual-apikey-revoked-by-claim lets only the
// REST API write the mark, and only in the write that revokes the key.
func markRevokedByClaim(ctx context.Context, obj metav1.Object) {
	annotateClaim(ctx, obj, qualv1alpha1.AnnotationRevokedByClaim)
}

// revokedByClaim reports whether an earlier run of this request revoked key (see
// markRevokedByClaim). A request with no claim revoked nothing as one.
func revokedByClaim(ctx context.Context, key *qualv1alpha1.APIKey) bool {
	c, ok := claimOf(ctx)
	return ok && key.Spec.Revoked && key.Annotations[qualv1alpha1.AnnotationRevokedByClaim] == c.stamp
}

// annotateClaim sets the annotation to the request's claim, if it has one.
func annotateClaim(ctx context.Context, obj metav1.Object, annotation string) {
	c, ok := claimOf(ctx)
	if !ok {
		return
	}
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[annotation] = c.stamp
	obj.SetAnnotations(a)
}

// madeByClaim returns the item of items whose object (meta) an earlier run of this request
// made under its claim and died before answering: answered as a replay, so no second object
// is made beside it. A request with no claim looks at nothing.
func madeByClaim[T any](ctx context.Context, items []T, meta func(T) metav1.Object) (T, bool) {
	var none T
	c, ok := claimOf(ctx)
	if !ok {
		return none, false
	}
	for _, it := range items {
		if meta(it).GetAnnotations()[qualv1alpha1.AnnotationIdempotencyClaim] == c.stamp {
			return it, true
		}
	}
	return none, false
}

// answerFound answers a request with what an earlier run of it made, as a replay: marked
// Idempotent-Replayed, its shown-once secrets null (they were made then, and are never kept).
func answerFound(w http.ResponseWriter, r *http.Request, status int, data any) error {
	c, _ := claimOf(r.Context())
	body, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		return err
	}
	w.Header().Set("Idempotent-Replayed", "true")
	envelope.WriteBody(w, status, append(withhold(body, c.withheld), '\n'))
	return nil
}

// markAddedByClaim records, on next (a Team about to be written over base), the request's
// claim as what added each member next holds and base does not, and keeps the claims only of
// members both hold (qualv1alpha1.AnnotationMemberClaims): the record is as large as the
// team's member list at most, and a member removed and added again by another request is not
// taken for the earlier add's. That holds for a removal made with kubectl too, which leaves
// its member's entry behind (the Team controller, which sees it, may not change the record:
// see config/admission/team_member_claims.yaml): base, the Team as read, no longer has the
// member, so the entry goes with this write instead of passing to whoever adds them again.
func markAddedByClaim(ctx context.Context, base, next *qualv1alpha1.Team) {
	was := memberClaims(base)
	claims := map[string]string{}
	c, held := claimOf(ctx)
	for _, m := range next.Spec.Members {
		email := qualv1alpha1.EmailKey(m.Email)
		present := memberIndex(base.Spec.Members, m.Email) >= 0
		switch {
		case !present && held:
			claims[email] = c.stamp
		case present && was[email] != "":
			claims[email] = was[email]
		}
	}
	a := next.GetAnnotations()
	if len(claims) == 0 {
		delete(a, qualv1alpha1.AnnotationMemberClaims)
		return
	}
	record, err := json.Marshal(claims)
	if err != nil {
		return // a map of strings always marshals
	}
	if a == nil {
		a = map[string]string{}
	}
	a[qualv1alpha1.AnnotationMemberClaims] = string(record)
	next.SetAnnotations(a)
}

// memberClaims reads which request's claim added each member (markAddedByClaim). A record
// that does not read, written by hand, marks no member as added by any request.
func memberClaims(team *qualv1alpha1.Team) map[string]string {
	claims := map[string]string{}
	if json.Unmarshal([]byte(team.Annotations[qualv1alpha1.AnnotationMemberClaims]), &claims) != nil {
		return map[string]string{}
	}
	return claims
}

// memberAddedByClaim returns the member with email when an earlier run of this request added
// them under its claim and died before its answer was recorded, and they still have the role
// the request asks for: the add is done, and answered as a replay rather than as a conflict
// with itself. A member with another role now, or added by another request (or by kubectl),
// is not this request's answer: that stays a conflict. A request with no claim finds nothing.
func memberAddedByClaim(ctx context.Context, team *qualv1alpha1.Team, email string, role qualv1alpha1.TeamRole) (qualv1alpha1.TeamMember, bool) {
	c, ok := claimOf(ctx)
	i := memberIndex(team.Spec.Members, email)
	if !ok || i < 0 || team.Spec.Members[i].Role != role || memberClaims(team)[qualv1alpha1.EmailKey(email)] != c.stamp {
		return qualv1alpha1.TeamMember{}, false
	}
	return team.Spec.Members[i], true
}
