package controllers

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/keys"
)

// No team Role grants Secrets: a team-wide read would hand every admin the plaintext of every
// key made with kubectl (the owner's CI key, any scopes) and every signing secret, which they
// keep after they leave. Instead each plaintext Secret the operator makes for an object made
// with kubectl gets a Role of its own, granting get on that Secret alone, bound to the one
// person it is for. The manager may grant only what it holds: get on Secrets is in the
// APIKey controller's marker (one marker per resource, as controller-gen keeps one of two).

// secretReaderRole names the Role and RoleBinding that let one person read secret. Secret
// names are unique in a namespace and the operator's end in -key or -signing, so no two
// objects want the same reader Role, and none collides with the team's qual-team-* Roles.
func secretReaderRole(secret string) string { return "qual-read-" + secret }

// secretReader is who may read the plaintext Secret the operator made for obj: the
// Kubernetes user who created obj (qual.cx/created-by, which an admission policy sets from
// the request's own user on create and lets no one change), and only while they own or
// administer the team that owns obj's namespace. Not spec.owner: any key creator writes that
// freely, it may name someone who is not in the team, and REST too shows a plaintext to the
// caller who made the key, not to its owner. Not a service account or other system identity
// (a GitOps tool's): the team grants them nothing, so the platform's own RBAC decides what
// they read. "" when no one may, which is also every object REST made (its creator is the
// REST API's service account: it answers the plaintext once instead).
func secretReader(ctx context.Context, c client.Reader, obj client.Object) (string, error) {
	creator := obj.GetAnnotations()[qualv1alpha1.AnnotationCreatedBy]
	if creator == "" || strings.HasPrefix(creator, "system:") {
		return "", nil
	}
	team, err := owningTeam(ctx, c, obj.GetNamespace())
	if err != nil || team == nil {
		return "", err
	}
	if !managerIdentities(team.Spec.Members).Has(keys.Identity(creator)) {
		return "", nil
	}
	return creator, nil
}

// reconcileReaderAfter runs reconcile, an object's reader step, after the steps before it,
// whose outcome is err. It grants (mayGrant) only when they all passed: a failed step (the
// namespace is no serving team's, the key's credential is another's, its Secret is not its
// own) means the plaintext is no one's to read, so the step then only takes the grant away,
// which it must also do when the failure comes first (a deleted team's namespace stays
// Terminating for as long as its finalizers, for good in `qual dev`). A transient failure
// drops the grant too until a pass succeeds: failing closed costs its reader a retry. The
// result is err, unless taking the grant away failed: that is returned, so it is retried, as
// a stall alone would wait for the next change.
func reconcileReaderAfter(err error, reconcile func(mayGrant bool) error) error {
	readerErr := reconcile(err == nil)
	switch {
	case readerErr == nil:
		return err
	case err == nil:
		return readerErr
	}
	return fmt.Errorf("%w (after: %s)", readerErr, err.Error())
}

// secretGrant is one plaintext Secret and the object it was made for, which owns the Role
// and RoleBinding that grant reading it, so they go with it.
type secretGrant struct {
	owner  client.Object
	secret string
	// labels are the grant's labels, those of its Secret: the managed-by label puts them in
	// the manager's cache (CacheOptions), so a deleted one is put back.
	labels map[string]string
}

// reconcileSecretRead grants g's Secret to its owner's creator (secretReader) when wanted,
// and takes any grant away otherwise.
func reconcileSecretRead(ctx context.Context, c client.Client, live client.Reader, g secretGrant, wanted bool) error {
	reader := ""
	if wanted {
		var err error
		if reader, err = secretReader(ctx, c, g.owner); err != nil {
			return err
		}
	}
	return grantSecretRead(ctx, c, live, g, reader)
}

// grantSecretRead lets reader, and no one else, get the grant's Secret; with no reader it
// takes the grant away.
func grantSecretRead(ctx context.Context, c client.Client, live client.Reader, g secretGrant, reader string) error {
	if reader == "" {
		return dropSecretRead(ctx, c, g.owner.GetNamespace(), g.secret)
	}
	name, ns := secretReaderRole(g.secret), g.owner.GetNamespace()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := ensure(ctx, c, live, role, func() error {
		role.Labels = g.labels
		role.Rules = []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{g.secret}, Verbs: []string{"get"}}}
		return ownOnly(g.owner, role, c)
	}); err != nil {
		return fmt.Errorf("role %s/%s: %w", ns, name, err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := ensure(ctx, c, live, binding, func() error {
		binding.Labels = g.labels
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}
		binding.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: reader}}
		return ownOnly(g.owner, binding, c)
	}); err != nil {
		return fmt.Errorf("role binding %s/%s: %w", ns, name, err)
	}
	return nil
}

// ownOnly makes owner the only owner of obj. A grant left by an earlier object of the same
// name (deleted where nothing collects garbage, as in `qual dev`) is taken over rather than
// stalling: its name is the operator's, derived from the Secret's, which the new object now
// holds.
func ownOnly(owner, obj client.Object, c client.Client) error {
	obj.SetOwnerReferences(nil)
	return controllerutil.SetControllerReference(owner, obj, c.Scheme())
}

// dropSecretRead deletes the grant to read secret, the binding first, as it is what grants.
// Only the operator's own (labelled, so in the cache) are looked at.
func dropSecretRead(ctx context.Context, c client.Client, namespace, secret string) error {
	key := client.ObjectKey{Namespace: namespace, Name: secretReaderRole(secret)}
	for _, obj := range []client.Object{&rbacv1.RoleBinding{}, &rbacv1.Role{}} {
		err := c.Get(ctx, key, obj)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err == nil {
			err = c.Delete(ctx, obj)
		}
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("drop %T %s: %w", obj, key, err)
		}
	}
	return nil
}
