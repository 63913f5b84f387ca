package controllers_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/events"
)

// editMembers changes a team's members on its latest copy, as a REST member write does, and
// tries again on the newer copy when another writer got there first.
func editMembers(ctx context.Context, name string, change func([]qualv1alpha1.TeamMember) []qualv1alpha1.TeamMember) error {
	for {
		team := &qualv1alpha1.Team{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, team); err != nil {
			return err
		}
		team.Spec.Members = change(team.Spec.Members)
		err := k8s.Update(ctx, team)
		if !apierrors.IsConflict(err) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// memberChanges counts a team's member events in its outbox by type and e-mail, failing the
// test at once on a change announced twice.
func memberChanges(t *testing.T, team *qualv1alpha1.Team) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, ev := range outboxOf(t, team.UID, team.UID) {
		change := ev.Type + " " + memberData(t, ev).Email
		if got[change]++; got[change] > 1 {
			t.Fatalf("%s announced twice, the second time as %s", change, ev.ID)
		}
	}
	return got
}

// Members added and removed by racing writers, while the Team's status writes keep being lost
// (every other closing one is refused: flaky-*), are announced once each. A pass whose status write
// was lost announces again what it announced, on a newer generation, as the writers keep
// editing; each change must keep its one event id all the same.
func TestRacingMemberChangesAreAnnouncedOnceEach(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const joining, leaving = 8, 6
	members := []qualv1alpha1.TeamMember{member("owner@race.example", qualv1alpha1.RoleOwner)}
	for i := range leaving {
		members = append(members, member(fmt.Sprintf("leaves-%d@race.example", i), qualv1alpha1.RoleViewer))
	}
	team := readyTeam(t, newTeam(uniqueName("flaky-race"), members...))
	want := map[string]int{}
	for _, m := range members {
		want[events.MemberAdded+" "+m.Email] = 1
	}
	eventually(t, "the first members announced", func() error {
		if got := memberChanges(t, team); len(got) != len(want) {
			return fmt.Errorf("%d member events, want %d", len(got), len(want))
		}
		return nil
	})

	flaked := flakes.Load()
	writers, _ := errgroup.WithContext(ctx)
	final := sets.New("owner@race.example")
	for i := range joining {
		email := fmt.Sprintf("joins-%d@race.example", i)
		final.Insert(email)
		want[events.MemberAdded+" "+email] = 1
		writers.Go(func() error {
			time.Sleep(time.Duration(i) * 20 * time.Millisecond) // the edits keep coming while passes run
			return editMembers(ctx, team.Name, func(ms []qualv1alpha1.TeamMember) []qualv1alpha1.TeamMember {
				return append(ms, member(email, qualv1alpha1.RoleMember))
			})
		})
	}
	for i := range leaving {
		email := fmt.Sprintf("leaves-%d@race.example", i)
		want[events.MemberRemoved+" "+email] = 1
		writers.Go(func() error {
			time.Sleep(time.Duration(i)*20*time.Millisecond + 10*time.Millisecond)
			return editMembers(ctx, team.Name, func(ms []qualv1alpha1.TeamMember) []qualv1alpha1.TeamMember {
				return slices.DeleteFunc(ms, func(m qualv1alpha1.TeamMember) bool { return m.Email == email })
			})
		})
	}
	if err := writers.Wait(); err != nil {
		t.Fatal(err)
	}

	// Settled: every change recorded, and a pass with nothing new writes nothing.
	eventually(t, "the team settles", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		if observed := sets.New(team.Status.ObservedMembers...); !observed.Equal(final) {
			return fmt.Errorf("observedMembers %v", sets.List(observed))
		}
		return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Reconciled")
	})
	if flakes.Load() == flaked {
		t.Fatal("no status write of the team was lost during the race; the test proves nothing")
	}
	reconcileIsSteady(t, reconcilers.Team, team)
	if got := memberChanges(t, team); !maps.Equal(got, want) {
		t.Fatalf("member events %v, want %v", got, want)
	}
}
