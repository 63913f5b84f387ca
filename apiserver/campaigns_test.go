package apiserver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

type campaign struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Slug         string   `json:"slug"`
	Status       string   `json:"status"`
	Mode         string   `json:"campaign_mode"`
	MaxQuestions int      `json:"max_questions"`
	Objectives   string   `json:"objectives"`
	Description  string   `json:"description"`
	Questions    []string `json:"questions"`
	TeamID       string   `json:"team_id"`
	PublishedAt  *string  `json:"published_at"`
	CreatedAt    string   `json:"created_at"`
	UpdatedAt    string   `json:"updated_at"`
}

func createCampaign(t *testing.T, token string, body any, headers ...string) campaign {
	t.Helper()
	var c campaign
	call(t, "POST", "/api/v1/campaigns", token, body, headers...).expect(t, 201).data(t, &c)
	return c
}

func TestCampaignLifecycleThroughREST(t *testing.T) {
	tn := newTenant(t, "lifecycle", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{
		"title": "User Onboarding Research", "objectives": "Find friction", "campaign_mode": "research",
		"max_questions": 8, "questions": []string{"How did you start?"}, "settings": map[string]any{"language": "en", "anonymous": true},
	})
	if c.Status != "draft" || c.TeamID != tn.id || !strings.HasPrefix(c.Slug, "user-onboarding-research-") || c.MaxQuestions != 8 {
		t.Fatalf("created %+v", c)
	}
	// Read-your-writes: the very next GET sees it.
	var got campaign
	call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expect(t, 200).data(t, &got)
	if got.ID != c.ID || got.Title != c.Title {
		t.Fatalf("GET after POST: %+v", got)
	}
	// The same study, the same second: the slug gets -2.
	twin := createCampaign(t, tn.secret, map[string]any{"title": "User Onboarding Research"})
	if twin.Slug == c.Slug || !strings.HasPrefix(twin.Slug, "user-onboarding-research-") {
		t.Fatalf("slugs %s and %s", c.Slug, twin.Slug)
	}

	var patched campaign
	call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"description": "Twenty interviews"}).expect(t, 200).data(t, &patched)
	if patched.Description != "Twenty interviews" || patched.Title != c.Title || patched.Objectives != "Find friction" {
		t.Fatalf("PATCH lost fields: %+v", patched)
	}
	for _, step := range []struct{ action, status string }{{"publish", "active"}, {"pause", "paused"}, {"publish", "active"}, {"complete", "completed"}} {
		var moved campaign
		call(t, "POST", "/api/v1/campaigns/"+c.ID+"/"+step.action, tn.secret, nil).expect(t, 200).data(t, &moved)
		if moved.Status != step.status {
			t.Fatalf("%s: status %s", step.action, moved.Status)
		}
	}
	e := call(t, "POST", "/api/v1/campaigns/"+c.ID+"/pause", tn.secret, map[string]any{}).expectError(t, 409, "INVALID_STATE")
	if !strings.Contains(e.Message, "completed") || !strings.Contains(e.Message, "paused") {
		t.Fatalf("message must say from and to: %s", e.Message)
	}
	call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"title": "New"}).expectError(t, 409, "INVALID_STATE")

	call(t, "DELETE", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expect(t, 204)
	call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expectError(t, 404, "NOT_FOUND")
	// The v1 alias serves the same routes.
	call(t, "GET", "/v1/campaigns/"+twin.ID, tn.secret, nil).expect(t, 200)
}

func TestCampaignIllegalTransitions(t *testing.T) {
	tn := newTenant(t, "transitions", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Draft study"})
	for _, action := range []string{"pause", "complete"} {
		call(t, "POST", "/api/v1/campaigns/"+c.ID+"/"+action, tn.secret, nil).expectError(t, 409, "INVALID_STATE")
	}
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/publish", tn.secret, `{"unexpected":1}`).expectError(t, 400, "VALIDATION_ERROR")
}

func TestKubectlAndRESTEditTheSameCampaign(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "gitops", qualv1alpha1.PlanEnterprise)
	// Applied by a platform team with kubectl (server-side apply, its own field manager).
	applied := &qualv1alpha1.Campaign{
		TypeMeta:   metav1.TypeMeta{APIVersion: qualv1alpha1.GroupVersion.String(), Kind: "Campaign"},
		ObjectMeta: metav1.ObjectMeta{Name: "pricing-study", Namespace: "team-gitops"},
		Spec:       qualv1alpha1.CampaignSpec{Title: "Pricing study", Description: "from git", MaxQuestions: 5},
	}
	u := toApply(t, applied)
	if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("kubectl"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	var c campaign
	waitFor(t, "campaign visible over REST", func() error {
		list := call(t, "GET", "/api/v1/campaigns?search=pricing", tn.secret, nil)
		var items []campaign
		list.data(t, &items)
		if len(items) != 1 {
			return fmt.Errorf("%d items", len(items))
		}
		c = items[0]
		return nil
	})
	var patched campaign
	call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"objectives": "from REST"}).expect(t, 200).data(t, &patched)
	if patched.Description != "from git" || patched.Objectives != "from REST" {
		t.Fatalf("both edits must survive: %+v", patched)
	}
	// kubectl changes another field; REST sees it, and the REST edit is still there.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := &qualv1alpha1.Campaign{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "team-gitops", Name: "pricing-study"}, obj); err != nil {
			return err
		}
		obj.Spec.MaxQuestions = 7
		return k8s.Update(ctx, obj, client.FieldOwner("kubectl-edit"))
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "kubectl edit visible", func() error {
		var now campaign
		call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).data(t, &now)
		if now.MaxQuestions != 7 || now.Objectives != "from REST" || now.UpdatedAt < now.CreatedAt {
			return fmt.Errorf("%+v", now)
		}
		return nil
	})
}

func TestCampaignValidationNamesTheField(t *testing.T) {
	tn := newTenant(t, "validation", qualv1alpha1.PlanEnterprise)
	for _, c := range []struct {
		body, field string
	}{
		{`{}`, "title"},
		{`{"title": "   "}`, "title"},
		{`{"title": "` + strings.Repeat("x", 201) + `"}`, "title"},
		{`{"title": "T", "max_questions": "ten"}`, "max_questions"},
		{`{"title": "T", "max_questions": 51}`, "max_questions"},
		{`{"title": "T", "campaign_mode": "sales"}`, "campaign_mode"},
		{`{"title": "T", "titel": "x"}`, "titel"},
		{`{"title": "T", "settings": {"language": "english!"}}`, "settings.language"},
		{`{"title": "T", "max_questions": 1, "questions": ["a", "b"]}`, "questions"},
		{`{"title": "T", "status": "active"}`, "status"},
		{`{"title": "T", "team_id": 7}`, "team_id"},
	} {
		e := call(t, "POST", "/api/v1/campaigns", tn.secret, c.body).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) == 0 || e.Details[0].Field != c.field {
			t.Errorf("%s: details %+v, want field %s", c.body, e.Details, c.field)
		}
	}
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title": `).expectError(t, 400, "INVALID_JSON")
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"T"}`, "Content-Type", "text/plain").expectError(t, 415, "UNSUPPORTED_MEDIA_TYPE")
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"`+strings.Repeat("a", 1<<20)+`"}`).expectError(t, 413, "PAYLOAD_TOO_LARGE")
}

// TestUpdatedAtFollowsSpecChanges: updated_at moves with a REST PATCH and a kubectl edit,
// and not with the controllers' own writes.
func TestUpdatedAtFollowsSpecChanges(t *testing.T) {
	tn := newTenant(t, "updated", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Timestamps"})
	if c.UpdatedAt != c.CreatedAt {
		t.Fatalf("a new campaign: created %s, updated %s", c.CreatedAt, c.UpdatedAt)
	}
	get := func() campaign {
		var now campaign
		call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expect(t, 200).data(t, &now)
		return now
	}
	time.Sleep(1100 * time.Millisecond) // timestamps have whole seconds
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/publish", tn.secret, nil).expect(t, 200)
	afterREST := get()
	if afterREST.UpdatedAt <= c.UpdatedAt {
		t.Fatalf("a REST change left updated_at at %s", afterREST.UpdatedAt)
	}
	// The controller stamps publishedAt in status: no spec change.
	waitFor(t, "published", func() error {
		if get().PublishedAt == nil {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if now := get(); now.UpdatedAt != afterREST.UpdatedAt {
		t.Fatalf("the controller's write moved updated_at to %s", now.UpdatedAt)
	}
	time.Sleep(1100 * time.Millisecond)
	obj := &qualv1alpha1.Campaign{}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: "team-updated", Name: c.Slug}, obj); err != nil {
			return err
		}
		obj.Spec.Description = "edited with kubectl"
		return k8s.Update(context.Background(), obj, client.FieldOwner("kubectl-edit"))
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the kubectl edit in updated_at", func() error {
		if now := get(); now.UpdatedAt <= afterREST.UpdatedAt {
			return fmt.Errorf("updated_at still %s", now.UpdatedAt)
		}
		return nil
	})
}
