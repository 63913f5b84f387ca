package apiserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/internal/events"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/teststack"
)

// teamWrites is a replica's Kubernetes client that can hold its next write of a Team (the
// moment between deciding a member change on the cached list and the conflict-checked write
// over it) and refuse its applies (a key's revocation), so a test forces an interleaving
// instead of hoping for one.
type teamWrites struct {
	client.Client
	next       atomic.Pointer[hold]
	failApply  atomic.Bool
	heldWrites atomic.Int32
}

// hold is one held Team write: paused closes when the write waits, resume lets it go on.
type hold struct{ paused, resume chan struct{} }

func (c *teamWrites) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if _, team := obj.(*qualv1alpha1.Team); team {
		if h := c.next.Swap(nil); h != nil {
			c.heldWrites.Add(1)
			close(h.paused)
			select {
			case <-h.resume:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c *teamWrites) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	if c.failApply.Load() {
		return apierrors.NewServiceUnavailable("injected: the Kubernetes API refuses applies")
	}
	return c.Client.Apply(ctx, obj, opts...)
}

// holdingReplica is a REST replica (no controllers: the suite's run them) writing through
// writes; it stops with the test.
func holdingReplica(t *testing.T, writes *teamWrites) string {
	t.Helper()
	srv, err := teststack.Start(t.Context(), teststack.Options{Config: cfg, Store: db, Limiter: ratelimit.NewMemory(),
		JWTSecret: jwtSecret, Tune: func(c *apiserver.Config) { writes.Client = c.Client; c.Client = writes }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// restKey is a key minted through REST.
type restKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// mintAs mints a secret key in the tenant's team with token (a session or a key) and waits
// until the replica at base takes it.
func mintAs(t *testing.T, tn *tenant, base, token, name string) restKey {
	t.Helper()
	var k restKey
	call(t, "POST", "/api/v1/api-keys", token, map[string]any{"name": name}, "X-Qual-Team", tn.id).expect(t, 201).data(t, &k)
	waitUsable(t, name, k.Key)
	waitFor(t, name+" at the replica", func() error { return authorizedAt(t, base, "/api/v1/me", k.Key) })
	return k
}

// apiKeyObject is the APIKey behind a REST key id (its UID), as the Kubernetes API has it now.
func apiKeyObject(t *testing.T, tn *tenant, id string) *qualv1alpha1.APIKey {
	t.Helper()
	list := &qualv1alpha1.APIKeyList{}
	if err := k8s.List(context.Background(), list, client.InNamespace("team-"+tn.team.Name)); err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		if string(list.Items[i].UID) == id {
			return &list.Items[i]
		}
	}
	t.Fatalf("no APIKey with UID %s", id)
	return nil
}

// revocationsOf are the api_key.revoked events in the team's outbox, by the key they name,
// and the Kubernetes Events about revoking a key (the APIKey controller's Revoked, the Team
// controller's KeyRevoked), by the key's UID.
func revocationsOf(t *testing.T, tn *tenant) (outbox, kube map[string]int) {
	t.Helper()
	evs, err := db.Team(store.TeamID(tn.id)).PendingEvents(context.Background(), store.MaxPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	outbox, kube = map[string]int{}, map[string]int{}
	for _, ev := range evs {
		if ev.Type == events.APIKeyRevoked {
			outbox[ev.Subject]++
		}
	}
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Items {
		switch {
		case e.Reason == "Revoked":
			kube[string(e.Regarding.UID)]++
		case e.Reason == "KeyRevoked" && e.Related != nil:
			kube[string(e.Related.UID)]++
		}
	}
	return outbox, kube
}

// roleAt is the role of the member with email in the team, as the replica at base lists it
// ("" once gone).
func roleAt(t *testing.T, base string, tn *tenant, email string) string {
	t.Helper()
	var ms []struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	callAt(t, base, "GET", "/api/v1/teams/"+tn.id+"/members", tn.owner, nil).expect(t, 200).data(t, &ms)
	for _, m := range ms {
		if m.Email == email {
			return m.Role
		}
	}
	return ""
}

// Two owners remove (or demote) each other at the same moment: the one whose change lands
// revokes the other's keys, and the one whose change is refused, decided on a list where
// both still owned the team and written after the other's change, revokes nothing. The
// interleaving is forced: the loser's write is held until the winner's change has landed and
// the loser's replica has seen it. Before the fix, the loser revoked every key of the winner
// (their own, and one minted with it), for good, before its change was refused.
func TestARefusedMemberChangeRevokesNothing(t *testing.T) {
	writes := &teamWrites{}
	base := holdingReplica(t, writes)
	for _, c := range []struct {
		name, method string
		body         any
		won          int    // the winner's answer
		left         string // the loser's role afterwards
		status       int    // the loser's answer
		code         string
	}{
		{"remove", "DELETE", nil, 204, "", 404, "NOT_FOUND"},
		{"demote", "PATCH", map[string]any{"role": "viewer"}, 200, "viewer", 403, "FORBIDDEN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "race-" + c.name
			rivalMail := name + "-rival@example.com"
			tn := newTenant(t, name, qualv1alpha1.PlanEnterprise,
				qualv1alpha1.TeamMember{Email: rivalMail, UserID: "user-" + name + "-rival", Role: qualv1alpha1.RoleOwner})
			rival := sessionToken(t, "user-"+name+"-rival", rivalMail, time.Hour)
			members := "/api/v1/teams/" + tn.id + "/members/"
			own := mintAs(t, tn, base, tn.owner, "winner-ci")
			child := mintAs(t, tn, base, own.Key, "minted-by-winner-ci")
			rivals := mintAs(t, tn, base, rival, "rival-ci")

			h := &hold{paused: make(chan struct{}), resume: make(chan struct{})}
			writes.next.Store(h)
			answered := make(chan response, 1)
			go func() { answered <- callAt(t, base, c.method, members+tn.ownerMail, rival, c.body) }()
			select {
			case <-h.paused:
			case <-time.After(20 * time.Second):
				t.Fatal("the rival's change never reached its write")
			}
			// The owner's change lands first, through the suite's server, and revokes the
			// rival's key before it answers.
			call(t, c.method, members+rivalMail, tn.owner, c.body).expect(t, c.won)
			call(t, "GET", "/api/v1/me", rivals.Key, nil).expectError(t, 401, "UNAUTHORIZED")
			waitFor(t, "the replica sees the owner's change", func() error {
				if got := roleAt(t, base, tn, rivalMail); got != c.left {
					return fmt.Errorf("rival's role %q", got)
				}
				return nil
			})
			close(h.resume)
			var lost response
			select {
			case lost = <-answered:
			case <-time.After(20 * time.Second):
				t.Fatal("the rival's change never answered")
			}
			lost.expectError(t, c.status, c.code)
			if n := writes.heldWrites.Load(); n == 0 {
				t.Fatal("no write was held")
			}

			if got := roleAt(t, api.URL, tn, tn.ownerMail); got != "owner" {
				t.Fatalf("the owner is now %q", got)
			}
			for _, k := range []restKey{own, child} {
				if apiKeyObject(t, tn, k.ID).Spec.Revoked {
					t.Errorf("key %s of the owner, who stays, was revoked by a change that was refused", k.ID)
				}
				call(t, "GET", "/api/v1/me", k.Key, nil).expect(t, 200)
				callAt(t, base, "GET", "/api/v1/me", k.Key, nil).expect(t, 200)
			}
			if !apiKeyObject(t, tn, rivals.ID).Spec.Revoked {
				t.Error("the rival's key is live")
			}
			// The rival's revocation is announced; nothing is about the owner's keys.
			waitFor(t, "the rival's key announced", func() error {
				outbox, kube := revocationsOf(t, tn)
				if outbox[rivals.ID] == 0 || kube[rivals.ID] == 0 {
					return errors.New("no api_key.revoked event or Revoked Event yet")
				}
				return nil
			})
			outbox, kube := revocationsOf(t, tn)
			for _, k := range []restKey{own, child} {
				if outbox[k.ID] != 0 || kube[k.ID] != 0 {
					t.Errorf("key %s: %d api_key.revoked events, %d Kubernetes Events", k.ID, outbox[k.ID], kube[k.ID])
				}
			}
		})
	}
}

// A member change revokes the keys it leaves behind only once it has landed; if that
// revocation fails (or the apiserver stops between the two), the change is still answered as
// made, and the Team controller, seeing the admin gone from the managers it recorded,
// revokes their keys a moment later.
func TestTheTeamControllerRevokesWhatAMemberChangeLeftLive(t *testing.T) {
	writes := &teamWrites{}
	base := holdingReplica(t, writes)
	adminMail := "later-admin@example.com"
	tn := newTenant(t, "revoke-later", qualv1alpha1.PlanEnterprise,
		qualv1alpha1.TeamMember{Email: adminMail, UserID: "user-revoke-later-admin", Role: qualv1alpha1.RoleAdmin})
	admin := sessionToken(t, "user-revoke-later-admin", adminMail, time.Hour)
	left := mintAs(t, tn, base, admin, "admin-ci")
	waitFor(t, "the admin observed as a manager", func() error {
		team := &qualv1alpha1.Team{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(tn.team), team); err != nil {
			return err
		}
		for _, m := range team.Status.ObservedManagers {
			if m == adminMail {
				return nil
			}
		}
		return fmt.Errorf("observedManagers %v", team.Status.ObservedManagers)
	})

	writes.failApply.Store(true)
	callAt(t, base, "DELETE", "/api/v1/teams/"+tn.id+"/members/"+adminMail, tn.owner, nil).expect(t, 204)
	writes.failApply.Store(false)
	if got := roleAt(t, base, tn, adminMail); got != "" {
		t.Fatalf("the admin is still %q", got)
	}
	waitFor(t, "the admin's key revoked by the Team controller", func() error {
		if !apiKeyObject(t, tn, left.ID).Spec.Revoked {
			return errors.New("still live")
		}
		if _, kube := revocationsOf(t, tn); kube[left.ID] == 0 {
			return errors.New("no Event yet")
		}
		return nil
	})
	waitFor(t, "the admin's key refused", func() error {
		if r := call(t, "GET", "/api/v1/me", left.Key, nil); r.status != 401 {
			return fmt.Errorf("status %d", r.status)
		}
		return nil
	})
	call(t, "GET", "/api/v1/me", tn.secret, nil).expect(t, 200)
}
