package keys

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

func TestDeparted(t *testing.T) {
	key := func(uid, owner, createdBy, mintedBy string, revoked bool) *qualv1alpha1.APIKey {
		k := &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Name: uid, UID: types.UID(uid), Annotations: map[string]string{}}}
		k.Spec.Owner, k.Spec.Revoked = owner, revoked
		if createdBy != "" {
			k.Annotations[qualv1alpha1.AnnotationCreatedBy] = createdBy
		}
		if mintedBy != "" {
			k.Annotations[qualv1alpha1.AnnotationMintedBy] = mintedBy
		}
		return k
	}
	const sa = "system:serviceaccount:qual-system:qual-apiserver"
	all := []*qualv1alpha1.APIKey{
		key("owned", "Adam@Acme.example", sa, "", false),                       // acts for them (e-mail folded)
		key("by-id", "u-adam", sa, "", false),                                  // by user ID
		key("disguised", "alice@acme.example", "adam@acme.example", "", false), // made by them, naming another
		key("ownerless", "", "adam@acme.example", "", false),
		key("old", "adam@acme.example", sa, "", true),               // revoked already: not again
		key("child-of-old", "alice@acme.example", sa, "old", false), // but what it minted goes
		key("child", "alice@acme.example", sa, "disguised", false),
		key("grandchild", "alice@acme.example", sa, "child", false),
		key("alice", "alice@acme.example", sa, "", false),
		key("alice-child", "alice@acme.example", sa, "alice", false),
		key("nobody", "", sa, "", false),
		key("by-alice", "", "alice@acme.example", "", false),
	}
	var got []string
	for _, k := range Departed(all, sets.New(Identity("adam@ACME.example"), Identity("u-adam"))) {
		got = append(got, k.Name)
	}
	want := []string{"owned", "by-id", "disguised", "ownerless", "child-of-old", "child", "grandchild"}
	if !slices.Equal(got, want) {
		t.Fatalf("departed keys %v, want %v", got, want)
	}
	if got := Departed(all, sets.New[string]()); len(got) != 0 {
		t.Fatalf("nobody left, yet %d keys", len(got))
	}
}
