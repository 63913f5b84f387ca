package apiserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/ratelimit"
)

// A revoked credential stays dead once its APIKey is deleted: an APIKey re-created naming the
// same hash (a GitOps tool re-applying an old manifest, an admin undoing an offboarding) is
// the only key naming it then, but the store remembers the key that held it first, so the
// old plaintext is 401 for good. So is a key deleted without being revoked and re-created the
// same way; a fresh key still works. Each store backend is served by two replicas, and the
// second, which never saw the first key authenticate, agrees with the first.
func TestARecreatedKeyDoesNotReviveItsCredential(t *testing.T) {
	tn := newTenant(t, "revive", qualv1alpha1.PlanEnterprise)
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			replicaCtx, stop := context.WithCancel(ctx)
			t.Cleanup(stop)
			srv, err := startStack(replicaCtx, ratelimit.NewMemory(), false, b.db)
			if err != nil {
				t.Fatal(err)
			}
			second := httptest.NewServer(srv.Handler())
			t.Cleanup(second.Close)
			replicas := []string{b.url, second.URL}
			for _, revoke := range []bool{true, false} {
				name := fmt.Sprintf("%s-revoked-%v", b.name, revoke)
				token := makeKey(t, tn.team, name, qualv1alpha1.KeySecret, nil)
				waitFor(t, name+" usable at the first replica", func() error { return authorizedAt(t, b.url, "/api/v1/me", token) })
				old := &qualv1alpha1.APIKey{}
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: "team-" + tn.team.Name, Name: name}, old); err != nil {
					t.Fatal(err)
				}
				if revoke {
					patch := client.MergeFrom(old.DeepCopy())
					old.Spec.Revoked = true
					if err := k8s.Patch(ctx, old, patch); err != nil {
						t.Fatal(err)
					}
					waitFor(t, name+" refused", func() error { return refusedAt(t, b.url, token) })
				}
				if err := k8s.Delete(ctx, old); err != nil {
					t.Fatal(err)
				}
				again := &qualv1alpha1.APIKey{
					ObjectMeta: metav1.ObjectMeta{Name: name + "-again", Namespace: old.Namespace},
					Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Owner: tn.ownerMail,
						Credential: old.Spec.Credential},
				}
				if err := k8s.Create(ctx, again); err != nil {
					t.Fatal(err)
				}
				// A key made after the re-created one is known once it is: informer events
				// come in order.
				marker := makeKey(t, tn.team, name+"-marker", qualv1alpha1.KeySecret, nil)
				for _, url := range replicas {
					waitFor(t, "the marker key usable at "+url, func() error { return authorizedAt(t, url, "/api/v1/me", marker) })
					callAt(t, url, "GET", "/api/v1/me", token, nil).expectError(t, 401, "UNAUTHORIZED")
				}
			}
			fresh := makeKey(t, tn.team, b.name+"-fresh", qualv1alpha1.KeySecret, nil)
			for _, url := range replicas {
				waitFor(t, "a fresh key usable at "+url, func() error { return authorizedAt(t, url, "/api/v1/me", fresh) })
			}
			// The store recorded the fresh key as its credential's first holder: the first
			// request on either replica claimed it (or the controller did, on the store it
			// writes to).
			holder, err := b.db.ClaimCredential(ctx, keys.HashRef(fresh), "someone-else")
			if err != nil || holder == "someone-else" {
				t.Fatalf("the fresh key's claim: %q, %v", holder, err)
			}
		})
	}
}

// refusedAt is nil once token is refused (401) by the replica at base.
func refusedAt(t *testing.T, base, token string) error {
	req, err := http.NewRequest("GET", base+"/api/v1/me", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if r := send(t, pollClient, req); r.status != http.StatusUnauthorized {
		return fmt.Errorf("%d %s", r.status, r.body)
	}
	return nil
}
