package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

func newTeam(name string, members ...qualv1alpha1.TeamMember) *qualv1alpha1.Team {
	return &qualv1alpha1.Team{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       qualv1alpha1.TeamSpec{DisplayName: "Team " + name, Plan: qualv1alpha1.PlanPro, Members: members},
	}
}

func member(email string, role qualv1alpha1.TeamRole) qualv1alpha1.TeamMember {
	return qualv1alpha1.TeamMember{Email: email, Role: role}
}

// readyTeam creates a team and waits for it to be Ready.
func readyTeam(t *testing.T, team *qualv1alpha1.Team) *qualv1alpha1.Team {
	t.Helper()
	if err := k8s.Create(context.Background(), team); err != nil {
		t.Fatal(err)
	}
	eventually(t, "team ready", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Reconciled")
	})
	return team
}

// ensureTeamNamespace makes name a team's namespace unless it already is one: a Team of the
// same name owning it (spec.namespace), Ready. The Campaign, Webhook and APIKey controllers
// reconcile nothing for objects anywhere else (NoTeam), as REST serves nothing there.
func ensureTeamNamespace(t *testing.T, name string) {
	t.Helper()
	err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, &qualv1alpha1.Team{})
	if err == nil {
		return
	}
	if !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	team := newTeam(name, member("owner@"+name+".example", qualv1alpha1.RoleOwner))
	team.Spec.Namespace = name
	readyTeam(t, team)
}

func TestTeamCreatesNamespaceAndRBAC(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("acme"),
		member("owner@acme.example", qualv1alpha1.RoleOwner),
		qualv1alpha1.TeamMember{Email: "dev@acme.example", UserID: "user-dev", Role: qualv1alpha1.RoleMember},
		member("viewer@acme.example", qualv1alpha1.RoleViewer)))

	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "team-" + team.Name}, ns); err != nil {
		t.Fatal(err)
	}
	if team.Status.Namespace != ns.Name || team.Status.MemberCount != 3 || team.Status.ObservedGeneration != team.Generation {
		t.Fatalf("status %+v", team.Status)
	}
	if ns.Labels[qualv1alpha1.LabelTeam] != team.Name || ns.Labels[qualv1alpha1.LabelTeamUID] != string(team.UID) || !metav1.IsControlledBy(ns, team) {
		t.Fatalf("namespace not labelled and owned by the team: %+v", ns.ObjectMeta)
	}
	wantSubjects := map[string][]string{
		"qual-team-admin":  {"owner@acme.example"},
		"qual-team-member": {"dev@acme.example", "user-dev"},
		"qual-team-viewer": {"viewer@acme.example"},
	}
	for name, want := range wantSubjects {
		if got := bindingSubjects(t, ns.Name, name); !slices.Equal(got, want) {
			t.Errorf("binding %s subjects %v, want %v", name, got, want)
		}
	}
	reconcileIsSteady(t, reconcilers.Team, team)
}

func TestTeamMembersChangeFollowsIntoRBAC(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("growing"), member("owner@g.example", qualv1alpha1.RoleOwner)))
	team.Spec.Members = append(team.Spec.Members, member("new@g.example", qualv1alpha1.RoleAdmin))
	if err := k8s.Update(ctx, team); err != nil {
		t.Fatal(err)
	}
	eventually(t, "binding follows", func() error {
		if got := bindingSubjects(t, team.Status.Namespace, "qual-team-admin"); !slices.Equal(got, []string{"owner@g.example", "new@g.example"}) {
			return fmt.Errorf("admin subjects %v", got)
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		if team.Status.MemberCount != 2 || team.Status.ObservedGeneration != team.Generation {
			return fmt.Errorf("status %+v", team.Status)
		}
		return nil
	})
	reconcileIsSteady(t, reconcilers.Team, team)
}

// labelledNamespace creates team-<team> labelled for the team, as config/samples declares its
// namespace, for the Team to adopt once it exists.
func labelledNamespace(t *testing.T, team string) *corev1.Namespace {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-" + team, Labels: map[string]string{qualv1alpha1.LabelTeam: team}}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestTeamAdoptsItsLabelledNamespace(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("adopter")
	ns := labelledNamespace(t, name)
	team := readyTeam(t, newTeam(name, member("o@a.example", qualv1alpha1.RoleOwner)))
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ns), ns); err != nil {
		t.Fatal(err)
	}
	if !metav1.IsControlledBy(ns, team) || ns.Labels[qualv1alpha1.LabelManagedBy] != qualv1alpha1.ManagedByValue {
		t.Fatalf("namespace was not adopted: %+v", ns.ObjectMeta)
	}
}

func TestTeamNeverStealsANamespace(t *testing.T) {
	ctx := context.Background()
	owner := readyTeam(t, newTeam(uniqueName("first"), member("o@f.example", qualv1alpha1.RoleOwner)))
	unlabelled := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("plain")}}
	if err := k8s.Create(ctx, unlabelled); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{owner.Status.Namespace, unlabelled.Name} {
		thief := newTeam(uniqueName("thief"), member("t@t.example", qualv1alpha1.RoleOwner))
		thief.Spec.Namespace = target
		if err := k8s.Create(ctx, thief); err != nil {
			t.Fatal(err)
		}
		eventually(t, "thief stalls", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(thief), thief); err != nil {
				return err
			}
			if err := conditionIs(thief.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "NamespaceConflict"); err != nil {
				return err
			}
			return conditionIs(thief.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionFalse, "NamespaceConflict")
		})
		ns := &corev1.Namespace{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: target}, ns); err != nil {
			t.Fatal(err)
		}
		if metav1.IsControlledBy(ns, thief) || ns.Labels[qualv1alpha1.LabelTeam] == thief.Name {
			t.Fatalf("namespace %s was taken: %+v", target, ns.ObjectMeta)
		}
		reconcileIsSteady(t, reconcilers.Team, thief)
		// Deleting the thief must not delete a namespace it never owned.
		if err := k8s.Delete(ctx, thief); err != nil {
			t.Fatal(err)
		}
		eventually(t, "thief gone", func() error { return gone(ctx, thief) })
		if err := k8s.Get(ctx, client.ObjectKey{Name: target}, ns); err != nil || !ns.DeletionTimestamp.IsZero() {
			t.Fatalf("namespace %s was deleted with a team that did not own it (%v)", target, err)
		}
	}
}

func TestTeamDeletionDeletesItsNamespace(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("leaving"), member("o@l.example", qualv1alpha1.RoleOwner)))
	if err := k8s.Delete(ctx, team); err != nil {
		t.Fatal(err)
	}
	eventually(t, "team gone", func() error { return gone(ctx, team) })
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: team.Status.Namespace}, ns); err != nil {
		t.Fatal(err)
	}
	// envtest runs no namespace controller, so the namespace stays Terminating here; in a
	// cluster Kubernetes then deletes everything in it.
	if ns.DeletionTimestamp.IsZero() {
		t.Fatal("the team's namespace was not deleted")
	}
}

func TestTeamsCannotSeeEachOthersNamespaces(t *testing.T) {
	a := readyTeam(t, newTeam(uniqueName("alpha"),
		member("alice@alpha.example", qualv1alpha1.RoleOwner), member("victor@alpha.example", qualv1alpha1.RoleViewer),
		member("mia@alpha.example", qualv1alpha1.RoleMember)))
	b := readyTeam(t, newTeam(uniqueName("beta"), member("bob@beta.example", qualv1alpha1.RoleOwner)))
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		user, ns, verb, resource string
		allowed                  bool
	}{
		{"alice@alpha.example", a.Status.Namespace, "create", "campaigns", true},
		{"alice@alpha.example", a.Status.Namespace, "delete", "apikeys", true},
		{"alice@alpha.example", b.Status.Namespace, "get", "campaigns", false},
		{"alice@alpha.example", b.Status.Namespace, "list", "webhooks", false},
		{"bob@beta.example", a.Status.Namespace, "list", "campaigns", false},
		{"bob@beta.example", b.Status.Namespace, "create", "webhooks", true},
		{"mia@alpha.example", a.Status.Namespace, "update", "campaigns", true},
		{"mia@alpha.example", a.Status.Namespace, "create", "webhooks", false},
		{"mia@alpha.example", a.Status.Namespace, "get", "secrets", false},
		{"victor@alpha.example", a.Status.Namespace, "list", "campaigns", true},
		{"victor@alpha.example", a.Status.Namespace, "create", "campaigns", false},
		{"stranger@else.example", a.Status.Namespace, "get", "campaigns", false},
	}
	for _, c := range cases {
		group := qualv1alpha1.GroupVersion.Group
		if c.resource == "secrets" {
			group = ""
		}
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: c.user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: c.ns, Verb: c.verb, Group: group, Resource: c.resource,
			},
		}}
		got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Allowed != c.allowed {
			t.Errorf("%s %s %s in %s: allowed=%v, want %v (%s)", c.user, c.verb, c.resource, c.ns, got.Status.Allowed, c.allowed, got.Status.Reason)
		}
	}
}

func bindingSubjects(t *testing.T, ns, name string) []string {
	t.Helper()
	rb := &rbacv1.RoleBinding{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, rb); err != nil {
		t.Fatalf("role binding %s/%s: %v", ns, name, err)
	}
	var names []string
	for _, s := range rb.Subjects {
		names = append(names, s.Name)
	}
	return names
}

// gone returns nil once obj no longer exists.
func gone(ctx context.Context, obj client.Object) error {
	err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if err == nil {
		return errors.New("still exists")
	}
	return client.IgnoreNotFound(err)
}

// TestTeamRepairsRBACThatLostItsLabel strips the managed-by label from a Role and from a
// RoleBinding of a ready team, as a hand edit might. The manager's cache only holds labelled
// objects, so to it they vanish while the API server still has them: the controller must
// take them back (label, rules, subjects) and stay Ready, not fail to recreate them forever.
func TestTeamRepairsRBACThatLostItsLabel(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("unlabelled"), member("owner@unlabelled.example", qualv1alpha1.RoleOwner)))
	ns := team.Status.Namespace
	for _, obj := range []client.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "qual-team-viewer"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "qual-apiserver-team-secrets"}},
	} {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
		labels := obj.GetLabels()
		delete(labels, qualv1alpha1.LabelManagedBy)
		obj.SetLabels(labels)
		if rb, ok := obj.(*rbacv1.RoleBinding); ok {
			rb.Subjects = nil // drift the controller must also undo
		}
		if err := k8s.Patch(ctx, obj, patch); err != nil {
			t.Fatal(err)
		}
		eventually(t, obj.GetName()+" taken back", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
			if obj.GetLabels()[qualv1alpha1.LabelManagedBy] != qualv1alpha1.ManagedByValue {
				return errors.New("still unlabelled")
			}
			if rb, ok := obj.(*rbacv1.RoleBinding); ok && len(rb.Subjects) != 1 {
				return fmt.Errorf("subjects %v", rb.Subjects)
			}
			return nil
		})
	}
	eventually(t, "team ready", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Reconciled")
	})
}

// A Team recreated under the name of a deleted one while the old namespace still terminates
// says the namespace is its predecessor's, not its own, and creates it once it is gone.
func TestRecreatedTeamWaitsForItsPredecessorsNamespace(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("reborn")
	old := readyTeam(t, newTeam(name, member("o@r.example", qualv1alpha1.RoleOwner)))
	if err := k8s.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	eventually(t, "old team gone", func() error { return gone(ctx, old) })
	team := newTeam(name, member("o@r.example", qualv1alpha1.RoleOwner))
	if err := k8s.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new team waits", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "NamespaceTerminating")
	})
	msg := meta.FindStatusCondition(team.Status.Conditions, qualv1alpha1.ConditionStalled).Message
	for _, want := range []string{"deleted Team " + name, string(old.UID), "still terminating", "created again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Stalled message %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, string(team.UID)) {
		t.Errorf("Stalled message %q names the new team's own uid", msg)
	}

	// envtest runs no namespace controller: empty the namespace and finalize it, as
	// Kubernetes does.
	nsName := old.Status.Namespace
	for _, obj := range []client.Object{&rbacv1.Role{}, &rbacv1.RoleBinding{}} {
		if err := k8s.DeleteAllOf(ctx, obj, client.InNamespace(nsName)); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, nsName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Spec.Finalizers = nil
	if _, err := cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The new Team makes its namespace, of the same name, as soon as the old one is gone,
	// so the old one is gone when the name holds another namespace or none.
	oldUID := ns.UID
	eventually(t, "old namespace gone", func() error {
		got, err := cs.CoreV1().Namespaces().Get(ctx, nsName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return err
		case got.UID == oldUID:
			return errors.New("still exists")
		}
		return nil
	})
	eventually(t, "new team ready", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Reconciled")
	})
	if err := k8s.Get(ctx, client.ObjectKey{Name: nsName}, ns); err != nil {
		t.Fatal(err)
	}
	if !metav1.IsControlledBy(ns, team) || !ns.DeletionTimestamp.IsZero() {
		t.Fatalf("namespace %s is not the new team's: %+v", nsName, ns.ObjectMeta)
	}
}
