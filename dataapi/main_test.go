package dataapi_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/dataapi/dataapitest"
	qpoll "qual.cx/operator/internal/poll"
	"qual.cx/operator/internal/store"
)

// env is the control plane with the aggregated API registered, shared by the tests.
var env *dataapitest.Env

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	env, err = dataapitest.Start(context.Background())
	defer env.Stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// team creates a Team with an owner and a viewer and returns its namespace and store handle
// once the Team controller has claimed the namespace.
func team(t *testing.T, name string) (string, store.TeamStore) {
	t.Helper()
	ctx := context.Background()
	tm := &qualv1alpha1.Team{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: qualv1alpha1.TeamSpec{DisplayName: name, Plan: qualv1alpha1.PlanPro, Members: []qualv1alpha1.TeamMember{
			{Email: "owner@" + name + ".example", Role: qualv1alpha1.RoleOwner},
			{Email: "viewer@" + name + ".example", Role: qualv1alpha1.RoleViewer},
		}},
	}
	if err := env.Client.Create(ctx, tm); err != nil {
		t.Fatal(err)
	}
	wait(t, "team "+name+" ready", func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(tm), tm); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(tm.Status.Conditions, qualv1alpha1.ConditionReady) || tm.Status.Namespace == "" {
			return fmt.Errorf("not ready: %v", tm.Status.Conditions)
		}
		return env.Client.Get(ctx, client.ObjectKey{Name: tm.Status.Namespace}, &corev1.Namespace{})
	})
	return tm.Status.Namespace, env.Store.Team(store.TeamID(tm.UID))
}

// campaign creates a Campaign and returns its UID.
func campaign(t *testing.T, ns, name string) store.CampaignID {
	t.Helper()
	c := &qualv1alpha1.Campaign{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: qualv1alpha1.CampaignSpec{Title: name, Objectives: "Learn what " + name + " teaches.",
			Questions: []string{"What happened?"}, State: qualv1alpha1.StateActive},
	}
	if err := env.Client.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return store.CampaignID(c.UID)
}

// interviews starts n interviews in a campaign, one participant message each after the
// first question, and returns them oldest first.
func interviews(t *testing.T, ts store.TeamStore, c store.CampaignID, n int) []store.Interview {
	t.Helper()
	ctx := context.Background()
	out := make([]store.Interview, 0, n)
	for i := range n {
		iv, err := ts.CreateInterview(ctx, store.NewInterview{CampaignID: c, Participant: store.Participant{Name: fmt.Sprintf("participant %d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []store.NewMessage{{Role: store.RoleInterviewer, Content: "What happened?"}, {Role: store.RoleParticipant, Content: "It broke."}} {
			if _, err := ts.AppendMessage(ctx, iv.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		if iv, err = ts.GetInterview(ctx, iv.ID); err != nil {
			t.Fatal(err)
		}
		out = append(out, iv)
	}
	return out
}

func wait(t *testing.T, what string, check func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := qpoll.Until(ctx, 100*time.Millisecond, what, check); err != nil {
		t.Fatal(err)
	}
}
