package authn_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
)

// fixture is a directory holding one team, the namespace it claimed and one secret key, as
// the informers fill it, over a real (SQLite) store recording the first holder of each
// credential.
func fixture(tb testing.TB) (*directory.Directory, *directory.Team, string) {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "qual.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	dir := directory.NewWithLedger(db)
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "bench", UID: "team-uid"},
		Spec:   qualv1alpha1.TeamSpec{DisplayName: "Bench", Plan: qualv1alpha1.PlanEnterprise},
		Status: qualv1alpha1.TeamStatus{Namespace: "team-bench"}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-bench", Labels: map[string]string{qualv1alpha1.LabelTeamUID: "team-uid"}}}
	k, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		tb.Fatal(err)
	}
	key := &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Name: "k", Namespace: "team-bench", UID: "key-uid"},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: k.HashRef, Prefix: k.Prefix, LastFour: k.LastFour}}}
	dir.Observe(team)
	dir.Observe(ns)
	dir.Observe(key)
	t, _ := dir.TeamOfNamespace("team-bench")
	return dir, t, k.Plaintext
}

func TestAuthenticatesAKeyFromTheDirectory(t *testing.T) {
	dir, team, token := fixture(t)
	a := authn.New(dir, authn.Options{})
	req := httptest.NewRequest("GET", "/api/v1/campaigns", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	p, e := a.Authenticate(req)
	if e != nil || p.Key == nil || p.Memberships[0].Team != team {
		t.Fatalf("got %+v, %v", p, e)
	}
	typo := byte('0')
	if token[len(token)-1] == typo {
		typo = '1'
	}
	req.Header.Set("Authorization", "Bearer "+token[:len(token)-1]+string(typo))
	if _, e := a.Authenticate(req); e == nil {
		t.Fatal("a mistyped key authenticated")
	}
}

// BenchmarkAuthenticateAndLimit is the per-request cost of finding the caller's key and
// spending one request of its team's budget: what every authenticated request pays before
// its handler runs.
//
//	go test -run '^$' -bench AuthenticateAndLimit -benchmem ./apiserver/authn/
func BenchmarkAuthenticateAndLimit(b *testing.B) {
	dir, _, token := fixture(b)
	a := authn.New(dir, authn.Options{})
	limiter := ratelimit.NewMemory()
	limit := ratelimit.Limit{Quota: 60_000_000, Window: time.Minute} // raised: the benchmark measures cost, not refusals
	req := httptest.NewRequest("GET", "/api/v1/campaigns", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	ctx := context.Background()
	// The key's first request asks the store which key first held its credential; every
	// later one, which this measures, reads the answer from memory.
	if _, e := a.Authenticate(req); e != nil {
		b.Fatal(e)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, e := a.Authenticate(req)
		if e != nil {
			b.Fatal(e)
		}
		res, err := limiter.Allow(ctx, p.Memberships[0].Team.RequestsKey, limit, 1)
		if err != nil || !res.Allowed {
			b.Fatal(err)
		}
	}

}
