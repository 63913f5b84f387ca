package apiserver_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/testenv"
)

// A replica whose database is down says so on /ready, with Retry-After, instead of failing
// requests later with a 500.
func TestReadyIsUnavailableWhenTheDatabaseIsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	down, closeStore, err := testenv.TempStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	closeStore()
	srv, err := startStack(ctx, ratelimit.NewMemory(), false, down)
	if err != nil {
		t.Fatal(err)
	}
	replica := httptest.NewServer(srv.Handler())
	t.Cleanup(replica.Close)
	r := callURL(t, replica.URL+"/api/v1/ready", "")
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("ready with the database down: %d %s", r.status, r.body)
	}
}

// Using a key records when it was last used on the APIKey object, in the background.
func TestKeyUseIsRecordedOnTheObject(t *testing.T) {
	tn := newTenant(t, "last-used", qualv1alpha1.PlanEnterprise)
	call(t, "GET", "/api/v1/me", tn.scoped, nil).expect(t, 200)
	waitFor(t, "lastUsedAt recorded", func() error {
		key := &qualv1alpha1.APIKey{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: "team-last-used", Name: "scoped"}, key); err != nil {
			return err
		}
		if key.Status.LastUsedAt == nil || time.Since(key.Status.LastUsedAt.Time) > 2*time.Minute {
			return fmt.Errorf("lastUsedAt %v", key.Status.LastUsedAt)
		}
		// Recorded by the minute, but never before the key was made.
		if key.Status.LastUsedAt.Before(&key.CreationTimestamp) {
			t.Fatalf("lastUsedAt %v is before the key's creation %v", key.Status.LastUsedAt, key.CreationTimestamp)
		}
		return nil
	})
	// The REST view follows once the informer has the update.
	waitFor(t, "GET /api-keys shows last_used_at", func() error {
		var listed []struct {
			Name       string  `json:"name"`
			LastUsedAt *string `json:"last_used_at"`
		}
		call(t, "GET", "/api/v1/api-keys?sort_by=name&order=asc", tn.secret, nil).expect(t, 200).data(t, &listed)
		for _, k := range listed {
			if k.Name == "scoped" && k.LastUsedAt != nil {
				return nil
			}
		}
		return fmt.Errorf("not yet: %+v", listed)
	})
}
