package apiserver_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/ratelimit/redistest"
)

// usageOf reads /usage at the replica at base.
type usageOf struct {
	Plan      string         `json:"plan"`
	Limits    map[string]int `json:"limits"`
	Remaining map[string]int `json:"remaining"`
}

func readUsage(t *testing.T, base, token string) usageOf {
	t.Helper()
	var u usageOf
	callAt(t, base, "GET", "/api/v1/usage", token, nil).expect(t, 200).data(t, &u)
	return u
}

// changePlan moves a team to another plan as `kubectl patch` would, and waits until the
// replica at base charges by it.
func changePlan(t *testing.T, base string, tn *tenant, plan qualv1alpha1.Plan) usageOf {
	t.Helper()
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"plan":"`+string(plan)+`"}}`))
	if err := k8s.Patch(context.Background(), &qualv1alpha1.Team{ObjectMeta: tn.team.ObjectMeta}, patch); err != nil {
		t.Fatal(err)
	}
	var u usageOf
	waitFor(t, "the replica sees plan "+string(plan), func() error {
		if u = readUsage(t, base, tn.secret); u.Plan != string(plan) {
			return fmt.Errorf("plan %s", u.Plan)
		}
		return nil
	})
	return u
}

// startsRefused checks that one more start is refused on the Interviews/hr budget of limit.
func startsRefused(t *testing.T, base, token, campaignID string, limit int) {
	t.Helper()
	r := callAt(t, base, "POST", "/api/v1/campaigns/"+campaignID+"/interviews", token, nil)
	r.expectError(t, 429, "RATE_LIMITED")
	if r.header.Get("X-RateLimit-Limit") != fmt.Sprint(limit) || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers %v, want the budget of %d spent", r.header, limit)
	}
}

// A plan change keeps the interviews already started as as many of the new plan's budget, on
// both limiters (one replica's memory, Redis shared by replicas): moving from starter (10 an
// hour) to pro (20) after 10 leaves 10, not 2, and moving from pro after 4 to starter leaves
// 6, not 8. /usage and the 429s agree.
func TestPlanChangeKeepsTheInterviewsStarted(t *testing.T) {
	rds := redistest.New()
	t.Cleanup(rds.Close)
	srv, err := startStack(t.Context(), ratelimit.NewRedis(rds.Client(t), rds.Prefix(t)), false, db)
	if err != nil {
		t.Fatal(err)
	}
	redisReplica := httptest.NewServer(srv.Handler())
	t.Cleanup(redisReplica.Close)
	for _, b := range []struct{ name, url string }{{"memory", api.URL}, {"redis", redisReplica.URL}} {
		t.Run(b.name, func(t *testing.T) {
			up := newTenant(t, "plan-up-"+b.name, qualv1alpha1.PlanStarter)
			waitFor(t, "the key at the replica", func() error { return authorizedAt(t, b.url, "/api/v1/me", up.secret) })
			c := activeCampaign(t, b.url, up.secret, map[string]any{"title": "Upgrade"})
			for range 10 {
				start(t, b.url, up.secret, c.ID, nil)
			}
			startsRefused(t, b.url, up.secret, c.ID, 10)
			u := changePlan(t, b.url, up, qualv1alpha1.PlanPro)
			if u.Limits["interviews_per_hour"] != 20 || u.Remaining["interviews_per_hour"] != 10 || u.Remaining["analysis_per_hour"] != 20 {
				t.Fatalf("after the upgrade, usage %+v; want 10 of 20 interviews and every analysis left", u)
			}
			for range 10 {
				start(t, b.url, up.secret, c.ID, nil)
			}
			startsRefused(t, b.url, up.secret, c.ID, 20)
			if u := readUsage(t, b.url, up.secret); u.Remaining["interviews_per_hour"] != 0 {
				t.Fatalf("usage %+v after the 429", u)
			}

			down := newTenant(t, "plan-down-"+b.name, qualv1alpha1.PlanPro)
			waitFor(t, "the key at the replica", func() error { return authorizedAt(t, b.url, "/api/v1/me", down.secret) })
			c = activeCampaign(t, b.url, down.secret, map[string]any{"title": "Downgrade"})
			for range 4 {
				start(t, b.url, down.secret, c.ID, nil)
			}
			if u := changePlan(t, b.url, down, qualv1alpha1.PlanStarter); u.Remaining["interviews_per_hour"] != 6 {
				t.Fatalf("after the downgrade, usage %+v; want 6 of 10 interviews left", u)
			}
			for range 6 {
				start(t, b.url, down.secret, c.ID, nil)
			}
			startsRefused(t, b.url, down.secret, c.ID, 10)
		})
	}
}
