package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
)

// A plaintext Secret made for an object made with kubectl (a minted key, a generated signing
// secret) is read by the one person who made it, while they manage the team: not by the
// team's other admins, not by its owner, not by members or viewers, and not by its maker once
// they leave. So a departed admin holds no one else's key, and no plaintext they could read
// outlives their departure (sweep 30, #3).
func TestPlaintextSecretsAreReadOnlyByTheirCreator(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("readers")
	who := func(local string) string { return local + "@" + name + ".example" }
	owner, adminA, adminB, dev, viewer := who("owner"), who("admin-a"), who("admin-b"), who("dev"), who("viewer")
	team := readyTeam(t, newTeam(name, member(owner, qualv1alpha1.RoleOwner), member(adminA, qualv1alpha1.RoleAdmin),
		member(adminB, qualv1alpha1.RoleAdmin), member(dev, qualv1alpha1.RoleMember), member(viewer, qualv1alpha1.RoleViewer)))
	ns := team.Status.Namespace
	asA := clientAs(t, adminA)

	// Admin A makes a key and a webhook with kubectl. A's webhook claims to be B's: the API
	// server records its real maker.
	key := keyIn(ns, "a-ci", qualv1alpha1.KeySecret)
	key.Spec.Owner = owner // made for the owner, by A: A, who asked for the plaintext, reads it
	wh := newWebhook(ns, "a-hook")
	wh.Annotations = map[string]string{qualv1alpha1.AnnotationCreatedBy: adminB}
	for _, obj := range []client.Object{key, wh} {
		if err := asA.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	if got := wh.Annotations[qualv1alpha1.AnnotationCreatedBy]; got != adminA {
		t.Errorf("webhook created-by %q, want %q", got, adminA)
	}
	secrets := []client.ObjectKey{{Namespace: ns, Name: key.Status.SecretRef.Name}, {Namespace: ns, Name: wh.Status.SecretRef.Name}}

	// A reads both, by name; no one reads a list of them, A included.
	eventually(t, "A reads its plaintexts", func() error {
		for _, s := range secrets {
			if err := asA.Get(ctx, s, &corev1.Secret{}); err != nil {
				return err
			}
		}
		return nil
	})
	// readsNothing is nil when user reads none of the secrets and lists none.
	readsNothing := func(user string) error {
		c := clientAs(t, user)
		for _, s := range secrets {
			if err := c.Get(ctx, s, &corev1.Secret{}); !apierrors.IsForbidden(err) {
				return fmt.Errorf("%s reading secret %s: want 403, got %w", user, s.Name, err)
			}
		}
		if err := c.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
			return fmt.Errorf("%s listing secrets: want 403, got %w", user, err)
		}
		return nil
	}
	for _, user := range []string{adminB, owner, dev, viewer} {
		if err := readsNothing(user); err != nil {
			t.Error(err)
		}
	}
	if err := asA.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("A listing secrets: want 403, got %v", err)
	}

	// The grants are the objects' own (garbage collection takes them with the objects), and
	// name A alone.
	for _, o := range []struct {
		owner  client.Object
		secret string
	}{{key, key.Status.SecretRef.Name}, {wh, wh.Status.SecretRef.Name}} {
		rb := &rbacv1.RoleBinding{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "qual-read-" + o.secret}, rb); err != nil {
			t.Fatal(err)
		}
		if !metav1.IsControlledBy(rb, o.owner) || len(rb.Subjects) != 1 || rb.Subjects[0].Kind != rbacv1.UserKind || rb.Subjects[0].Name != adminA {
			t.Errorf("binding %s: owners %+v, subjects %+v", rb.Name, rb.OwnerReferences, rb.Subjects)
		}
	}

	// A key without its grant (one made before grants existed, or whose grant was deleted)
	// gets it at its next reconcile, which every key has when the manager starts.
	grant := &rbacv1.RoleBinding{}
	grantKey := client.ObjectKey{Namespace: ns, Name: "qual-read-" + key.Status.SecretRef.Name}
	if err := k8s.Get(ctx, grantKey, grant); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, grant); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the grant is put back", func() error {
		again := &rbacv1.RoleBinding{}
		if err := k8s.Get(ctx, grantKey, again); err != nil {
			return err
		}
		if again.UID == grant.UID {
			return errors.New("the old grant is still there")
		}
		return asA.Get(ctx, secrets[0], &corev1.Secret{})
	})

	// A leaves: the key they made is revoked (its plaintext deleted), and the grants go, so
	// A reads neither, the signing secret (which goes on signing) included.
	team.Spec.Members = slices.DeleteFunc(team.Spec.Members, func(m qualv1alpha1.TeamMember) bool { return m.Email == adminA })
	if err := k8s.Update(ctx, team); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionFalse, "Revoked")
	eventually(t, "A reads nothing", func() error { return readsNothing(adminA) })
	if err := k8s.Get(ctx, secrets[1], &corev1.Secret{}); err != nil {
		t.Errorf("the webhook's signing secret: %v", err)
	}
}

// A webhook naming a Secret in spec.secretRef gets no grant on it: otherwise whoever may write
// Webhooks could read any Secret of the namespace, another key's plaintext included, by
// naming it. (The controller stalls on a Secret that holds no signing secret anyway; this one
// holds one.)
func TestANamedSigningSecretIsGrantedToNoOne(t *testing.T) {
	ctx := context.Background()
	team, asAdmin, admin := adminTeam(t, "named")
	ns := team.Status.Namespace
	own := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "platform-signing", Namespace: ns},
		StringData: map[string]string{"secret": "whsec_c2lnbmluZy1zZWNyZXQtb2YtdGhlLXBsYXRmb3Jt"}}
	if err := k8s.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	wh := newWebhook(ns, "named")
	wh.Spec.SecretRef = &qualv1alpha1.LocalSecretReference{Name: own.Name}
	if err := asAdmin.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	if err := asAdmin.Get(ctx, client.ObjectKeyFromObject(own), &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("%s reading the Secret its webhook names: want 403, got %v", admin, err)
	}
	bindings := &rbacv1.RoleBindingList{}
	if err := k8s.List(ctx, bindings, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, rb := range bindings.Items {
		if metav1.IsControlledBy(&rb, wh) {
			t.Errorf("binding %s grants %+v", rb.Name, rb.Subjects)
		}
	}
}

// canRead waits until user's get of each Secret is answered as want says: allowed, or 403.
func canRead(t *testing.T, user string, want bool, secrets ...client.ObjectKey) {
	t.Helper()
	c := clientAs(t, user)
	eventually(t, fmt.Sprintf("%s reads the secrets: %v", user, want), func() error {
		for _, s := range secrets {
			err := c.Get(context.Background(), s, &corev1.Secret{})
			if want && err != nil {
				return err
			}
			if !want && err == nil {
				return fmt.Errorf("secret %s was read, want 403", s.Name)
			}
			if !want && !apierrors.IsForbidden(err) {
				return fmt.Errorf("reading secret %s: want 403, got %w", s.Name, err)
			}
		}
		return nil
	})
}

// A deleted team's plaintexts are no longer its managers' to read, while its namespace is
// Terminating too (for good where no namespace controller runs, as here and in `qual dev`):
// the key and webhook stall with NoTeam, and their reader grants go with that (sweep 32 D5:
// they stayed, as the grant was looked at only when every step before it passed).
func TestAReaderGrantEndsWithItsTeam(t *testing.T) {
	ctx := context.Background()
	team, asAdmin, admin := adminTeam(t, "ended")
	ns := team.Status.Namespace
	key, wh := keyIn(ns, "ci", qualv1alpha1.KeySecret), newWebhook(ns, "hook")
	for _, obj := range []client.Object{key, wh} {
		if err := asAdmin.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	secrets := []client.ObjectKey{{Namespace: ns, Name: key.Status.SecretRef.Name}, {Namespace: ns, Name: wh.Status.SecretRef.Name}}
	canRead(t, admin, true, secrets...)

	if err := k8s.Delete(ctx, team); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionFalse, controllers.ReasonNoTeam)
	waitWebhook(t, wh, metav1.ConditionFalse, controllers.ReasonNoTeam)
	namespace := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: ns}, namespace); err != nil || namespace.DeletionTimestamp.IsZero() {
		t.Fatalf("namespace %s should be Terminating (%v)", ns, err)
	}
	canRead(t, admin, false, secrets...)
}

// A key that stalls (a credential another key held first, a Secret not its own) grants no
// one its Secret: the grant a deleted key of the same name left behind (nothing collects
// garbage here, as in `qual dev`) is taken away by the stalled key, not left to its creator.
func TestAStalledKeyGrantsNoReader(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, reason string
		sameHash     bool
	}{{"credential-in-use", "CredentialInUse", true}, {"secret-conflict", "SecretConflict", false}} {
		t.Run(c.name, func(t *testing.T) {
			team, asAdmin, admin := adminTeam(t, "stalled")
			ns := team.Status.Namespace
			first := keyIn(ns, "ci", qualv1alpha1.KeySecret)
			if err := asAdmin.Create(ctx, first); err != nil {
				t.Fatal(err)
			}
			waitKey(t, first, metav1.ConditionTrue, "Active")
			secret := client.ObjectKey{Namespace: ns, Name: first.Status.SecretRef.Name}
			canRead(t, admin, true, secret)
			deleteAndForget(t, first)

			again := keyIn(ns, first.Name, qualv1alpha1.KeySecret)
			if c.sameHash {
				again.Spec.Credential = &qualv1alpha1.APIKeyCredential{HashRef: first.Status.HashRef,
					Prefix: first.Status.Prefix, LastFour: first.Status.LastFour}
			}
			if err := asAdmin.Create(ctx, again); err != nil {
				t.Fatal(err)
			}
			waitKey(t, again, metav1.ConditionFalse, c.reason)
			canRead(t, admin, false, secret)
			grant := &rbacv1.RoleBinding{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "qual-read-" + secret.Name}, grant); !apierrors.IsNotFound(err) {
				t.Fatalf("the grant on %s: want it gone, got %+v (%v)", secret.Name, grant.Subjects, err)
			}
		})
	}
}
