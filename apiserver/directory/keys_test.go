package directory

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/store"
)

// keyNaming is an APIKey in ns whose spec.credential names the hash of token, made at made.
func keyNaming(uid, ns, token string, made time.Time) *qualv1alpha1.APIKey {
	k := keys.Describe(token)
	return &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: uid, Namespace: ns, UID: types.UID(uid), CreationTimestamp: metav1.NewTime(made)},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: k.HashRef, Prefix: k.Prefix, LastFour: k.LastFour}},
	}
}

func answers(t *testing.T, d *Directory, token, step, want string) {
	t.Helper()
	k, ok := d.KeyByToken(token)
	switch {
	case want == "" && ok:
		t.Fatalf("%s: the token answers as %s, want none", step, k.Object.UID)
	case want != "" && (!ok || string(k.Object.UID) != want):
		t.Fatalf("%s: the token answers as %v (%v), want %s", step, k, ok, want)
	}
}

// A key's hash is readable by whoever reads its team's keys. Another APIKey naming it, in
// another team or the same one, must not take the key over, revive it once revoked, or
// inherit its token; whatever order the informer delivers them in.
func TestACopiedHashTakesNoKeyOver(t *testing.T) {
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	token, made := minted.Plaintext, time.Now().Add(-time.Hour)
	victim := keyNaming("victim", "team-a", token, made)
	copied := keyNaming("copy", "team-b", token, made.Add(time.Minute))

	for _, order := range [][]*qualv1alpha1.APIKey{{victim, copied}, {copied, victim}} {
		d := New()
		for _, k := range order {
			d.Observe(k)
		}
		answers(t, d, token, "both observed", "victim")
		d.onKeyDelete(copied)
		answers(t, d, token, "the copy deleted", "victim")
	}

	// Creation times are whole seconds: of two keys made in the same one, neither answers.
	d := New()
	d.Observe(victim)
	d.Observe(keyNaming("twin", "team-b", token, made))
	answers(t, d, token, "a twin of the same second", "")

	// A revoked key stays revoked: its token answers as the revoked key, not a new copy.
	d = New()
	revoked := victim.DeepCopy()
	revoked.Spec.Revoked = true
	d.Observe(revoked)
	d.Observe(copied)
	if k, ok := d.KeyByToken(token); !ok || k.Usable(time.Now()) {
		t.Fatalf("a copy revived the revoked key: %+v %v", k, ok)
	}

	// A copy the controller marked conflicting never answers, not even once the original is gone.
	marked := copied.DeepCopy()
	marked.Status.Conditions = []metav1.Condition{{Type: qualv1alpha1.ConditionCredentialConflict, Status: metav1.ConditionTrue,
		Reason: "CredentialInUse", LastTransitionTime: metav1.Now()}}
	d.Observe(marked)
	d.onKeyDelete(revoked)
	answers(t, d, token, "the original deleted, the copy marked", "")
}

// Only the key that answers for a credential holds it, and REST shows only such keys: not a
// copy, nor either of two made in the same second. A key whose credential the controller has
// not minted yet copies nothing.
func TestHoldsCredential(t *testing.T) {
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	made := time.Now().Add(-time.Hour)
	d := New()
	victim, copied := keyNaming("victim", "team-a", minted.Plaintext, made), keyNaming("copy", "team-a", minted.Plaintext, made.Add(time.Minute))
	minting := keyNaming("minting", "team-a", minted.Plaintext, made)
	minting.Spec.Credential = nil
	for _, k := range []*qualv1alpha1.APIKey{copied, victim, minting} {
		d.Observe(k)
	}
	holds := func(uid string) bool {
		k, ok := d.KeyByUID(uid)
		return ok && d.HoldsCredential(k)
	}
	if !holds("victim") || holds("copy") || !holds("minting") {
		t.Fatalf("victim %v, copy %v, minting %v; want true, false, true", holds("victim"), holds("copy"), holds("minting"))
	}
	d.Observe(keyNaming("twin", "team-a", minted.Plaintext, made))
	if holds("victim") || holds("twin") {
		t.Fatal("of two keys made in the same second, one holds the credential")
	}
}

// A revoked key stays revoked once its APIKey is deleted: an APIKey re-created naming its
// hash is the only key naming it then, but the ledger remembers which key held it first, and
// the re-created one never authenticates, on a replica that saw the first authenticate or on
// one that never did (two directories on one store). A key deleted unrevoked is the same.
func TestARecreatedKeyNeverAuthenticates(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "qual.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	seen, unseen := NewWithLedger(db), NewWithLedger(db)
	authenticates := func(d *Directory, token, step, want string) {
		t.Helper()
		k, ok, err := d.KeyForToken(ctx, token)
		switch {
		case err != nil:
			t.Fatalf("%s: %v", step, err)
		case want == "" && ok:
			t.Fatalf("%s: the token authenticates as %s, want none", step, k.Object.UID)
		case want != "" && (!ok || string(k.Object.UID) != want):
			t.Fatalf("%s: the token authenticates as %v (%v), want %s", step, k, ok, want)
		}
	}
	made := time.Now().Add(-time.Hour)
	for _, revoke := range []bool{true, false} {
		minted, err := keys.Mint(qualv1alpha1.KeySecret)
		if err != nil {
			t.Fatal(err)
		}
		token := minted.Plaintext
		first := keyNaming(fmt.Sprintf("first-%v", revoke), "team-a", token, made)
		for _, d := range []*Directory{seen, unseen} {
			d.Observe(first)
		}
		authenticates(seen, token, "the first key", string(first.UID))
		if revoke {
			first = first.DeepCopy()
			first.Spec.Revoked = true
			for _, d := range []*Directory{seen, unseen} {
				d.Observe(first)
			}
		}
		again := keyNaming(fmt.Sprintf("again-%v", revoke), "team-a", token, made.Add(time.Minute))
		for _, d := range []*Directory{seen, unseen} {
			d.onKeyDelete(first)
			d.Observe(again)
			answers(t, d, token, "re-created", string(again.UID)) // the only key naming the hash now
			authenticates(d, token, "re-created", "")
			if k, _ := d.KeyByUID(string(again.UID)); d.HoldsCredential(k) {
				t.Fatalf("revoked %v: REST shows the re-created key", revoke)
			}
		}
	}

	// A key that exists before the ledger does is claimed by its first request; a fresh key
	// authenticates on either replica.
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	fresh := keyNaming("fresh", "team-a", minted.Plaintext, made)
	for _, d := range []*Directory{unseen, seen} {
		d.Observe(fresh)
		authenticates(d, minted.Plaintext, "a fresh key", "fresh")
	}
}

// ledgerDown fails every claim.
type ledgerDown struct{}

func (ledgerDown) ClaimCredential(context.Context, string, string) (string, error) {
	return "", errors.New("database unreachable")
}

// A key whose first holder cannot be learnt does not authenticate: the failure is the
// caller's to answer (503), never a pass.
func TestAKeyIsNotTakenOnTrustWhileTheLedgerIsDown(t *testing.T) {
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	d := NewWithLedger(ledgerDown{})
	d.Observe(keyNaming("k", "team-a", minted.Plaintext, time.Now()))
	if k, ok, err := d.KeyForToken(context.Background(), minted.Plaintext); err == nil || ok || k != nil {
		t.Fatalf("got %v %v %v, want an error", k, ok, err)
	}
}
