package apiserver_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// liveShareBody is GET /campaigns/{id}/graph/share.
type liveShareBody struct {
	CampaignID      string  `json:"campaign_id"`
	ExpiresAt       string  `json:"expires_at"`
	CreatedAt       string  `json:"created_at"`
	CreatedByKeyID  *string `json:"created_by_key_id"`
	CreatedByUserID *string `json:"created_by_user_id"`
}

// expiringKey is a key minted through REST with an expiry.
type expiringKey struct {
	ID        string `json:"id"`
	Key       string `json:"key"`
	ExpiresAt string `json:"expires_at"`
}

// mintSharer mints, with token, a scoped key that may share graphs and expires in a day, and
// waits until the replica at base takes it.
func mintSharer(t *testing.T, base, token, name string) expiringKey {
	t.Helper()
	var k expiringKey
	callAt(t, base, "POST", "/api/v1/api-keys", token, map[string]any{"name": name, "type": "scoped",
		"scopes": []string{"graph:read", "graph:share"}, "expires_in_days": 1}).expect(t, 201).data(t, &k)
	waitUsable(t, name, k.Key)
	return k
}

// shareBy makes the campaign's share link with token and returns it.
func shareBy(t *testing.T, base, token, campaignID string, days int) shareLinkBody {
	t.Helper()
	var link shareLinkBody
	callAt(t, base, "POST", "/api/v1/campaigns/"+campaignID+"/graph/share", token,
		map[string]any{"expires_in_days": days}).expect(t, 201).data(t, &link)
	return link
}

// waitShareGone waits until the replica at base answers 404 for a link's token (its cache
// has heard of whatever ended it).
func waitShareGone(t *testing.T, base, token string) {
	t.Helper()
	waitFor(t, "the link to stop", func() error {
		req, _ := http.NewRequest("GET", base+"/api/v1/shared/graphs/"+token, nil)
		if r := send(t, pollClient, req); r.status != 404 {
			return errStatus(r.status)
		}
		return nil
	})
}

// A share link lives no longer than its maker's right to make it, on both store backends: a
// key's link expires with the key and stops when the key is revoked or deleted; a member's
// stops when they leave the team. GET .../graph/share shows the live link and its maker,
// never its token.
func TestShareLinkLivesNoLongerThanItsMaker(t *testing.T) {
	for i, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			anon := clientFrom([]string{"127.0.0.70", "127.0.0.71"}[i])
			tn := newTenant(t, "sharemaker-"+b.name, qualv1alpha1.PlanEnterprise)
			c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Shared by whom"})
			share := "/api/v1/campaigns/" + c.ID + "/graph/share"
			callAt(t, b.url, "GET", share, tn.secret, nil).expectError(t, 404, "NOT_FOUND")

			// A key expiring tomorrow asks for a year and gets until tomorrow.
			k := mintSharer(t, b.url, tn.secret, "sharer")
			link := shareBy(t, b.url, k.Key, c.ID, 365)
			if link.ExpiresAt != k.ExpiresAt {
				t.Fatalf("link made by a key expiring %s expires %s", k.ExpiresAt, link.ExpiresAt)
			}
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+*link.Token).expect(t, 200)
			var live liveShareBody
			callAt(t, b.url, "GET", share, k.Key, nil).expect(t, 200).data(t, &live)
			if live.CampaignID != c.ID || live.ExpiresAt != link.ExpiresAt || live.CreatedAt != link.CreatedAt ||
				live.CreatedByKeyID == nil || *live.CreatedByKeyID != k.ID || live.CreatedByUserID != nil {
				t.Fatalf("live link %+v, want the one %s made: %+v", live, k.ID, link)
			}
			// Reading it takes graph:share (as revoking does), not graph:read alone.
			reader := makeKey(t, tn.team, "graph-reader", qualv1alpha1.KeyScoped, []qualv1alpha1.Scope{"graph:read"})
			waitUsable(t, "the graph reader", reader)
			callAt(t, b.url, "GET", share, reader, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
			callAt(t, b.url, "GET", share, tn.scoped, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")

			// Revoking the key ends its link, on the page too.
			callAt(t, b.url, "DELETE", "/api/v1/api-keys/"+k.ID, tn.secret, nil).expect(t, 204)
			waitShareGone(t, b.url, *link.Token)
			checkSharePage(t, anon, b.url+"/share/graphs/"+*link.Token, 404)
			callAt(t, b.url, "GET", share, tn.secret, nil).expectError(t, 404, "NOT_FOUND")

			// So does deleting the key.
			k = mintSharer(t, b.url, tn.secret, "deleted-sharer")
			link = shareBy(t, b.url, k.Key, c.ID, 7)
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+*link.Token).expect(t, 200)
			if err := k8s.Delete(context.Background(), apiKeyObject(t, tn, k.ID)); err != nil {
				t.Fatal(err)
			}
			waitShareGone(t, b.url, *link.Token)
			callAt(t, b.url, "GET", share, tn.secret, nil).expectError(t, 404, "NOT_FOUND")

			// A member's link: shown with their user id, ended by their removal.
			member := sessionToken(t, "user-"+tn.team.Name+"-member", tn.team.Name+"-member@example.com", time.Hour)
			link = shareBy(t, b.url, member, c.ID, 30)
			callAt(t, b.url, "GET", share, tn.owner, nil).expect(t, 200).data(t, &live)
			if live.CreatedByUserID == nil || *live.CreatedByUserID != "user-"+tn.team.Name+"-member" || live.CreatedByKeyID != nil ||
				live.ExpiresAt != link.ExpiresAt {
				t.Fatalf("live link %+v, want the member's %+v", live, link)
			}
			// A key without an expiry, or a session, gets the days asked for.
			if exp, err := time.Parse(time.RFC3339, link.ExpiresAt); err != nil || exp.Before(time.Now().Add(30*24*time.Hour-time.Minute)) {
				t.Fatalf("a session's 30-day link expires %s (%v)", link.ExpiresAt, err)
			}
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+*link.Token).expect(t, 200)
			callAt(t, b.url, "DELETE", "/api/v1/teams/"+tn.id+"/members/user-"+tn.team.Name+"-member", tn.owner, nil).expect(t, 204)
			waitShareGone(t, b.url, *link.Token)
			callAt(t, b.url, "GET", share, tn.owner, nil).expectError(t, 404, "NOT_FOUND")

			// The owner's link lives on.
			link = shareBy(t, b.url, tn.owner, c.ID, 30)
			publicGet(t, anon, b.url, "/api/v1/shared/graphs/"+*link.Token).expect(t, 200)
			callAt(t, b.url, "GET", share, tn.secret, nil).expect(t, 200)
		})
	}
}
