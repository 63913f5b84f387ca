package resources_test

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/resources"
)

// An object rendered before it is written (a controller stamps a time and renders the webhook
// event of the change) shows its times as the object renders once read back from the API
// server, which keeps metav1.Time in whole seconds.
func TestKubernetesTimesRenderAsStored(t *testing.T) {
	stamped := metav1.NewTime(time.Date(2026, 12, 4, 10, 22, 55, 82926595, time.FixedZone("CET", 3600)))
	stored := roundTrip(t, stamped)

	cmp := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: stamped}}
	cmp.Status.PublishedAt = &stamped
	key := &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: stamped}}
	key.Spec.Revoked, key.Status.RevokedAt, key.Status.LastUsedAt, key.Spec.ExpiresAt = true, &stamped, &stamped, &stamped
	wh := &qualv1alpha1.Webhook{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: stamped}}
	wh.Status.DisabledAt, wh.Status.LastDeliveryAt, wh.Status.LastSuccessAt = &stamped, &stamped, &stamped
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: stamped}}

	for name, got := range map[string]any{
		"campaign": resources.NewCampaign(cmp, "team"),
		"key":      resources.NewAPIKey(key, "team", nil),
		"webhook":  resources.NewWebhook(wh, "team"),
		"team":     resources.NewTeam(team, ""),
		"member":   resources.NewMember(qualv1alpha1.TeamMember{Email: "ada@example.com", AddedAt: &stamped}),
	} {
		raw, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"created_at", "updated_at", "published_at", "revoked_at", "last_used_at", "expires_at",
			"disabled_at", "last_delivery_at", "last_success_at", "added_at"} {
			if v, ok := fields[f]; ok && v != stored {
				t.Errorf("%s %s = %v, want %s as stored", name, f, v, stored)
			}
		}
	}
}

// roundTrip is a time as the API server stores and answers it.
func roundTrip(t *testing.T, tm metav1.Time) string {
	t.Helper()
	raw, err := json.Marshal(tm)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}
