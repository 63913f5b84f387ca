package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/keyindex"
	"qual.cx/operator/internal/keys"
)

const keyNS = "apikeys-test"

func newKey(name string, typ qualv1alpha1.APIKeyType, scopes ...qualv1alpha1.Scope) *qualv1alpha1.APIKey {
	return &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: keyNS},
		Spec:       qualv1alpha1.APIKeySpec{Type: typ, Scopes: scopes},
	}
}

func waitKey(t *testing.T, key *qualv1alpha1.APIKey, ready metav1.ConditionStatus, reason string) {
	t.Helper()
	eventually(t, "key "+reason, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(key), key); err != nil {
			return err
		}
		if key.Status.ObservedGeneration != key.Generation {
			return errors.New("generation not observed yet")
		}
		return conditionIs(key.Status.Conditions, qualv1alpha1.ConditionReady, ready, reason)
	})
}

func TestAPIKeyAppliedWithKubectlIsMinted(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	for _, typ := range []qualv1alpha1.APIKeyType{qualv1alpha1.KeySecret, qualv1alpha1.KeyPublic, qualv1alpha1.KeyScoped} {
		key := newKey(uniqueName("minted-"+string(typ)), typ, "campaigns:read")
		if err := k8s.Create(ctx, key); err != nil {
			t.Fatal(err)
		}
		waitKey(t, key, metav1.ConditionTrue, "Active")

		secret := &corev1.Secret{}
		if key.Status.SecretRef == nil {
			t.Fatalf("%s: no secretRef in status", typ)
		}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: keyNS, Name: key.Status.SecretRef.Name}, secret); err != nil {
			t.Fatal(err)
		}
		plaintext := string(secret.Data[controllers.APIKeySecretKey])
		if got, err := keys.Parse(plaintext); err != nil || got != typ {
			t.Fatalf("%s: secret holds %q (%v)", typ, plaintext, err)
		}
		want := keys.Describe(plaintext)
		if key.Status.HashRef != want.HashRef || key.Status.Prefix != want.Prefix || key.Status.LastFour != want.LastFour {
			t.Fatalf("%s: status %+v does not describe the minted key", typ, key.Status)
		}
		if !metav1.IsControlledBy(secret, key) || secret.Immutable == nil || !*secret.Immutable {
			t.Fatalf("%s: secret must be owned by the key and immutable: %+v", typ, secret.ObjectMeta)
		}
		// The field index finds the key in the cache by the hash of the bearer token.
		found := &qualv1alpha1.APIKeyList{}
		if err := mgrClient.List(ctx, found, client.MatchingFields{keyindex.HashField: keys.HashRef(plaintext)}); err != nil {
			t.Fatal(err)
		}
		if len(found.Items) != 1 || found.Items[0].UID != key.UID {
			t.Fatalf("%s: index lookup found %d keys", typ, len(found.Items))
		}
		reconcileIsSteady(t, reconcilers.APIKey, key)
	}
}

// A key's hash is readable by whoever reads its team's keys: another APIKey naming it is
// refused for good, in any namespace, a team's or not (a copy parked outside a team must not
// pass once its namespace becomes one's), and the original stays as it was.
func TestAPIKeyCopyingAnotherKeysHashIsRefused(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	ensureNamespace(t, keyNS+"-other")
	original := newKey(uniqueName("original"), qualv1alpha1.KeySecret, "campaigns:read")
	if err := k8s.Create(ctx, original); err != nil {
		t.Fatal(err)
	}
	waitKey(t, original, metav1.ConditionTrue, "Active")
	time.Sleep(1100 * time.Millisecond) // creation times are whole seconds: a copy is made later
	for _, ns := range []string{keyNS + "-other", keyNS} {
		copied := newKey(uniqueName("copy"), qualv1alpha1.KeyScoped, "campaigns:read", "campaigns:write")
		copied.Namespace = ns
		copied.Spec.Credential = &qualv1alpha1.APIKeyCredential{HashRef: original.Status.HashRef,
			Prefix: "qual_scope_x", LastFour: original.Status.LastFour}
		if err := k8s.Create(ctx, copied); err != nil {
			t.Fatal(err)
		}
		waitKey(t, copied, metav1.ConditionFalse, "CredentialInUse")
		if !meta.IsStatusConditionTrue(copied.Status.Conditions, qualv1alpha1.ConditionCredentialConflict) {
			t.Fatalf("%s: conditions %+v", ns, copied.Status.Conditions)
		}
		waitKey(t, original, metav1.ConditionTrue, "Active")
		// It stays refused once the original is gone.
		if ns == keyNS {
			if err := k8s.Delete(ctx, original); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the cache forgets the original", func() error {
				err := mgrClient.Get(ctx, client.ObjectKeyFromObject(original), &qualv1alpha1.APIKey{})
				if apierrors.IsNotFound(err) {
					return nil
				}
				return errors.Join(errors.New("still cached"), err)
			})
			_, _ = reconcilers.APIKey.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(copied)})
			waitKey(t, copied, metav1.ConditionFalse, "CredentialInUse")
			if !meta.IsStatusConditionTrue(copied.Status.Conditions, qualv1alpha1.ConditionCredentialConflict) {
				t.Fatalf("the conflict cleared once the original was gone: %+v", copied.Status.Conditions)
			}
		}
	}
}

// An APIKey re-created naming the hash of one that was deleted, revoked or not, is the only
// key naming it then, but the store remembers which key held it first: the re-created one is
// refused for good (CredentialInUse, CredentialConflict) and records no credential, whether
// the first was minted by the controller or carried its own credential.
func TestAPIKeyRecreatedWithADeletedKeysHashIsRefused(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	for _, c := range []struct {
		name            string
		minted, revoked bool
	}{{"minted-revoked", true, true}, {"minted-deleted", true, false}, {"carried-revoked", false, true}, {"carried-deleted", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			first := newKey(uniqueName(c.name), qualv1alpha1.KeySecret)
			if !c.minted {
				minted, err := keys.Mint(qualv1alpha1.KeySecret)
				if err != nil {
					t.Fatal(err)
				}
				first.Spec.Credential = &qualv1alpha1.APIKeyCredential{HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour}
			}
			if err := k8s.Create(ctx, first); err != nil {
				t.Fatal(err)
			}
			waitKey(t, first, metav1.ConditionTrue, "Active")
			if c.revoked {
				patch := client.MergeFrom(first.DeepCopy())
				first.Spec.Revoked = true
				if err := k8s.Patch(ctx, first, patch); err != nil {
					t.Fatal(err)
				}
				waitKey(t, first, metav1.ConditionFalse, "Revoked")
			}
			credential := &qualv1alpha1.APIKeyCredential{HashRef: first.Status.HashRef, Prefix: first.Status.Prefix, LastFour: first.Status.LastFour}
			deleteAndForget(t, first)
			again := newKey(first.Name, qualv1alpha1.KeySecret)
			again.Spec.Credential = credential
			if err := k8s.Create(ctx, again); err != nil {
				t.Fatal(err)
			}
			waitKey(t, again, metav1.ConditionFalse, "CredentialInUse")
			if !meta.IsStatusConditionTrue(again.Status.Conditions, qualv1alpha1.ConditionCredentialConflict) || again.Status.HashRef != "" {
				t.Fatalf("the re-created key: %+v", again.Status)
			}
			reconcileIsSteady(t, reconcilers.APIKey, again)
		})
	}
}

func TestAPIKeyWithPrecomputedHashGetsNoSecret(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(uniqueName("rest"), qualv1alpha1.KeySecret)
	key.Spec.Credential = &qualv1alpha1.APIKeyCredential{HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour}
	if err := k8s.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")
	if key.Status.HashRef != minted.HashRef || key.Status.SecretRef != nil {
		t.Fatalf("status %+v", key.Status)
	}
	secrets := &corev1.SecretList{}
	if err := k8s.List(ctx, secrets, client.InNamespace(keyNS), client.MatchingLabels{"qual.cx/apikey": key.Name}); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 0 {
		t.Fatalf("a key minted outside got %d secrets", len(secrets.Items))
	}
	reconcileIsSteady(t, reconcilers.APIKey, key)
}

func TestAPIKeyExpires(t *testing.T) {
	ensureTeamNamespace(t, keyNS)
	key := newKey(uniqueName("expiring"), qualv1alpha1.KeySecret)
	expires := metav1.NewTime(time.Now().Add(5 * time.Second).Truncate(time.Second))
	key.Spec.ExpiresAt = &expires
	if err := k8s.Create(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")
	if err := conditionIs(key.Status.Conditions, qualv1alpha1.ConditionExpired, metav1.ConditionFalse, "NotExpired"); err != nil {
		t.Fatal(err)
	}
	// Nothing changes the object: only the requeue at the expiry time can flip it.
	waitKey(t, key, metav1.ConditionFalse, "Expired")
	if err := conditionIs(key.Status.Conditions, qualv1alpha1.ConditionExpired, metav1.ConditionTrue, "Expired"); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, key, "Expired")
	reconcileIsSteady(t, reconcilers.APIKey, key)
}

func TestAPIKeyRevocationIsPermanentAndDropsThePlaintext(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	key := newKey(uniqueName("revoked"), qualv1alpha1.KeySecret)
	if err := k8s.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")
	secretName := key.Status.SecretRef.Name
	hash := key.Status.HashRef

	patch := client.MergeFrom(key.DeepCopy())
	key.Spec.Revoked = true
	if err := k8s.Patch(ctx, key, patch); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionFalse, "Revoked")
	if key.Status.RevokedAt == nil || key.Status.HashRef != hash || key.Status.SecretRef != nil {
		t.Fatalf("revoked status %+v", key.Status)
	}
	eventually(t, "plaintext deleted", func() error {
		return gone(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: keyNS, Name: secretName}})
	})
	expectEvent(t, key, "Revoked")
	reconcileIsSteady(t, reconcilers.APIKey, key)

	patch = client.MergeFrom(key.DeepCopy())
	key.Spec.Revoked = false
	if err := k8s.Patch(ctx, key, patch); err == nil {
		t.Fatal("un-revoking a key must be refused")
	}
}

// A public key without scopes, which the schema took before it asked public keys to list
// theirs, is kept as it is, but can be changed no further than to revoke it.
func TestScopelessPublicKeyFromBeforeTheRuleCanBeRevoked(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	key := newKey(uniqueName("scopeless"), qualv1alpha1.KeyPublic)
	rule := "a public key must list its scopes"
	restore := liftRules(t, schemaRules{crd: "apikeys.qual.cx", path: []string{"spec"}, messages: []string{rule}}, key)
	eventually(t, "a public key without scopes is stored", func() error { return k8s.Create(ctx, key.DeepCopy()) })
	restore()
	waitKey(t, key, metav1.ConditionTrue, "Active")
	renamed := key.DeepCopy()
	renamed.Spec.DisplayName = "Renamed"
	if err := k8s.Update(ctx, renamed); err == nil || !strings.Contains(err.Error(), rule) {
		t.Fatalf("renaming it: %v, want %q", err, rule)
	}
	patch := client.MergeFrom(key.DeepCopy())
	key.Spec.Revoked = true
	if err := k8s.Patch(ctx, key, patch); err != nil {
		t.Fatalf("revoking it: %v", err)
	}
	waitKey(t, key, metav1.ConditionFalse, "Revoked")
}

// A Secret under the name a key's would take, made by someone else, stalls the key rather
// than being taken over, whether or not it carries the operator's label: the cache only
// shows labelled Secrets, so an unlabelled squatter is found on the API server.
func TestAPIKeyStalledOnForeignSecret(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	for _, labels := range []map[string]string{{qualv1alpha1.LabelManagedBy: qualv1alpha1.ManagedByValue}, nil} {
		name := uniqueName("squatted")
		squatter := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: keyNS, Name: name + "-key", Labels: labels}}
		if err := k8s.Create(ctx, squatter); err != nil {
			t.Fatal(err)
		}
		key := newKey(name, qualv1alpha1.KeySecret)
		if err := k8s.Create(ctx, key); err != nil {
			t.Fatal(err)
		}
		waitKey(t, key, metav1.ConditionFalse, "SecretConflict")
		if key.Status.HashRef != "" {
			t.Fatalf("a key must not take over a secret it does not own: %+v", key.Status)
		}
		if err := conditionIs(key.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "SecretConflict"); err != nil {
			t.Fatal(err)
		}
	}
}

// A key's own Secret that lost its label is invisible to the cache but still there: the key
// stalls saying so, and mints no second plaintext; with the label back it is Active again
// with the same Secret.
func TestAPIKeyWithUnlabelledSecretStallsThenRecovers(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	key := newKey(uniqueName("unlabelled"), qualv1alpha1.KeySecret, "campaigns:read")
	if err := k8s.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, metav1.ConditionTrue, "Active")
	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: keyNS, Name: key.Status.SecretRef.Name}, secret); err != nil {
		t.Fatal(err)
	}
	minted := string(secret.Data[controllers.APIKeySecretKey])
	relabel := func(value string) {
		t.Helper()
		patch := client.MergeFrom(secret.DeepCopy())
		if value == "" {
			delete(secret.Labels, qualv1alpha1.LabelManagedBy)
		} else {
			secret.Labels[qualv1alpha1.LabelManagedBy] = value
		}
		if err := k8s.Patch(ctx, secret, patch); err != nil {
			t.Fatal(err)
		}
	}
	relabel("")
	waitKey(t, key, metav1.ConditionFalse, "SecretUnlabelled")
	relabel(qualv1alpha1.ManagedByValue)
	waitKey(t, key, metav1.ConditionTrue, "Active")
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(secret), secret); err != nil || string(secret.Data[controllers.APIKeySecretKey]) != minted {
		t.Fatalf("the key's secret changed (%v)", err)
	}
}

// mintedCredential is the credential of a key minted outside the cluster, as REST or a
// creator with kubectl supplies it.
func mintedCredential(t *testing.T) *qualv1alpha1.APIKeyCredential {
	t.Helper()
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	return &qualv1alpha1.APIKeyCredential{HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour}
}

// inOneSecond runs create, which makes two APIKeys naming one fresh credential, until the API
// server stamps both with the same creation second (creation times are whole seconds): each
// try starts just after a second begins, and a pair that straddled two is deleted.
func inOneSecond(t *testing.T, create func() (a, b *qualv1alpha1.APIKey)) (a, b *qualv1alpha1.APIKey) {
	t.Helper()
	for range 5 {
		now := time.Now()
		time.Sleep(now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond).Sub(now))
		a, b := create()
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a, b
		}
		for _, k := range []*qualv1alpha1.APIKey{a, b} {
			if err := k8s.Delete(context.Background(), k); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatal("no two keys were made in one second in five tries")
	return nil, nil
}

// pokeKey changes a key's spec (its display name), which reconciles it again as any spec edit
// or a manager's start does, and waits until that pass is recorded.
func pokeKey(t *testing.T, key *qualv1alpha1.APIKey, ready metav1.ConditionStatus, reason string) {
	t.Helper()
	patch := client.MergeFrom(key.DeepCopy())
	key.Spec.DisplayName = "poked " + key.Name
	if err := k8s.Patch(context.Background(), key, patch); err != nil {
		t.Fatal(err)
	}
	waitKey(t, key, ready, reason)
}

// A copy of a key's hash made in the same second as the key, in another namespace, is refused
// (CredentialConflict), and the key the store records as the hash's first holder stays Active
// at its next reconciles: the copy, already marked, counts against it no more (sweep 32 D1:
// the original turned CredentialInUse, 401 for good, at its next spec edit or manager start).
func TestAPIKeySameSecondCopyLeavesTheFirstHolderActive(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	ensureNamespace(t, keyNS+"-other")
	original, copied := inOneSecond(t, func() (*qualv1alpha1.APIKey, *qualv1alpha1.APIKey) {
		credential := mintedCredential(t)
		original := newKey(uniqueName("first-holder"), qualv1alpha1.KeySecret, "campaigns:read")
		original.Spec.Credential = credential
		if err := k8s.Create(ctx, original); err != nil {
			t.Fatal(err)
		}
		// The store records the original first, as its first reconcile or its first request
		// through REST does before anyone can read its hash.
		if _, err := db.ClaimCredential(ctx, credential.HashRef, string(original.UID)); err != nil {
			t.Fatal(err)
		}
		copied := newKey(uniqueName("same-second-copy"), qualv1alpha1.KeySecret, "campaigns:read")
		copied.Namespace, copied.Spec.Credential = keyNS+"-other", credential
		if err := k8s.Create(ctx, copied); err != nil {
			t.Fatal(err)
		}
		return original, copied
	})
	waitKey(t, copied, metav1.ConditionFalse, "CredentialInUse")
	if !meta.IsStatusConditionTrue(copied.Status.Conditions, qualv1alpha1.ConditionCredentialConflict) {
		t.Fatalf("the copy: %+v", copied.Status.Conditions)
	}
	waitKey(t, original, metav1.ConditionTrue, "Active")
	for range 2 {
		pokeKey(t, original, metav1.ConditionTrue, "Active")
	}
	if keyindex.Conflicting(original) {
		t.Fatalf("the first holder was marked conflicting: %+v", original.Status.Conditions)
	}
	reconcileIsSteady(t, reconcilers.APIKey, original)
	reconcileIsSteady(t, reconcilers.APIKey, copied)
}

// Of two keys naming one hash made in the same second, neither older than the other, the one
// the store records first holds it (Active) and the other is refused for good
// (CredentialConflict), whichever the controller reconciles first, and their next reconciles
// change neither: not both refused, not the holder turned off by the key it beat.
func TestAPIKeysMadeInOneSecondLeaveTheFirstRecordedHolder(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	ensureNamespace(t, keyNS+"-other")
	a, b := inOneSecond(t, func() (*qualv1alpha1.APIKey, *qualv1alpha1.APIKey) {
		credential := mintedCredential(t)
		var pair []*qualv1alpha1.APIKey
		for _, ns := range []string{keyNS, keyNS + "-other"} {
			key := newKey(uniqueName("twin"), qualv1alpha1.KeySecret, "campaigns:read")
			key.Namespace, key.Spec.Credential = ns, credential
			if err := k8s.Create(ctx, key); err != nil {
				t.Fatal(err)
			}
			pair = append(pair, key)
		}
		return pair[0], pair[1]
	})
	hashRef := a.Spec.Credential.HashRef
	// settled says which key holds the hash once both are reconciled: one Active, the other
	// CredentialInUse and marked, and the holder the one the store records.
	settled := func() (holder, refused *qualv1alpha1.APIKey, err error) {
		for _, k := range []*qualv1alpha1.APIKey{a, b} {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(k), k); err != nil {
				return nil, nil, err
			}
			if k.Status.ObservedGeneration != k.Generation {
				return nil, nil, errors.New("generation not observed yet")
			}
			switch {
			case conditionIs(k.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Active") == nil && !keyindex.Conflicting(k):
				holder = k
			case conditionIs(k.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionFalse, "CredentialInUse") == nil && keyindex.Conflicting(k):
				refused = k
			}
		}
		if holder == nil || refused == nil {
			return nil, nil, fmt.Errorf("want one key Active and one CredentialInUse: %s %+v, %s %+v", a.Name, a.Status.Conditions, b.Name, b.Status.Conditions)
		}
		// A record stands by now, so this claim only reads it.
		first, err := db.ClaimCredential(ctx, hashRef, "a-probe-that-must-not-be-recorded")
		if err != nil {
			return nil, nil, err
		}
		if first != string(holder.UID) {
			return nil, nil, fmt.Errorf("the store records %q, the Active key is %s", first, holder.UID)
		}
		return holder, refused, nil
	}
	var holder, refused *qualv1alpha1.APIKey
	eventually(t, "one key holds the hash", func() (err error) {
		holder, refused, err = settled()
		return err
	})
	for range 2 {
		pokeKey(t, holder, metav1.ConditionTrue, "Active")
		pokeKey(t, refused, metav1.ConditionFalse, "CredentialInUse")
	}
	if h, r, err := settled(); err != nil || h.UID != holder.UID || r.UID != refused.UID {
		t.Fatalf("after their next reconciles: %v", err)
	}
}

// deleteAndForget deletes key and waits until the manager's cache no longer holds it, so a
// key made next under its name is a new object to the controller.
func deleteAndForget(t *testing.T, key *qualv1alpha1.APIKey) {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache forgets the key", func() error {
		err := mgrClient.Get(ctx, client.ObjectKeyFromObject(key), &qualv1alpha1.APIKey{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errors.Join(errors.New("still cached"), err)
	})
}
