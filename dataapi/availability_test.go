package dataapi_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// TestServerDown shows what an operator sees while the aggregated server is down and how it
// recovers. The APIService turns Unavailable and discovery of every group reports the group
// as failed: that is what stops the namespace controller from finishing any namespace
// deletion (it must list every namespaced resource first), so a deleted Team's namespace
// stays Terminating. envtest runs no namespace controller, so the test shows the cause, the
// namespace waiting, and the recovery: once the server is back, discovery is whole again.
func TestServerDown(t *testing.T) {
	ctx := context.Background()
	ns, _ := team(t, "doomed")
	env.StopServer()
	if err := env.WaitAvailable(ctx, false); err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = dc.ServerGroupsAndResources()
	var failed *discovery.ErrGroupDiscoveryFailed
	if !errors.As(err, &failed) || failed.Groups[datav1alpha1.SchemeGroupVersion] == nil {
		t.Fatalf("discovery while down: %v, want the data.qual.cx group failed", err)
	}
	// Delete the team: its namespace is marked for deletion and, in a cluster, would wait.
	tm := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}
	if err := env.Client.Delete(ctx, tm); err != nil {
		t.Fatal(err)
	}
	wait(t, "the namespace terminating", func() error {
		var n corev1.Namespace
		if err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, &n); err != nil {
			return err
		}
		if n.DeletionTimestamp == nil {
			return errors.New("not deleting yet")
		}
		return nil
	})
	if err := env.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := env.WaitAvailable(ctx, true); err != nil {
		t.Fatal(err)
	}
	wait(t, "discovery whole again", func() error {
		_, _, err := dc.ServerGroupsAndResources()
		return err
	})
}
