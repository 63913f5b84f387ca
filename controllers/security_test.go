package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// The tests here check that no caller gains a scope, a role, a team or a secret it was not
// given, as a team admin would try it: impersonated, with what the Team controller's
// RoleBindings grant, against the admission policies testenv installs from config/admission.

// adminTeam makes a Ready team whose admin is admin@<name>.example, and returns it with a
// client acting as that admin.
func adminTeam(t *testing.T, prefix string) (*qualv1alpha1.Team, client.Client, string) {
	t.Helper()
	name := uniqueName(prefix)
	admin := "admin@" + name + ".example"
	team := readyTeam(t, newTeam(name, member("owner@"+name+".example", qualv1alpha1.RoleOwner), member(admin, qualv1alpha1.RoleAdmin)))
	return team, clientAs(t, admin), admin
}

func keyIn(ns, name string, typ qualv1alpha1.APIKeyType, scopes ...qualv1alpha1.Scope) *qualv1alpha1.APIKey {
	key := newKey(name, typ, scopes...)
	key.Namespace = ns
	return key
}

// refusedBy fails unless err is a refusal whose message holds want.
func refusedBy(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s was allowed", what)
	case !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err):
		t.Errorf("%s: want 403 or 422, got %v", what, err)
	case !strings.Contains(err.Error(), want):
		t.Errorf("%s: refusal %q does not say %q", what, err, want)
	}
}

// updateKey writes mutate's change to the newest copy of key as c (see updateAs).
func updateKey(ctx context.Context, c client.Client, key *qualv1alpha1.APIKey, mutate func(*qualv1alpha1.APIKey)) error {
	return updateAs(ctx, c, key, mutate)
}

// updateAs writes mutate's change to the newest copy of obj as c, again while the write
// loses a race with a controller (a 409), so the answer judged is the admission's.
func updateAs[T any, PT interface {
	*T
	client.Object
}](ctx context.Context, c client.Client, obj PT, mutate func(PT)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		fresh := PT(new(T))
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
			return err
		}
		mutate(fresh)
		return c.Update(ctx, fresh)
	})
}

// whoAmI is the user name the API server sees for the suite's admin client.
func whoAmI(t *testing.T) string {
	t.Helper()
	review := &authenticationv1.SelfSubjectReview{}
	if err := k8s.Create(context.Background(), review); err != nil {
		t.Fatal(err)
	}
	return review.Status.UserInfo.Username
}

func TestTeamAdminCannotMintPlatformAdminKeys(t *testing.T) {
	ctx := context.Background()
	team, asAdmin, _ := adminTeam(t, "minter")
	ns := team.Status.Namespace
	const wantMsg = "admin:read scope only in the qual-system namespace"

	// The team admin may create keys here: what follows is refused by the policy, not RBAC.
	ordinary := keyIn(ns, "ordinary", qualv1alpha1.KeyScoped, "campaigns:read")
	if err := asAdmin.Create(ctx, ordinary); err != nil {
		t.Fatalf("a team admin cannot create an ordinary key in its namespace: %v", err)
	}
	for _, key := range []*qualv1alpha1.APIKey{
		keyIn(ns, "scoped-admin", qualv1alpha1.KeyScoped, "campaigns:read", "admin:read"),
		keyIn(ns, "secret-admin", qualv1alpha1.KeySecret, "admin:read"),
		// A public key may hold read scopes, and admin:read ends in :read.
		keyIn(ns, "public-admin", qualv1alpha1.KeyPublic, "admin:read"),
	} {
		refusedBy(t, "team admin creating "+key.Name, asAdmin.Create(ctx, key), wantMsg)
	}
	// Nor can it add the scope to a key it has.
	patch := client.MergeFrom(ordinary.DeepCopy())
	ordinary.Spec.Scopes = append(ordinary.Spec.Scopes, "admin:read")
	refusedBy(t, "team admin adding admin:read", asAdmin.Patch(ctx, ordinary, patch), wantMsg)
	// Not even in the write that revokes it: only a key that held it may be revoked holding it.
	ordinary.Spec.Revoked = true
	refusedBy(t, "team admin adding admin:read while revoking", asAdmin.Patch(ctx, ordinary, patch), wantMsg)
	// The rule is the namespace's, not the user's: a cluster admin cannot put one there either.
	refusedBy(t, "cluster admin creating an admin key in a team namespace",
		k8s.Create(ctx, keyIn(ns, "by-cluster-admin", qualv1alpha1.KeySecret, "admin:read")), wantMsg)

	// In qual-system, a cluster admin may.
	ensureNamespace(t, qualv1alpha1.SystemNamespace)
	platform := keyIn(qualv1alpha1.SystemNamespace, uniqueName("platform"), qualv1alpha1.KeyScoped, "admin:read")
	if err := k8s.Create(ctx, platform); err != nil {
		t.Fatalf("a cluster admin cannot create an admin:read key in %s: %v", qualv1alpha1.SystemNamespace, err)
	}
	waitKey(t, platform, metav1.ConditionTrue, "Active")
	if got, want := platform.Annotations[qualv1alpha1.AnnotationCreatedBy], whoAmI(t); got != want {
		t.Errorf("created-by of the platform key = %q, want %q", got, want)
	}
	// And the team admin has no way in there at all.
	err := asAdmin.Create(ctx, keyIn(qualv1alpha1.SystemNamespace, uniqueName("sneak"), qualv1alpha1.KeyScoped, "admin:read"))
	if !apierrors.IsForbidden(err) {
		t.Errorf("team admin creating a key in %s: want 403, got %v", qualv1alpha1.SystemNamespace, err)
	}
}

// The REST API answers a repeated create whose first run died with the object stamped with
// that request's claim: a tenant who could stamp one could plant it as another request's
// answer, so only the REST API (its service account, or a cluster admin) stamps, on create.
func TestIdempotencyClaimCannotBeForged(t *testing.T) {
	ctx := context.Background()
	team, asAdmin, admin := adminTeam(t, "claimer")
	const msg = "qual.cx/idempotency-claim is written by the REST API"
	stamp := strings.Repeat("ab", 32)
	planted := keyIn(team.Status.Namespace, "planted", qualv1alpha1.KeyScoped, "campaigns:read")
	planted.Spec.Owner = admin
	planted.Annotations = map[string]string{qualv1alpha1.AnnotationIdempotencyClaim: stamp}
	refusedBy(t, "a tenant creating a key with a claim", asAdmin.Create(ctx, planted.DeepCopy()), msg)
	hook := &qualv1alpha1.Webhook{
		ObjectMeta: metav1.ObjectMeta{Name: "planted", Namespace: team.Status.Namespace,
			Annotations: map[string]string{qualv1alpha1.AnnotationIdempotencyClaim: stamp}},
		Spec: qualv1alpha1.WebhookSpec{URL: "https://hooks.example.com/planted", Events: []qualv1alpha1.WebhookEvent{"*"}},
	}
	refusedBy(t, "a tenant creating a webhook with a claim", asAdmin.Create(ctx, hook), msg)

	odd := planted.DeepCopy()
	odd.Annotations[qualv1alpha1.AnnotationIdempotencyClaim] = "abc"
	refusedBy(t, "a claim that is no hash", k8s.Create(ctx, odd), "holds a SHA-256 in hex")
	if err := k8s.Create(ctx, planted); err != nil { // as the REST API does
		t.Fatal(err)
	}
	refusedBy(t, "changing a claim", updateKey(ctx, asAdmin, planted, func(k *qualv1alpha1.APIKey) {
		k.Annotations[qualv1alpha1.AnnotationIdempotencyClaim] = strings.Repeat("cd", 32)
	}), msg)
	plain := keyIn(team.Status.Namespace, "plain", qualv1alpha1.KeyScoped, "campaigns:read")
	plain.Spec.Owner = admin
	if err := asAdmin.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	refusedBy(t, "adding a claim", updateKey(ctx, asAdmin, plain, func(k *qualv1alpha1.APIKey) {
		k.Annotations[qualv1alpha1.AnnotationIdempotencyClaim] = stamp
	}), msg)
	// Removing one only makes a repeat create anew; other writes keep it.
	if err := updateKey(ctx, asAdmin, planted, func(k *qualv1alpha1.APIKey) { k.Spec.DisplayName = "Renamed" }); err != nil {
		t.Fatalf("renaming a stamped key: %v", err)
	}
	if err := updateKey(ctx, asAdmin, planted, func(k *qualv1alpha1.APIKey) {
		delete(k.Annotations, qualv1alpha1.AnnotationIdempotencyClaim)
	}); err != nil {
		t.Fatalf("removing a claim: %v", err)
	}
}

// A key a REST rotation revoked under an Idempotency-Key names the rotation's claim, so that
// the rotation's repeat after a crash between the revocation and the mint mints the successor.
// A tenant who could write that mark could make a revoked key rotatable again (a key revoked
// for a departed admin, or with a plain revocation), so only the REST API (its service
// account, or a cluster admin) writes it, and only in the write that revokes the key.
func TestRevokedByClaimCannotBeForged(t *testing.T) {
	ctx := context.Background()
	team, asAdmin, admin := adminTeam(t, "revoker")
	const msg = "qual.cx/revoked-by-claim is written by the REST API"
	stamp := strings.Repeat("ab", 32)
	mark := func(k *qualv1alpha1.APIKey) {
		metav1.SetMetaDataAnnotation(&k.ObjectMeta, qualv1alpha1.AnnotationRevokedByClaim, stamp)
	}
	revokeMarked := func(k *qualv1alpha1.APIKey) { k.Spec.Revoked = true; mark(k) }
	ownKey := func(name string) *qualv1alpha1.APIKey {
		t.Helper()
		key := keyIn(team.Status.Namespace, name, qualv1alpha1.KeyScoped, "campaigns:read")
		key.Spec.Owner = admin
		if err := asAdmin.Create(ctx, key); err != nil {
			t.Fatal(err)
		}
		return key
	}

	planted := keyIn(team.Status.Namespace, "planted", qualv1alpha1.KeyScoped, "campaigns:read")
	planted.Spec.Owner, planted.Spec.Revoked = admin, true
	mark(planted)
	refusedBy(t, "a tenant creating a revoked key with the mark", asAdmin.Create(ctx, planted), msg)
	live := ownKey("live")
	refusedBy(t, "a tenant revoking a key with the mark", updateKey(ctx, asAdmin, live, revokeMarked), msg)
	// Not even the REST API marks a key it does not revoke in that write: a live key marked
	// beforehand would read as the rotation's once a plain revocation revoked it.
	refusedBy(t, "marking a live key", updateKey(ctx, k8s, live, mark), msg)
	revoked := ownKey("revoked")
	if err := updateKey(ctx, asAdmin, revoked, func(k *qualv1alpha1.APIKey) { k.Spec.Revoked = true }); err != nil {
		t.Fatal(err)
	}
	refusedBy(t, "marking a key revoked before", updateKey(ctx, k8s, revoked, mark), msg)
	refusedBy(t, "a mark that is no hash", updateKey(ctx, k8s, live, func(k *qualv1alpha1.APIKey) {
		k.Spec.Revoked = true
		metav1.SetMetaDataAnnotation(&k.ObjectMeta, qualv1alpha1.AnnotationRevokedByClaim, "abc")
	}), "holds a SHA-256 in hex")

	// As the REST API's rotation does: the mark in the write that revokes the key.
	if err := updateKey(ctx, k8s, live, revokeMarked); err != nil {
		t.Fatalf("revoking a key with the mark as the REST API: %v", err)
	}
	for who, c := range map[string]client.Client{"a tenant": asAdmin, "a cluster admin": k8s} {
		refusedBy(t, who+" changing the mark", updateKey(ctx, c, live, func(k *qualv1alpha1.APIKey) {
			k.Annotations[qualv1alpha1.AnnotationRevokedByClaim] = strings.Repeat("cd", 32)
		}), msg)
	}
	// Other writes keep it; removing it only makes the rotation's repeat refuse the key.
	if err := updateKey(ctx, asAdmin, live, func(k *qualv1alpha1.APIKey) { k.Spec.DisplayName = "Renamed" }); err != nil {
		t.Fatalf("renaming a marked key: %v", err)
	}
	if err := updateKey(ctx, asAdmin, live, func(k *qualv1alpha1.APIKey) {
		delete(k.Annotations, qualv1alpha1.AnnotationRevokedByClaim)
	}); err != nil {
		t.Fatalf("removing the mark: %v", err)
	}
	refusedBy(t, "putting a removed mark back", updateKey(ctx, k8s, live, mark), msg)
}

// Campaigns and Teams the REST API creates carry the claim too, and a repeat answers the one
// holding its claim: a team member (who may create Campaigns with kubectl) or an account
// allowed to write Teams (a GitOps one) cannot stamp one either, on create or after.
func TestIdempotencyClaimCannotBeForgedOnCampaignsOrTeams(t *testing.T) {
	ctx := context.Background()
	team, asAdmin, _ := adminTeam(t, "cmp-claimer")
	const msg = "qual.cx/idempotency-claim is written by the REST API"
	stamp := strings.Repeat("ab", 32)
	claimed := map[string]string{qualv1alpha1.AnnotationIdempotencyClaim: stamp}

	planted := newCampaign(uniqueName("planted"), qualv1alpha1.StateDraft)
	planted.Namespace, planted.Annotations = team.Status.Namespace, claimed
	refusedBy(t, "a tenant creating a campaign with a claim", asAdmin.Create(ctx, planted.DeepCopy()), msg)
	if err := k8s.Create(ctx, planted); err != nil { // as the REST API does
		t.Fatalf("stamping a campaign as the REST API: %v", err)
	}
	plain := newCampaign(uniqueName("plain"), qualv1alpha1.StateDraft)
	plain.Namespace = team.Status.Namespace
	if err := asAdmin.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	refusedBy(t, "a tenant adding a claim to a campaign", updateAs(ctx, asAdmin, plain, func(c *qualv1alpha1.Campaign) {
		metav1.SetMetaDataAnnotation(&c.ObjectMeta, qualv1alpha1.AnnotationIdempotencyClaim, stamp)
	}), msg)

	// Teams are cluster-scoped: no tenant writes them, but an account a platform team grants
	// Team writes to (not system:masters, not the REST API) must not stamp them either.
	asWriter, writer := teamWriter(t)
	stamped := newTeam(uniqueName("planted"), member(writer, qualv1alpha1.RoleOwner))
	stamped.Annotations = claimed
	refusedBy(t, "a team writer creating a team with a claim", asWriter.Create(ctx, stamped.DeepCopy(), client.DryRunAll), msg)
	if err := k8s.Create(ctx, stamped, client.DryRunAll); err != nil {
		t.Fatalf("stamping a team as the REST API: %v", err)
	}
	other := newTeam(uniqueName("plain"), member(writer, qualv1alpha1.RoleOwner))
	if err := k8s.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), other) })
	refusedBy(t, "a team writer adding a claim to a team", updateAs(ctx, asWriter, other, func(tm *qualv1alpha1.Team) {
		metav1.SetMetaDataAnnotation(&tm.ObjectMeta, qualv1alpha1.AnnotationIdempotencyClaim, stamp)
	}), msg)
}

// teamWriter is a client acting as an account granted Team writes cluster-wide, as a
// platform team grants its GitOps account (not system:masters, not the REST API), and that
// account's user name.
func teamWriter(t *testing.T) (client.Client, string) {
	t.Helper()
	ctx := context.Background()
	writer := "gitops@" + uniqueName("platform") + ".example"
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("team-writer")},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{qualv1alpha1.GroupVersion.Group}, Resources: []string{"teams"},
			Verbs: []string{"get", "create", "update"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: writer}}}
	for _, obj := range []client.Object{role, binding} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	}
	asWriter := clientAs(t, writer)
	eventually(t, "the team writer's grant", func() error {
		return asWriter.Create(ctx, newTeam(uniqueName("granted"), member(writer, qualv1alpha1.RoleOwner)), client.DryRunAll)
	})
	return asWriter, writer
}

// A member add the REST API made under an Idempotency-Key records its claim in the Team's
// qual.cx/member-claims, so that the add's repeat after a crash answers the member as done. An
// account granted Team writes that could write the record could make an add it did by hand
// read as another request's, so only the REST API (its service account, or a cluster admin)
// adds or changes it; the account's other Team edits pass, and removing it (which only makes
// the repeat a 409) is allowed.
func TestMemberClaimsCannotBeForged(t *testing.T) {
	ctx := context.Background()
	const msg = "qual.cx/member-claims is written by the REST API"
	asWriter, writer := teamWriter(t)
	record := func(email, stamp string) string {
		raw, err := json.Marshal(map[string]string{email: stamp})
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	added := "added@" + uniqueName("claims") + ".example"
	claimed := record(added, strings.Repeat("ab", 32))
	addClaimed := func(tm *qualv1alpha1.Team) {
		if !slices.ContainsFunc(tm.Spec.Members, func(m qualv1alpha1.TeamMember) bool { return m.Email == added }) {
			tm.Spec.Members = append(tm.Spec.Members, member(added, qualv1alpha1.RoleMember))
		}
		metav1.SetMetaDataAnnotation(&tm.ObjectMeta, qualv1alpha1.AnnotationMemberClaims, claimed)
	}

	planted := newTeam(uniqueName("planted"), member(writer, qualv1alpha1.RoleOwner), member(added, qualv1alpha1.RoleMember))
	planted.Annotations = map[string]string{qualv1alpha1.AnnotationMemberClaims: claimed}
	refusedBy(t, "a team writer creating a team with member claims", asWriter.Create(ctx, planted, client.DryRunAll), msg)
	team := newTeam(uniqueName("claims"), member(writer, qualv1alpha1.RoleOwner))
	if err := k8s.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), team) })
	refusedBy(t, "a team writer adding a member with a claim", updateAs(ctx, asWriter, team, addClaimed), msg)

	// The REST API's own service account, with the permissions config/rbac grants it, adds one.
	ensureNamespace(t, qualv1alpha1.SystemNamespace)
	installRBAC(t, "apiserver_role.yaml")
	installRBAC(t, "role_binding.yaml")
	asAPI := clientAs(t, "system:serviceaccount:qual-system:qual-apiserver")
	eventually(t, "the REST API's account recording a member add", func() error {
		return updateAs(ctx, asAPI, team, addClaimed)
	})
	refusedBy(t, "a record that is no claims record", updateAs(ctx, k8s, team, func(tm *qualv1alpha1.Team) {
		tm.Annotations[qualv1alpha1.AnnotationMemberClaims] = "abc"
	}), "holds a JSON object of e-mails to SHA-256s in hex")

	refusedBy(t, "a team writer changing a member's claim", updateAs(ctx, asWriter, team, func(tm *qualv1alpha1.Team) {
		tm.Annotations[qualv1alpha1.AnnotationMemberClaims] = record(added, strings.Repeat("cd", 32))
	}), msg)
	refusedBy(t, "a team writer claiming another member", updateAs(ctx, asWriter, team, func(tm *qualv1alpha1.Team) {
		tm.Annotations[qualv1alpha1.AnnotationMemberClaims] = record(writer, strings.Repeat("ab", 32))
	}), msg)
	// Other edits keep it and pass; removing it only makes the add's repeat a 409.
	if err := updateAs(ctx, asWriter, team, func(tm *qualv1alpha1.Team) {
		tm.Spec.DisplayName = "Renamed"
		tm.Spec.Members = append(tm.Spec.Members, member("other@"+team.Name+".example", qualv1alpha1.RoleViewer))
	}); err != nil {
		t.Fatalf("a team writer editing a team with member claims: %v", err)
	}
	if err := updateAs(ctx, asWriter, team, func(tm *qualv1alpha1.Team) {
		delete(tm.Annotations, qualv1alpha1.AnnotationMemberClaims)
	}); err != nil {
		t.Fatalf("a team writer removing member claims: %v", err)
	}
	refusedBy(t, "a team writer putting removed claims back", updateAs(ctx, asWriter, team, addClaimed), msg)
}

func TestAPIKeyOwnerAndCreatorCannotBeRewritten(t *testing.T) {
	ctx := context.Background()
	team, asAdmin, admin := adminTeam(t, "forger")
	owner := team.Spec.Members[0].Email

	// The creator's name is recorded whatever the client claims.
	key := keyIn(team.Status.Namespace, "mine", qualv1alpha1.KeyScoped, "campaigns:read")
	key.Spec.Owner = admin
	key.Annotations = map[string]string{qualv1alpha1.AnnotationCreatedBy: owner}
	if err := asAdmin.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got := key.Annotations[qualv1alpha1.AnnotationCreatedBy]; got != admin {
		t.Fatalf("created-by = %q, want the impersonated user %q", got, admin)
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")

	// The key cannot be handed to the owner (a platform admin's key acts for its owner).
	moved := key.DeepCopy()
	moved.Spec.Owner = owner
	refusedBy(t, "changing spec.owner", asAdmin.Update(ctx, moved), "owner cannot be added, removed or changed")
	unowned := key.DeepCopy()
	unowned.Spec.Owner = ""
	refusedBy(t, "removing spec.owner", asAdmin.Update(ctx, unowned), "owner cannot be added, removed or changed")

	// Nor can the record of who created it change or go.
	const wantMsg = "qual.cx/created-by is set by the API server on create"
	forged := key.DeepCopy()
	forged.Annotations[qualv1alpha1.AnnotationCreatedBy] = owner
	refusedBy(t, "changing created-by", asAdmin.Update(ctx, forged), wantMsg)
	erased := key.DeepCopy()
	delete(erased.Annotations, qualv1alpha1.AnnotationCreatedBy)
	refusedBy(t, "removing created-by", asAdmin.Update(ctx, erased), wantMsg)
	patch := []byte(`{"metadata":{"annotations":{"` + qualv1alpha1.AnnotationCreatedBy + `":null}}}`)
	refusedBy(t, "removing created-by by merge patch", asAdmin.Patch(ctx, key.DeepCopy(), client.RawPatch("application/merge-patch+json", patch)), wantMsg)

	// Nor can the link to the key a key was minted with be added later or cut: the keys a
	// departing admin minted are found by it.
	const mintedMsg = "qual.cx/minted-by is set when a key is minted"
	added := key.DeepCopy()
	added.Annotations[qualv1alpha1.AnnotationMintedBy] = "0b6f8c2e-8d7e-4a5b-9c1d-2e3f4a5b6c7d"
	refusedBy(t, "adding minted-by", asAdmin.Update(ctx, added), mintedMsg)
	child := keyIn(team.Status.Namespace, "child", qualv1alpha1.KeyScoped, "campaigns:read")
	child.Spec.Owner = admin
	child.Annotations = map[string]string{qualv1alpha1.AnnotationMintedBy: string(key.UID)}
	// Nor set on create by anyone but the REST API, which writes it when a key mints a key:
	// a link a tenant could write would not say which key minted which.
	refusedBy(t, "creating a key with minted-by", asAdmin.Create(ctx, child.DeepCopy()), "qual.cx/minted-by is written by the REST API")
	// The REST API acts as its service account, or (in `qual dev`) as a cluster admin, as
	// here; it writes a key's UID, and nothing else is taken from it either.
	odd := child.DeepCopy()
	odd.Annotations[qualv1alpha1.AnnotationMintedBy] = "abc"
	refusedBy(t, "creating a key minted by no key's UID", k8s.Create(ctx, odd), "holds the UID of the key that minted this one")
	if err := k8s.Create(ctx, child); err != nil {
		t.Fatal(err)
	}
	// The controller is reconciling the new key meanwhile; each write goes to its newest copy.
	refusedBy(t, "removing minted-by", updateKey(ctx, asAdmin, child, func(k *qualv1alpha1.APIKey) {
		delete(k.Annotations, qualv1alpha1.AnnotationMintedBy)
	}), mintedMsg)
	refusedBy(t, "changing minted-by", updateKey(ctx, asAdmin, child, func(k *qualv1alpha1.APIKey) {
		k.Annotations[qualv1alpha1.AnnotationMintedBy] = "0b6f8c2e-8d7e-4a5b-9c1d-2e3f4a5b6c7d"
	}), mintedMsg)

	// Ordinary writes still work: a server-side apply that does not mention the annotation
	// (as kubectl apply does) leaves it, and revocation goes through.
	apply := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": qualv1alpha1.GroupVersion.String(), "kind": "APIKey",
		"metadata": map[string]any{"name": key.Name, "namespace": key.Namespace},
		"spec":     map[string]any{"type": "scoped", "owner": admin, "scopes": []any{"campaigns:read"}, "displayName": "Renamed"},
	}}
	if err := asAdmin.Apply(ctx, client.ApplyConfigurationFromUnstructured(apply), client.FieldOwner("kubectl"), client.ForceOwnership); err != nil {
		t.Fatalf("server-side apply by the team admin: %v", err)
	}
	revoke := client.MergeFrom(key.DeepCopy())
	key.Spec.Revoked = true
	if err := asAdmin.Patch(ctx, key, revoke); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(key), key); err != nil {
		t.Fatal(err)
	}
	if key.Annotations[qualv1alpha1.AnnotationCreatedBy] != admin || key.Spec.Owner != admin || key.Spec.DisplayName != "Renamed" {
		t.Errorf("after apply and revoke: annotations %v, owner %q, displayName %q", key.Annotations, key.Spec.Owner, key.Spec.DisplayName)
	}
}

func TestTeamNeverOwnsAReservedNamespace(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("usurper")
	ownerEmail := "owner@" + name + ".example"

	// The schema refuses the cluster's own namespaces outright.
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		team := newTeam(uniqueName("cluster-ns"), member(ownerEmail, qualv1alpha1.RoleOwner))
		team.Spec.Namespace = ns
		refusedBy(t, "a team in "+ns, k8s.Create(ctx, team), "namespace cannot be default or start with kube-")
	}

	// The operator's namespace, even labelled for the team (which would have it adopted),
	// stalls the team and gets it nothing.
	system := &corev1.Namespace{}
	ensureNamespace(t, qualv1alpha1.SystemNamespace)
	if err := k8s.Get(ctx, client.ObjectKey{Name: qualv1alpha1.SystemNamespace}, system); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(system.DeepCopy())
	system.Labels[qualv1alpha1.LabelTeam] = name
	if err := k8s.Patch(ctx, system, patch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		patch := []byte(`{"metadata":{"labels":{"` + qualv1alpha1.LabelTeam + `":null}}}`)
		_ = k8s.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: qualv1alpha1.SystemNamespace}}, client.RawPatch("application/merge-patch+json", patch))
	})
	team := newTeam(name, member(ownerEmail, qualv1alpha1.RoleOwner))
	team.Spec.Namespace = qualv1alpha1.SystemNamespace
	if err := k8s.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	waitReserved := func() {
		t.Helper()
		eventually(t, "team stalls on the reserved namespace", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
				return err
			}
			return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "NamespaceReserved")
		})
	}
	waitReserved()
	noClaimOnSystem(t, team, ownerEmail)
	reconcileIsSteady(t, reconcilers.Team, team)

	// What an operator from before reserved namespaces may have left there is undone: the
	// team's RoleBinding goes and the namespace is no longer the team's.
	ref := *metav1.NewControllerRef(team, qualv1alpha1.GroupVersion.WithKind("Team"))
	legacy := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "qual-team-admin", Namespace: qualv1alpha1.SystemNamespace, OwnerReferences: []metav1.OwnerReference{ref},
			Labels: map[string]string{qualv1alpha1.LabelManagedBy: qualv1alpha1.ManagedByValue, qualv1alpha1.LabelTeam: name}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: ownerEmail}},
	}
	if err := k8s.Create(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Name: qualv1alpha1.SystemNamespace}, system); err != nil {
		t.Fatal(err)
	}
	patch = client.MergeFrom(system.DeepCopy())
	system.OwnerReferences = append(system.OwnerReferences, ref)
	system.Labels[qualv1alpha1.LabelTeamUID] = string(team.UID)
	if err := k8s.Patch(ctx, system, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "legacy claim undone", func() error {
		if err := gone(ctx, legacy); err != nil {
			return fmt.Errorf("role binding: %w", err)
		}
		return noClaim(ctx, team)
	})
	waitReserved()
	noClaimOnSystem(t, team, ownerEmail)

	// Deleting the team leaves the namespace alone.
	if err := k8s.Delete(ctx, team); err != nil {
		t.Fatal(err)
	}
	eventually(t, "team gone", func() error { return gone(ctx, team) })
	if err := k8s.Get(ctx, client.ObjectKey{Name: qualv1alpha1.SystemNamespace}, system); err != nil || !system.DeletionTimestamp.IsZero() {
		t.Fatalf("%s was deleted with the team (%v)", qualv1alpha1.SystemNamespace, err)
	}
}

// noClaim is nil when the team neither controls the system namespace nor has labelled it with
// its UID.
func noClaim(ctx context.Context, team *qualv1alpha1.Team) error {
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: qualv1alpha1.SystemNamespace}, ns); err != nil {
		return err
	}
	if slices.ContainsFunc(ns.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == team.UID }) ||
		ns.Labels[qualv1alpha1.LabelTeamUID] == string(team.UID) {
		return fmt.Errorf("%s is still the team's: %+v", ns.Name, ns.ObjectMeta)
	}
	return nil
}

// noClaimOnSystem asserts the team has no hold on the system namespace and its owner may do
// nothing there.
func noClaimOnSystem(t *testing.T, team *qualv1alpha1.Team, ownerEmail string) {
	t.Helper()
	ctx := context.Background()
	if err := noClaim(ctx, team); err != nil {
		t.Fatal(err)
	}
	bindings := &rbacv1.RoleBindingList{}
	if err := k8s.List(ctx, bindings, client.InNamespace(qualv1alpha1.SystemNamespace)); err != nil {
		t.Fatal(err)
	}
	for _, b := range bindings.Items {
		if metav1.IsControlledBy(&b, team) || strings.HasPrefix(b.Name, "qual-team-") {
			t.Errorf("role binding %s in %s", b.Name, qualv1alpha1.SystemNamespace)
		}
	}
	for _, verb := range []string{"get", "create"} {
		for _, res := range []struct{ group, resource string }{{"", "secrets"}, {qualv1alpha1.GroupVersion.Group, "apikeys"}} {
			if accessReview(t, ownerEmail, qualv1alpha1.SystemNamespace, verb, res.group, res.resource) {
				t.Errorf("the team's owner may %s %s in %s", verb, res.resource, qualv1alpha1.SystemNamespace)
			}
		}
	}
}

// accessReview asks the API server whether user may do verb on resource in ns.
func accessReview(t *testing.T, user, ns, verb, group, resource string) bool {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               user,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource},
	}}
	got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got.Status.Allowed
}

func TestTeamAdminReadsOnlyItsOwnSecrets(t *testing.T) {
	ctx := context.Background()
	a, asAdminA, adminA := adminTeam(t, "reader")
	b, asAdminB, _ := adminTeam(t, "neighbour")

	// What a cluster holds: the store's address in qual-system, and in each team namespace a
	// webhook (signing secret and dispatcher) and a minted key, made by the team's admin.
	ensureNamespace(t, qualv1alpha1.SystemNamespace)
	store := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("qual-store"), Namespace: qualv1alpha1.SystemNamespace},
		StringData: map[string]string{"dsn": "postgres://qual:hunter2@db.internal:5432/qual"}}
	if err := k8s.Create(ctx, store); err != nil {
		t.Fatal(err)
	}
	secretsOf := map[string][]string{} // namespace -> every secret value there
	var ownSecrets []client.ObjectKey  // admin A's plaintexts
	for _, team := range []struct {
		*qualv1alpha1.Team
		admin client.Client
	}{{a, asAdminA}, {b, asAdminB}} {
		ns := team.Status.Namespace
		wh := newWebhook(ns, "hook")
		key := keyIn(ns, "key", qualv1alpha1.KeySecret)
		for _, obj := range []client.Object{wh, key} {
			if err := team.admin.Create(ctx, obj); err != nil {
				t.Fatal(err)
			}
		}
		waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
		waitKey(t, key, metav1.ConditionTrue, "Active")
		if team.Team == a {
			ownSecrets = []client.ObjectKey{{Namespace: ns, Name: wh.Status.SecretRef.Name}, {Namespace: ns, Name: key.Status.SecretRef.Name}}
		}
		list := &corev1.SecretList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for _, s := range list.Items {
			for _, v := range s.Data {
				secretsOf[ns] = append(secretsOf[ns], string(v))
			}
		}
	}

	// RBAC: no team role reads Secrets, in its namespace or elsewhere; the admin reads only
	// the plaintexts made for it, by name (TestPlaintextSecretsAreReadOnlyByTheirCreator).
	for _, ns := range []string{a.Status.Namespace, qualv1alpha1.SystemNamespace, b.Status.Namespace} {
		for _, verb := range []string{"get", "list", "watch"} {
			if accessReview(t, adminA, ns, verb, "", "secrets") {
				t.Errorf("%s may %s every secret in %s", adminA, verb, ns)
			}
		}
	}

	// A real read, as the admin: its own two plaintexts, and nothing of the store's or the
	// other team's in them.
	for _, key := range ownSecrets {
		s := &corev1.Secret{}
		eventually(t, "admin reads "+key.Name, func() error { return asAdminA.Get(ctx, key, s) })
		for k, v := range s.Data {
			if k == "dsn" || strings.Contains(string(v), "postgres://") || strings.Contains(string(v), "hunter2") {
				t.Errorf("secret %s holds the store's address (%s)", s.Name, k)
			}
			if slices.Contains(secretsOf[b.Status.Namespace], string(v)) {
				t.Errorf("secret %s holds a secret of team %s (%s)", s.Name, b.Name, k)
			}
		}
	}
	for _, ns := range []string{a.Status.Namespace, qualv1alpha1.SystemNamespace, b.Status.Namespace} {
		if err := asAdminA.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
			t.Errorf("team admin listing secrets in %s: want 403, got %v", ns, err)
		}
	}
	if err := asAdminA.Get(ctx, client.ObjectKeyFromObject(store), &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("team admin reading the store secret: want 403, got %v", err)
	}

	// The dispatcher runs in the operator's namespace, so the Secret it reads the store's
	// address from lives there, out of every team admin's reach.
	if d := dispatcher(t); d.Namespace != qualv1alpha1.SystemNamespace {
		t.Errorf("dispatcher runs in %s", d.Namespace)
	}
}

// storeSecret makes sure the operator's namespace holds the store's address, as an
// installation's qual-store Secret does, and returns the address and its password.
func storeSecret(t *testing.T) (dsn, password string) {
	t.Helper()
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: qualv1alpha1.SystemNamespace, Name: "qual-store"}
	err := k8s.Get(context.Background(), key, secret)
	if apierrors.IsNotFound(err) {
		secret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
			StringData: map[string]string{"dsn": "postgres://qual:s3cret-" + uniqueName("pw") + "@db.internal:5432/qual"}}
		err = k8s.Create(context.Background(), secret)
		if err == nil {
			err = k8s.Get(context.Background(), key, secret)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	dsn = string(secret.Data["dsn"])
	password = strings.TrimPrefix(strings.Split(strings.Split(dsn, "@")[0], "://")[1], "qual:")
	return dsn, password
}

// installRBAC creates the objects of a config/rbac file, as the installation does.
func installRBAC(t *testing.T, file string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", file))
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := k8s.Create(context.Background(), u); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s %s from %s: %v", u.GetKind(), u.GetName(), file, err)
		}
	}
}

func TestStoreCredentialsStayInTheOperatorNamespace(t *testing.T) {
	ctx := context.Background()
	installRBAC(t, "dispatcher_role.yaml")
	dsn, password := storeSecret(t)
	a, asAdminA, _ := adminTeam(t, "creds")
	b, _, _ := adminTeam(t, "creds-other")
	for _, team := range []*qualv1alpha1.Team{a, b} {
		wh := newWebhook(team.Status.Namespace, "hook")
		if err := k8s.Create(ctx, wh); err != nil {
			t.Fatal(err)
		}
		waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	}

	// No Secret and no ConfigMap of any team namespace holds the store's address or password.
	namespaces := &corev1.NamespaceList{}
	if err := k8s.List(ctx, namespaces, client.HasLabels{qualv1alpha1.LabelTeamUID}); err != nil {
		t.Fatal(err)
	}
	if len(namespaces.Items) < 2 {
		t.Fatalf("%d team namespaces", len(namespaces.Items))
	}
	leaks := func(where, v string) {
		if strings.Contains(v, dsn) || strings.Contains(v, password) {
			t.Errorf("%s holds the store's credentials", where)
		}
	}
	for _, ns := range namespaces.Items {
		secrets, maps := &corev1.SecretList{}, &corev1.ConfigMapList{}
		if err := k8s.List(ctx, secrets, client.InNamespace(ns.Name)); err != nil {
			t.Fatal(err)
		}
		if err := k8s.List(ctx, maps, client.InNamespace(ns.Name)); err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets.Items {
			for k, v := range s.Data {
				leaks(fmt.Sprintf("secret %s/%s key %s", ns.Name, s.Name, k), string(v))
			}
		}
		for _, m := range maps.Items {
			for k, v := range m.Data {
				leaks(fmt.Sprintf("configmap %s/%s key %s", ns.Name, m.Name, k), v)
			}
		}
	}
	if err := asAdminA.Get(ctx, client.ObjectKey{Namespace: qualv1alpha1.SystemNamespace, Name: "qual-store"}, &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("team admin reading the store secret: want 403, got %v", err)
	}

	// The dispatcher reads a Secret by name in a team namespace, and no Secret of the
	// operator's; the apiserver also writes them there.
	const dispatcherSA, apiserverSA = "system:serviceaccount:qual-system:qual-dispatcher", "system:serviceaccount:qual-system:qual-apiserver"
	for _, c := range []struct {
		user, ns, verb string
		allowed        bool
	}{
		{dispatcherSA, a.Status.Namespace, "get", true},
		{dispatcherSA, b.Status.Namespace, "get", true},
		{dispatcherSA, a.Status.Namespace, "list", false},
		{dispatcherSA, a.Status.Namespace, "create", false},
		{dispatcherSA, qualv1alpha1.SystemNamespace, "get", false},
		{dispatcherSA, metav1.NamespaceDefault, "get", false},
		{apiserverSA, a.Status.Namespace, "get", true},
		{apiserverSA, a.Status.Namespace, "create", true},
		{apiserverSA, a.Status.Namespace, "update", true},
		{apiserverSA, a.Status.Namespace, "delete", false},
		{apiserverSA, qualv1alpha1.SystemNamespace, "get", false},
	} {
		if got := accessReview(t, c.user, c.ns, c.verb, "", "secrets"); got != c.allowed {
			t.Errorf("%s %s secrets in %s: allowed=%v, want %v", c.user, c.verb, c.ns, got, c.allowed)
		}
	}
	// The grants belong to the team: they go with its namespace.
	for _, name := range []string{"qual-dispatcher-team-secrets", "qual-apiserver-team-secrets"} {
		rb := &rbacv1.RoleBinding{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: a.Status.Namespace, Name: name}, rb); err != nil {
			t.Fatal(err)
		}
		if !metav1.IsControlledBy(rb, a) || rb.RoleRef.Kind != "ClusterRole" || rb.RoleRef.Name != name {
			t.Errorf("binding %s: %+v", name, rb)
		}
	}
}

// The manager's shipped role (config/rbac) writes Deployments and Leases in the operator's
// namespace only: whoever creates a Deployment in a namespace runs pods as any of its service
// accounts. What it must hold cluster-wide is what docs/architecture.md gives a reason for.
func TestManagerWritesDeploymentsAndLeasesInItsNamespaceOnly(t *testing.T) {
	installRBAC(t, "role.yaml")
	installRBAC(t, "role_binding.yaml")
	team, _, _ := adminTeam(t, "least")
	const managerSA = "system:serviceaccount:qual-system:qual-manager"
	for _, c := range []struct {
		ns, verb, group, resource string
		allowed                   bool
	}{
		{qualv1alpha1.SystemNamespace, "create", "apps", "deployments", true},
		{qualv1alpha1.SystemNamespace, "update", "apps", "deployments", true},
		{qualv1alpha1.SystemNamespace, "watch", "apps", "deployments", true},
		{qualv1alpha1.SystemNamespace, "update", "coordination.k8s.io", "leases", true},
		{team.Status.Namespace, "delete", "apps", "deployments", true}, // an older operator's dispatcher
		{team.Status.Namespace, "create", "", "events", true},
		{team.Status.Namespace, "list", "", "events", true}, // granted to the team's admins
		{team.Status.Namespace, "create", "", "secrets", true},
		{team.Status.Namespace, "create", "rbac.authorization.k8s.io", "rolebindings", true},
		{metav1.NamespaceSystem, "create", "apps", "deployments", false},
		{metav1.NamespaceDefault, "patch", "apps", "deployments", false},
		{team.Status.Namespace, "create", "apps", "deployments", false},
		{team.Status.Namespace, "list", "apps", "deployments", false},
		{metav1.NamespaceSystem, "create", "coordination.k8s.io", "leases", false},
		{team.Status.Namespace, "update", "coordination.k8s.io", "leases", false},
		{metav1.NamespaceSystem, "escalate", "rbac.authorization.k8s.io", "roles", false},
		{"", "escalate", "rbac.authorization.k8s.io", "clusterroles", false},
		{"", "bind", "rbac.authorization.k8s.io", "clusterroles", false}, // only the named ones
	} {
		if got := accessReview(t, managerSA, c.ns, c.verb, c.group, c.resource); got != c.allowed {
			t.Errorf("the manager %s %s.%s in %q: allowed=%v, want %v", c.verb, c.resource, c.group, c.ns, got, c.allowed)
		}
	}
}

// The manager may delete namespaces cluster-wide (RBAC cannot name those it has not made
// yet), but the admission policy qual-manager-namespaces keeps it to the team namespaces it
// made: only those carry the team-UID label.
func TestManagerDeletesOnlyTeamNamespaces(t *testing.T) {
	ctx := context.Background()
	installRBAC(t, "role.yaml")
	installRBAC(t, "role_binding.yaml")
	asManager := clientAs(t, "system:serviceaccount:qual-system:qual-manager")
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("not-a-team")}}
	if err := k8s.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the policy refuses the manager a namespace no team owns", func() error {
		err := asManager.Delete(ctx, foreign.DeepCopy(), client.DryRunAll)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "deletes only the team namespaces it made") {
			return fmt.Errorf("delete of %s as the manager: %w", foreign.Name, err)
		}
		return nil
	})
	for _, name := range []string{metav1.NamespaceSystem, qualv1alpha1.SystemNamespace} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := asManager.Delete(ctx, ns, client.DryRunAll); !apierrors.IsForbidden(err) {
			t.Errorf("the manager deleting %s: want 403, got %v", name, err)
		}
	}
	// A reserved namespace that a bug labelled as a team's stays.
	reserved := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-" + uniqueName("labelled"),
		Labels: map[string]string{qualv1alpha1.LabelTeamUID: "some-uid"}}}
	if err := k8s.Create(ctx, reserved); err != nil {
		t.Fatal(err)
	}
	if err := asManager.Delete(ctx, reserved, client.DryRunAll); !apierrors.IsForbidden(err) ||
		!strings.Contains(err.Error(), "never deletes a reserved namespace") {
		t.Errorf("the manager deleting %s: want 403, got %v", reserved.Name, err)
	}
	team, _, _ := adminTeam(t, "deletable")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: team.Status.Namespace}}
	if err := asManager.Delete(ctx, ns, client.DryRunAll); err != nil {
		t.Errorf("the manager deleting its team namespace %s: %v", ns.Name, err)
	}
}

// A viewer sees through kubectl no more than a member, and what REST shows them: campaigns,
// not the team's webhooks (whose URLs are often credentials) or API keys, which are the
// managers' alone.
func TestViewersSeeNoMoreThanMembers(t *testing.T) {
	team := readyTeam(t, newTeam(uniqueName("ladder"),
		member("owner@ladder.example", qualv1alpha1.RoleOwner),
		member("member@ladder.example", qualv1alpha1.RoleMember),
		member("viewer@ladder.example", qualv1alpha1.RoleViewer)))
	ns := team.Status.Namespace
	group := qualv1alpha1.GroupVersion.Group
	eventually(t, "the viewer's role", func() error {
		if !accessReview(t, "viewer@ladder.example", ns, "list", group, "campaigns") {
			return fmt.Errorf("the viewer cannot list campaigns yet")
		}
		return nil
	})
	for _, who := range []string{"member@ladder.example", "viewer@ladder.example"} {
		for _, res := range []string{"webhooks", "apikeys"} {
			for _, verb := range []string{"get", "list", "watch"} {
				if accessReview(t, who, ns, verb, group, res) {
					t.Errorf("%s may %s %s", who, verb, res)
				}
			}
		}
	}
	if !accessReview(t, "owner@ladder.example", ns, "list", group, "webhooks") {
		t.Error("the owner may not list webhooks")
	}
}

// Owners and admins read the Events the controllers write about their team's objects
// (kubectl describe, kubectl events), in their namespace only; members and viewers do not, as
// RBAC cannot keep them to the Events of campaigns and those of webhooks and keys are not
// theirs to read.
func TestTeamManagersReadTheirNamespacesEvents(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("heralds")
	owner, admin, mem, viewer := "owner@"+name+".example", "admin@"+name+".example", "member@"+name+".example", "viewer@"+name+".example"
	team := readyTeam(t, newTeam(name, member(owner, qualv1alpha1.RoleOwner), member(admin, qualv1alpha1.RoleAdmin),
		member(mem, qualv1alpha1.RoleMember), member(viewer, qualv1alpha1.RoleViewer)))
	other, _, _ := adminTeam(t, "heralds-other")
	ns := team.Status.Namespace
	eventually(t, "the owner's role", func() error {
		if !accessReview(t, owner, ns, "list", "qual.cx", "campaigns") {
			return fmt.Errorf("the owner cannot list campaigns yet")
		}
		return nil
	})
	for _, group := range []string{"", "events.k8s.io"} {
		for _, verb := range []string{"get", "list", "watch"} {
			for _, c := range []struct {
				user, ns string
				allowed  bool
			}{
				{owner, ns, true}, {admin, ns, true}, {mem, ns, false}, {viewer, ns, false},
				{owner, other.Status.Namespace, false}, {admin, metav1.NamespaceDefault, false},
				{admin, qualv1alpha1.SystemNamespace, false},
			} {
				if got := accessReview(t, c.user, c.ns, verb, group, "events"); got != c.allowed {
					t.Errorf("%s %s events (group %q) in %s: allowed=%v, want %v", c.user, verb, group, c.ns, got, c.allowed)
				}
			}
			for _, write := range []string{"create", "update", "patch", "delete"} {
				if accessReview(t, owner, ns, write, group, "events") {
					t.Errorf("the owner may %s events (group %q)", write, group)
				}
			}
		}
	}

	// A real read, as the admin: the Event of a key minted in the namespace, which names the
	// key by prefix and last four only.
	key := keyIn(ns, "heralded", qualv1alpha1.KeySecret)
	if err := k8s.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")
	asAdmin := clientAs(t, admin)
	eventually(t, "the admin reads the KeyMinted event", func() error {
		list := &eventsv1.EventList{}
		if err := asAdmin.List(ctx, list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == "KeyMinted" && e.Regarding.Name == key.Name {
				return nil
			}
		}
		return fmt.Errorf("%d events, none KeyMinted for %s", len(list.Items), key.Name)
	})
	if err := clientAs(t, mem).List(ctx, &eventsv1.EventList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("a member listing events: want 403, got %v", err)
	}
}

// A team admin (or member) may edit a campaign but not drop the finalizer that erases its
// data: deleting it without the finalizer would leave its participants' data in the store,
// out of reach of any erasure. Nor a webhook's. The operator's own removal, at the end of the deletion, goes
// through.
func TestTeamCannotDropTheCampaignDataFinalizer(t *testing.T) {
	ctx := context.Background()
	team, asAdmin, _ := adminTeam(t, "keeper")
	cmp := newCampaign(uniqueName("kept"), qualv1alpha1.StateDraft)
	cmp.Namespace = team.Status.Namespace
	if err := asAdmin.Create(ctx, cmp); err != nil {
		t.Fatal(err)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Draft")
	if !controllerutil.ContainsFinalizer(cmp, "qual.cx/campaign-data") {
		t.Fatalf("finalizers %v", cmp.Finalizers)
	}
	const wantMsg = "only the operator removes them"
	eventually(t, "the finalizer policy", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cmp), cmp); err != nil {
			return err
		}
		stripped := cmp.DeepCopy()
		stripped.Finalizers = nil
		err := asAdmin.Update(ctx, stripped, client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), wantMsg) {
			return fmt.Errorf("dropping the finalizer: %w", err)
		}
		return nil
	})
	patch := []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`)
	refusedBy(t, "dropping the finalizer by JSON patch", asAdmin.Patch(ctx, cmp.DeepCopy(), client.RawPatch(types.JSONPatchType, patch)), wantMsg)
	// So with a webhook's, which erases its delivery log.
	wh := newWebhook(team.Status.Namespace, uniqueName("kept"))
	if err := asAdmin.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the webhook's finalizer", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(wh), wh); err != nil {
			return err
		}
		if !controllerutil.ContainsFinalizer(wh, "qual.cx/webhook-deliveries") {
			return fmt.Errorf("finalizers %v", wh.Finalizers)
		}
		return nil
	})
	refusedBy(t, "dropping the webhook's finalizer", asAdmin.Patch(ctx, wh.DeepCopy(), client.RawPatch(types.JSONPatchType, patch)), wantMsg)
	// Editing the campaign otherwise still works, and so does deleting it: the controller
	// erases its data and then removes the finalizer.
	edited := cmp.DeepCopy()
	edited.Spec.Title = "Renamed"
	if err := asAdmin.Update(ctx, edited); err != nil {
		t.Fatalf("editing the campaign: %v", err)
	}
	if err := asAdmin.Delete(ctx, cmp); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the campaign deleted", func() error { return gone(ctx, cmp) })
}
