package dataapi_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// holdFinalizer keeps a test's namespace Terminating until the test lets it go.
const holdFinalizer = "qual.cx/test-hold"

// TestATerminatingNamespaceServesNothing: once a team is deleted its namespace stays
// Terminating for as long as its objects' finalizers (or, in `qual dev`, for ever), and its
// members' RoleBindings with it. The aggregated API treats it as no team's at once, as REST
// and the dispatcher do: its interviews, messages and findings are neither listed, in the
// namespace or across all of them, nor found by name.
func TestATerminatingNamespaceServesNothing(t *testing.T) {
	ctx := context.Background()
	ns, ts := team(t, "terminating")
	iv := interviews(t, ts, campaign(t, ns, "doomed"), 1)[0]
	fd, err := ts.CreateFinding(ctx, store.NewFinding{CampaignID: iv.CampaignID, Type: store.FindingTheme, Title: "Setup is slow", Frequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	dc := dynamicClient(t, env.Config)
	servesNothing := func() error {
		var found []string
		for gvr, sel := range map[string]string{"interviews": "", "findings": "", "messages": "spec.interview=" + string(iv.ID)} {
			list, err := dc.Resource(interviewsGVR.GroupVersion().WithResource(gvr)).Namespace(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
			if err != nil {
				return err
			}
			if len(list.Items) > 0 {
				found = append(found, fmt.Sprintf("%d %s", len(list.Items), gvr))
			}
		}
		for gvr, name := range map[string]string{"interviews": string(iv.ID), "findings": string(fd.ID), "messages": string(iv.ID) + "-1"} {
			_, err := dc.Resource(interviewsGVR.GroupVersion().WithResource(gvr)).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			if !apierrors.IsNotFound(err) {
				found = append(found, fmt.Sprintf("%s %s (%v)", gvr, name, err))
			}
		}
		all, err := dc.Resource(interviewsGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, it := range all.Items {
			if it.GetNamespace() == ns {
				found = append(found, "interview "+it.GetName()+" across all namespaces")
			}
		}
		if len(found) > 0 {
			return fmt.Errorf("still served: %v", found)
		}
		return nil
	}
	if servesNothing() == nil {
		t.Fatal("the team's rows are not served before its deletion: the test proves nothing")
	}

	// The namespace outlives the team, Terminating, until the test is done.
	namespace := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, namespace); err != nil {
		t.Fatal(err)
	}
	controllerutil.AddFinalizer(namespace, holdFinalizer)
	if err := env.Client.Update(ctx, namespace); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { release(t, ns) })
	if err := env.Client.Delete(ctx, &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "terminating"}}); err != nil {
		t.Fatal(err)
	}
	wait(t, "the namespace to be Terminating", func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, namespace); err != nil {
			return err
		}
		if namespace.DeletionTimestamp.IsZero() {
			return errors.New("not being deleted yet")
		}
		return nil
	})
	// The rows are all still in the store: only the namespace's deletion hides them.
	if _, err := ts.GetInterview(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	wait(t, "the terminating namespace to serve nothing", servesNothing)
}

// release lets a namespace the test held Terminating go.
func release(t *testing.T, name string) {
	ctx := context.Background()
	ns := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return
	}
	if controllerutil.RemoveFinalizer(ns, holdFinalizer) {
		if err := env.Client.Update(ctx, ns); client.IgnoreNotFound(err) != nil {
			t.Errorf("release namespace %s: %v", name, err)
		}
	}
}
