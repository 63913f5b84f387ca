package controllers_test

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// An admin removed or demoted with kubectl loses their API keys, as through REST: a key acts
// for its owner and could mint keys, or put its owner back in the team. So do the keys they
// made with kubectl naming someone else or nobody as owner, and the keys those minted. Keys
// acting for those who still manage the team, for nobody, or for a plain member are left
// alone.
func TestTeamMemberEditsWithKubectlRevokeFormerManagersKeys(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("keyholders"),
		member("owner@kh.example", qualv1alpha1.RoleOwner),
		member("leaver@kh.example", qualv1alpha1.RoleAdmin),
		qualv1alpha1.TeamMember{Email: "demoted@kh.example", UserID: "user-demoted", Role: qualv1alpha1.RoleAdmin},
		member("dev@kh.example", qualv1alpha1.RoleMember)))
	ns := team.Status.Namespace
	// create makes an active key with c, naming owner, minted with the key by (if any).
	create := func(c client.Client, name, owner string, by *qualv1alpha1.APIKey) *qualv1alpha1.APIKey {
		key := newKey(uniqueName(name), qualv1alpha1.KeySecret)
		key.Namespace, key.Spec.Owner = ns, owner
		if by != nil {
			key.Annotations = map[string]string{qualv1alpha1.AnnotationMintedBy: string(by.UID)}
		}
		if err := c.Create(ctx, key); err != nil {
			t.Fatal(err)
		}
		waitKey(t, key, metav1.ConditionTrue, "Active")
		return key
	}
	keyFor := func(name, owner string) *qualv1alpha1.APIKey { return create(k8s, name, owner, nil) }
	leaver := keyFor("leaver", "Leaver@KH.example") // an owner compares as the schema does
	demoted := keyFor("demoted", "user-demoted")    // and may name a user ID
	kept := []*qualv1alpha1.APIKey{keyFor("owner", "owner@kh.example"), keyFor("nobody", ""), keyFor("dev", "dev@kh.example")}
	// What the leaver made with kubectl goes with them whoever it names as owner (the API
	// server records its maker), and so does what those keys minted, at any depth.
	asLeaver := clientAs(t, "leaver@kh.example")
	disguised, ownerless := create(asLeaver, "as-owner", "owner@kh.example", nil), create(asLeaver, "ownerless", "", nil)
	minted := func(name string, by *qualv1alpha1.APIKey) *qualv1alpha1.APIKey {
		return create(k8s, name, "owner@kh.example", by)
	}
	child := minted("child", disguised)
	grandchild := minted("grandchild", child)
	eventually(t, "managers observed", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		if len(team.Status.ObservedManagers) != 4 {
			return fmt.Errorf("observedManagers %v", team.Status.ObservedManagers)
		}
		return nil
	})

	team.Spec.Members = []qualv1alpha1.TeamMember{team.Spec.Members[0], team.Spec.Members[2], team.Spec.Members[3]}
	team.Spec.Members[1].Role = qualv1alpha1.RoleViewer
	team.Spec.Members[2].Role = qualv1alpha1.RoleAdmin // a promotion revokes nothing
	if err := k8s.Update(ctx, team); err != nil {
		t.Fatal(err)
	}
	for _, key := range []*qualv1alpha1.APIKey{leaver, demoted, disguised, ownerless, child, grandchild} {
		waitKey(t, key, metav1.ConditionFalse, "Revoked")
	}
	expectEvent(t, team, "KeyRevoked")
	eventually(t, "managers follow", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		want := fmt.Sprint([]string{"dev@kh.example", "owner@kh.example"})
		if got := fmt.Sprint(team.Status.ObservedManagers); got != want {
			return fmt.Errorf("observedManagers %s, want %s", got, want)
		}
		return nil
	})
	reconcileIsSteady(t, reconcilers.Team, team)
	for _, key := range kept {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(key), key); err != nil {
			t.Fatal(err)
		}
		if key.Spec.Revoked {
			t.Errorf("key %s of %q was revoked", key.Name, key.Spec.Owner)
		}
	}

	// Back in the team, the leaver does not get the key back: revocation is for good.
	team.Spec.Members = append(team.Spec.Members, member("leaver@kh.example", qualv1alpha1.RoleAdmin))
	if err := k8s.Update(ctx, team); err != nil {
		t.Fatal(err)
	}
	waitKey(t, leaver, metav1.ConditionFalse, "Revoked")
}
