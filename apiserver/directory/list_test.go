package directory

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// fill observes n campaigns in one namespace; every three share a creation second, so the
// id tie-breaker matters.
func fill(d *Directory, ns string, n int) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		d.Observe(&qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("c%02d", i), Namespace: ns, UID: types.UID(fmt.Sprintf("uid-%02d", i)),
			CreationTimestamp: metav1.NewTime(base.Add(time.Duration(i/3) * time.Second)),
		}, Spec: qualv1alpha1.CampaignSpec{Title: fmt.Sprintf("Title %02d", (n-i)%7)}})
	}
}

func TestKeysetPagesVisitEveryCampaignOnceInOrder(t *testing.T) {
	d := New()
	fill(d, "a", 23)
	fill(d, "b", 4) // another tenant's namespace: never listed
	for _, key := range []SortKey{SortCreated, SortUpdated, SortTitle} {
		for _, desc := range []bool{false, true} {
			var seen []*Campaign
			q := Query{Namespaces: []string{"a"}, Sort: key, Desc: desc, Limit: 4}
			for {
				p := d.ListCampaigns(q)
				if p.Total != 23 {
					t.Fatalf("total %d", p.Total)
				}
				seen = append(seen, p.Items...)
				if !p.HasMore {
					break
				}
				last := p.Items[len(p.Items)-1]
				q.After = &After{Value: SortValue(last, key), ID: string(last.Object.UID)}
			}
			if len(seen) != 23 {
				t.Fatalf("%s desc=%v: %d items", key, desc, len(seen))
			}
			for i := 1; i < len(seen); i++ {
				c := compareTo(seen[i], key, SortValue(seen[i-1], key), string(seen[i-1].Object.UID))
				if (desc && c >= 0) || (!desc && c <= 0) {
					t.Fatalf("%s desc=%v: item %d out of order", key, desc, i)
				}
			}
		}
	}
}

func TestFiltersCountEveryMatchAndDeletesDisappear(t *testing.T) {
	d := New()
	fill(d, "a", 10)
	p := d.ListCampaigns(Query{Namespaces: []string{"a"}, Sort: SortCreated, Limit: 2,
		Match: func(c *Campaign) bool { return c.Matches("title 03") }})
	if p.Total != 2 || len(p.Items) != 2 || p.HasMore {
		t.Fatalf("filtered page %+v", p)
	}
	c, _ := d.Campaign("uid-03")
	d.onCampaignDelete(c.Object)
	if _, ok := d.Campaign("uid-03"); ok || d.ListCampaigns(Query{Namespaces: []string{"a"}, Sort: SortTitle, Limit: 100}).Total != 9 {
		t.Fatal("a deleted campaign is still listed")
	}
}

func TestMembershipsFollowTheMemberIndex(t *testing.T) {
	d := New()
	team := func(name string, members ...qualv1alpha1.TeamMember) *qualv1alpha1.Team {
		return &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
			Spec: qualv1alpha1.TeamSpec{DisplayName: name, Members: members}}
	}
	d.Observe(team("a", qualv1alpha1.TeamMember{Email: "Ana@Example.com", Role: qualv1alpha1.RoleOwner}))
	d.Observe(team("b", qualv1alpha1.TeamMember{Email: "x@example.com", UserID: "ana", Role: qualv1alpha1.RoleViewer}))
	d.Observe(team("c", qualv1alpha1.TeamMember{Email: "other@example.com", Role: qualv1alpha1.RoleOwner}))
	if got := d.MembershipsOf("ana", "ana@example.com"); len(got) != 2 {
		t.Fatalf("memberships %+v", got)
	}
	// Removing her from a team removes the team from her memberships.
	d.Observe(team("a", qualv1alpha1.TeamMember{Email: "new@example.com", Role: qualv1alpha1.RoleOwner}))
	if got := d.MembershipsOf("ana", "ana@example.com"); len(got) != 1 || got[0].Role != qualv1alpha1.RoleViewer {
		t.Fatalf("after removal %+v", got)
	}
	d.onTeamDelete(team("b"))
	if got := d.MembershipsOf("ana", "ana@example.com"); len(got) != 0 {
		t.Fatalf("after team deletion %+v", got)
	}
}
