package directory

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// publicKey is a public APIKey listing origins (none: any origin).
func publicKey(uid string, origins ...string) *qualv1alpha1.APIKey {
	return &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: uid, Namespace: "team-a", UID: types.UID(uid)},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeyPublic, AllowedOrigins: origins,
			Scopes: []qualv1alpha1.Scope{"campaigns:read"}},
	}
}

// expectOrigins checks PublicOriginAllowed for each origin: listed ones allowed, others not.
func expectOrigins(t *testing.T, d *Directory, step string, allowed []string, refused ...string) {
	t.Helper()
	for _, o := range allowed {
		if !d.PublicOriginAllowed(o) {
			t.Errorf("%s: %s refused, want allowed", step, o)
		}
	}
	for _, o := range refused {
		if d.PublicOriginAllowed(o) {
			t.Errorf("%s: %s allowed, want refused", step, o)
		}
	}
}

func TestOriginIndexFollowsKeyChanges(t *testing.T) {
	const a, b, c = "https://a.example", "https://b.example", "http://localhost:3000"
	d := New()
	expectOrigins(t, d, "empty", nil, a, b, c)

	k1 := publicKey("k1", a, "HTTPS://A.example") // the same origin twice, in two cases
	d.Observe(k1)
	expectOrigins(t, d, "k1 lists a", []string{a, "https://A.EXAMPLE"}, b, c)

	k2 := publicKey("k2", a, b)
	d.Observe(k2)
	expectOrigins(t, d, "k2 lists a and b", []string{a, b}, c)

	revoked := k1.DeepCopy()
	revoked.Spec.Revoked = true
	d.Observe(revoked)
	d.Observe(revoked) // a repeated event changes nothing
	expectOrigins(t, d, "k1 revoked, k2 still lists a", []string{a, b}, c)

	moved := k2.DeepCopy()
	moved.Spec.AllowedOrigins = []string{c}
	d.Observe(moved)
	expectOrigins(t, d, "k2 now lists only c", []string{c}, a, b)

	d.onKeyDelete(moved)
	d.onKeyDelete(moved) // a repeated delete changes nothing
	expectOrigins(t, d, "k2 deleted", nil, a, b, c)

	// Keys that are not public, or are expired, never open CORS, even listing no origins.
	secret := publicKey("secret")
	secret.Spec.Type = qualv1alpha1.KeySecret
	scoped := publicKey("scoped")
	scoped.Spec.Type = qualv1alpha1.KeyScoped
	past := publicKey("past")
	past.Spec.ExpiresAt = &metav1.Time{Time: time.Now().Add(-time.Minute)}
	marked := publicKey("marked")
	marked.Status.Conditions = []metav1.Condition{{Type: qualv1alpha1.ConditionExpired, Status: metav1.ConditionTrue}}
	for _, k := range []*qualv1alpha1.APIKey{secret, scoped, past, marked} {
		d.Observe(k)
	}
	expectOrigins(t, d, "secret, scoped and expired keys", nil, a, "https://anything.example")

	// A usable public key listing no origins accepts any, until it expires or goes away.
	anyOrigin := publicKey("any")
	anyOrigin.Spec.ExpiresAt = &metav1.Time{Time: time.Now().Add(time.Hour)}
	d.Observe(anyOrigin)
	expectOrigins(t, d, "a key for any origin", []string{a, "https://anything.example"})
	expired := anyOrigin.DeepCopy()
	expired.Status.Conditions = []metav1.Condition{{Type: qualv1alpha1.ConditionExpired, Status: metav1.ConditionTrue}}
	d.Observe(expired)
	expectOrigins(t, d, "the controller marked it expired", nil, a)
	d.Observe(anyOrigin) // an older copy, as a relist may deliver: counted once again, not twice
	leaving := anyOrigin.DeepCopy()
	leaving.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	d.Observe(leaving)
	expectOrigins(t, d, "a key on its way out", nil, a, "https://anything.example")

	if d.origins.anyOrigin != 0 || len(d.origins.byOrigin) != 0 {
		t.Fatalf("index not empty after every key left: %+v", d.origins)
	}
}

// TestOriginIndexMatchesAScan drives random adds, updates, revocations and deletes and
// compares every answer with a scan of the keys the directory holds, the definition the index
// replaces.
func TestOriginIndexMatchesAScan(t *testing.T) {
	origins := []string{"https://a.example", "https://B.example", "https://c.example", "http://localhost:8080"}
	rng := rand.New(rand.NewPCG(1, 2))
	d := New()
	live := map[string]*qualv1alpha1.APIKey{}
	for step := range 5000 {
		uid := fmt.Sprint("k", rng.IntN(12))
		switch op := rng.IntN(10); {
		case op < 6: // add or update, sometimes listing nothing, sometimes revoked or secret
			k := publicKey(uid)
			for _, o := range origins {
				if rng.IntN(3) == 0 {
					k.Spec.AllowedOrigins = append(k.Spec.AllowedOrigins, o)
				}
			}
			if old, ok := live[uid]; ok && old.Spec.Revoked {
				k.Spec.Revoked = true // revocation is permanent
			}
			k.Spec.Revoked = k.Spec.Revoked || rng.IntN(5) == 0
			if rng.IntN(6) == 0 {
				k.Spec.Type = qualv1alpha1.KeySecret
			}
			d.Observe(k)
			live[uid] = k
		default:
			if k, ok := live[uid]; ok {
				d.onKeyDelete(k)
				delete(live, uid)
			}
		}
		for _, o := range append(origins, "https://b.example", "https://nobody.example") {
			if got, want := d.PublicOriginAllowed(o), scanOrigins(live, o); got != want {
				t.Fatalf("step %d: PublicOriginAllowed(%s) = %v, a scan says %v", step, o, got, want)
			}
		}
	}
}

// scanOrigins is the definition: some public, non-revoked key lists origin or lists none.
func scanOrigins(keys map[string]*qualv1alpha1.APIKey, origin string) bool {
	for _, k := range keys {
		if k.Spec.Type != qualv1alpha1.KeyPublic || k.Spec.Revoked {
			continue
		}
		if len(k.Spec.AllowedOrigins) == 0 {
			return true
		}
		for _, o := range k.Spec.AllowedOrigins {
			if strings.EqualFold(o, origin) {
				return true
			}
		}
	}
	return false
}

// BenchmarkPublicOriginAllowed is what a CORS preflight pays to find its origin, with 10 and
// with 100,000 public keys each listing an origin of its own: a hit, and a miss (an origin no
// key lists, which is what a flood of made-up origins costs).
//
//	go test -run '^$' -bench PublicOriginAllowed -benchmem ./apiserver/directory/
func BenchmarkPublicOriginAllowed(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		d := New()
		for i := range n {
			d.Observe(publicKey(fmt.Sprint("key-", i), fmt.Sprintf("https://app-%d.example", i)))
		}
		for _, c := range []struct {
			name, origin string
			want         bool
		}{
			{"hit", fmt.Sprintf("https://app-%d.example", n/2), true},
			{"miss", "https://nobody.example", false},
		} {
			b.Run(fmt.Sprintf("keys=%d/%s", n, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if d.PublicOriginAllowed(c.origin) != c.want {
						b.Fatal("wrong answer")
					}
				}
			})
		}
	}
}
