package storetest

import (
	"sync"
	"testing"

	"qual.cx/operator/internal/store"
)

// testCredentialClaims: the first key to claim a hash holds it for good. A later claim, by
// a key re-created naming it, reads the first; claims racing from many callers, and from two
// stores on one database (two replicas), all read the same winner; the empty hash or key is
// refused.
func testCredentialClaims(t *testing.T, newDSN NewDSN) {
	dsn := newDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	f := setup(t, func(*testing.T) string { return dsn })
	const hash = "sha256:0123"
	if got := must(f.s.ClaimCredential(f.ctx, hash, "first"))(t); got != "first" {
		t.Fatalf("first claim: %q", got)
	}
	for _, s := range []store.Store{f.s, a, b} {
		if got := must(s.ClaimCredential(f.ctx, hash, "re-created"))(t); got != "first" {
			t.Fatalf("a later claim: %q, want first", got)
		}
	}
	if got := must(a.ClaimCredential(f.ctx, "sha256:4567", "other"))(t); got != "other" {
		t.Fatalf("another hash: %q", got)
	}

	const racers = 16
	got := make([]string, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			s := []store.Store{a, b}[i%2]
			uid := string(rune('a' + i))
			var err error
			if got[i], err = s.ClaimCredential(f.ctx, "sha256:race", uid); err != nil {
				t.Errorf("claim %s: %v", uid, err)
			}
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || got[i] == "" {
			t.Fatalf("racing claims read %q, want one winner", got)
		}
	}

	_, err := a.ClaimCredential(f.ctx, "", "k")
	isErr(t, err, store.ErrInvalidInput)
	_, err = a.ClaimCredential(f.ctx, hash, "")
	isErr(t, err, store.ErrInvalidInput)
}
