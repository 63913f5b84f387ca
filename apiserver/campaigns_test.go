package apiserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/events"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
)

type campaign struct {
	ID           string           `json:"id"`
	Title        string           `json:"title"`
	Slug         string           `json:"slug"`
	Status       string           `json:"status"`
	Mode         string           `json:"campaign_mode"`
	MaxQuestions int              `json:"max_questions"`
	Objectives   string           `json:"objectives"`
	Description  string           `json:"description"`
	Questions    []string         `json:"questions"`
	Settings     campaignSettings `json:"settings"`
	TeamID       string           `json:"team_id"`
	PublishedAt  *string          `json:"published_at"`
	CreatedAt    string           `json:"created_at"`
	UpdatedAt    string           `json:"updated_at"`
}

type campaignSettings struct {
	Language    string `json:"language"`
	Anonymous   bool   `json:"anonymous"`
	Interviewer string `json:"interviewer"`
	Analyzer    string `json:"analyzer"`
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
		{`{"title": "T", "settings": {"language": "en-abcdefgh-abcdefgh-abcdefgh-abcdefgh"}}`, "settings.language"},
		{`{"title": "T", "settings": {"analyzer": "gpt"}}`, "settings.analyzer"},
		{`{"title": "T", "settings": {"analyzer": 5}}`, "settings.analyzer"},
		{`{"title": "T", "max_questions": 1, "questions": ["a", "b"]}`, "questions"},
		{`{"title": "T", "status": "active"}`, "status"},
		{`{"title": "T", "team_id": 7}`, "team_id"},
		// Nothing but a title takes null: null is neither "leave it" nor a value.
		{`{"title": "T", "objectives": null}`, "objectives"},
		{`{"title": "T", "questions": null}`, "questions"},
		{`{"title": "T", "campaign_mode": null}`, "campaign_mode"},
		{`{"title": "T", "settings": null}`, "settings"},
		{`{"title": "T", "settings": {"interviewer": null}}`, "settings.interviewer"},
		{`{"title": "T", "settings": {"anonymous": null}}`, "settings.anonymous"},
		{`{"title": "T", "team_id": null}`, "team_id"},
	} {
		e := call(t, "POST", "/api/v1/campaigns", tn.secret, c.body).expectError(t, 400, "VALIDATION_ERROR")
		if len(e.Details) != 1 || e.Details[0].Field != c.field { // one entry per field
			t.Errorf("%s: details %+v, want field %s once", c.body, e.Details, c.field)
		}
		checkOwnWords(t, c.body, e)
	}
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title": `).expectError(t, 400, "INVALID_JSON")
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"T"}`, "Content-Type", "text/plain").expectError(t, 415, "UNSUPPORTED_MEDIA_TYPE")
	// JSON is UTF-8: a body declared in another charset is refused, UTF-8 named in any case is JSON.
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"T"}`, "Content-Type", "application/json; charset=latin1").
		expectError(t, 415, "UNSUPPORTED_MEDIA_TYPE")
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"T"}`, "Content-Type", "application/json; charset=UTF-8").expect(t, 201)
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"`+strings.Repeat("a", 1<<20)+`"}`).expectError(t, 413, "PAYLOAD_TOO_LARGE")

	// An integer written with a fraction of zero or an exponent is that integer (JSON Schema).
	var whole campaign
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"Whole","max_questions":10.0}`).expect(t, 201).data(t, &whole)
	if whole.MaxQuestions != 10 {
		t.Fatalf("max_questions 10.0 stored as %d", whole.MaxQuestions)
	}
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"T","max_questions":1e1}`).expect(t, 201)
	// A PATCH that lowers max_questions below the questions names max_questions, the field it
	// sent; one that adds questions beyond it names questions.
	var three campaign
	call(t, "POST", "/api/v1/campaigns", tn.secret, `{"title":"Three","questions":["a","b","c"]}`).expect(t, 201).data(t, &three)
	for body, field := range map[string]string{`{"max_questions":2}`: "max_questions", `{"questions":["a","b","c","d"],"max_questions":3}`: "questions"} {
		if e := call(t, "PATCH", "/api/v1/campaigns/"+three.ID, tn.secret, body).expectError(t, 400, "VALIDATION_ERROR"); e.Details[0].Field != field {
			t.Errorf("%s: details %+v, want field %s", body, e.Details, field)
		}
	}

	// A DELETE is a write that takes no body: another Content-Type is 415 and a body other than
	// an empty object 400, and neither deletes anything.
	path := "/api/v1/campaigns/" + whole.ID
	call(t, "DELETE", path, tn.secret, `hello`, "Content-Type", "text/plain").expectError(t, 415, "UNSUPPORTED_MEDIA_TYPE")
	call(t, "DELETE", path, tn.secret, `{"force":true}`).expectError(t, 400, "VALIDATION_ERROR")
	call(t, "GET", path, tn.secret, nil).expect(t, 200)
	call(t, "DELETE", path, tn.secret, `{}`).expect(t, 204)
}

// TestCampaignAnalyzerSetting: settings.analyzer is builtin unless set, takes llm on create
// and PATCH, refuses anything else naming the field and changing nothing, and is the
// Campaign's spec.settings.analyzer, so kubectl and REST agree.
func TestCampaignAnalyzerSetting(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "analyzer", qualv1alpha1.PlanEnterprise)
	object := func(c campaign) *qualv1alpha1.Campaign {
		t.Helper()
		obj := &qualv1alpha1.Campaign{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "team-analyzer", Name: c.Slug}, obj); err != nil {
			t.Fatal(err)
		}
		return obj
	}
	get := func(id string) campaign {
		var now campaign
		call(t, "GET", "/api/v1/campaigns/"+id, tn.secret, nil).expect(t, 200).data(t, &now)
		return now
	}

	plain := createCampaign(t, tn.secret, map[string]any{"title": "Default analyzer"})
	if plain.Settings.Analyzer != "builtin" || plain.Settings.Interviewer != "protocol" {
		t.Fatalf("a new campaign's settings: %+v", plain.Settings)
	}
	if got := object(plain).Spec.Settings.Analyzer; got != qualv1alpha1.AnalyzerBuiltin {
		t.Fatalf("spec.settings.analyzer of a new campaign: %q", got)
	}
	llm := createCampaign(t, tn.secret, map[string]any{"title": "LLM analyzer", "settings": map[string]any{"analyzer": "llm"}})
	if llm.Settings.Analyzer != "llm" || llm.Settings.Interviewer != "protocol" || llm.Settings.Language != "en" {
		t.Fatalf("created with analyzer llm: %+v", llm.Settings)
	}
	if got := object(llm).Spec.Settings.Analyzer; got != qualv1alpha1.AnalyzerLLM {
		t.Fatalf("spec.settings.analyzer: %q, want llm", got)
	}

	// PATCH to llm and back; the other settings stay.
	call(t, "PATCH", "/api/v1/campaigns/"+plain.ID, tn.secret, map[string]any{"settings": map[string]any{"anonymous": true}}).expect(t, 200)
	for _, want := range []qualv1alpha1.AnalyzerKind{qualv1alpha1.AnalyzerLLM, qualv1alpha1.AnalyzerBuiltin} {
		var patched campaign
		call(t, "PATCH", "/api/v1/campaigns/"+plain.ID, tn.secret, map[string]any{"settings": map[string]any{"analyzer": want}}).
			expect(t, 200).data(t, &patched)
		if patched.Settings.Analyzer != string(want) || !patched.Settings.Anonymous || patched.Settings.Interviewer != "protocol" {
			t.Fatalf("PATCH analyzer %s: %+v", want, patched.Settings)
		}
		if got := get(plain.ID).Settings.Analyzer; got != string(want) {
			t.Fatalf("GET after PATCH analyzer %s: %s", want, got)
		}
		if got := object(plain).Spec.Settings.Analyzer; got != want {
			t.Fatalf("spec.settings.analyzer after PATCH %s: %q", want, got)
		}
	}

	// The interviewer is written by a PATCH too (it was once accepted and dropped).
	var switched campaign
	call(t, "PATCH", "/api/v1/campaigns/"+plain.ID, tn.secret, map[string]any{"settings": map[string]any{"interviewer": "llm"}}).
		expect(t, 200).data(t, &switched)
	if switched.Settings.Interviewer != "llm" || switched.Settings.Analyzer != "builtin" ||
		object(plain).Spec.Settings.Interviewer != qualv1alpha1.InterviewerLLM {
		t.Fatalf("PATCH interviewer llm: %+v, spec %+v", switched.Settings, object(plain).Spec.Settings)
	}

	// Anything else is 400 naming the field, on create and PATCH, and changes nothing.
	for _, bad := range []string{`"gpt"`, `5`, `"LLM"`, `""`, `true`} {
		settings := `{"settings": {"analyzer": ` + bad + `}}`
		for _, req := range []struct{ method, path, body string }{
			{"POST", "/api/v1/campaigns", `{"title": "Bad analyzer", ` + settings[1:]},
			{"PATCH", "/api/v1/campaigns/" + llm.ID, settings},
		} {
			e := call(t, req.method, req.path, tn.secret, req.body).expectError(t, 400, "VALIDATION_ERROR")
			if len(e.Details) != 1 || e.Details[0].Field != "settings.analyzer" {
				t.Errorf("%s %s: details %+v, want the field settings.analyzer", req.method, req.body, e.Details)
			}
		}
		if now := get(llm.ID); now.Settings.Analyzer != "llm" || now.UpdatedAt != llm.UpdatedAt {
			t.Fatalf("a refused PATCH (%s) changed the campaign: %+v", bad, now)
		}
		if got := object(llm).Spec.Settings.Analyzer; got != qualv1alpha1.AnalyzerLLM {
			t.Fatalf("a refused PATCH (%s) changed spec.settings.analyzer to %q", bad, got)
		}
	}
	var all []campaign
	call(t, "GET", "/api/v1/campaigns", tn.secret, nil).expect(t, 200).data(t, &all)
	if len(all) != 2 {
		t.Fatalf("a refused create made a campaign: %d campaigns", len(all))
	}

	// kubectl edits the setting; REST shows it.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := object(llm)
		obj.Spec.Settings.Analyzer = qualv1alpha1.AnalyzerBuiltin
		return k8s.Update(ctx, obj, client.FieldOwner("kubectl-edit"))
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the kubectl edit of the analyzer over REST", func() error {
		if got := get(llm.ID).Settings.Analyzer; got != "builtin" {
			return fmt.Errorf("analyzer %s", got)
		}
		return nil
	})
	// A Campaign applied without the setting gets the CRD's default, and REST shows it.
	applied := &qualv1alpha1.Campaign{
		TypeMeta:   metav1.TypeMeta{APIVersion: qualv1alpha1.GroupVersion.String(), Kind: "Campaign"},
		ObjectMeta: metav1.ObjectMeta{Name: "applied-analyzer", Namespace: "team-analyzer"},
		Spec:       qualv1alpha1.CampaignSpec{Title: "Applied analyzer", MaxQuestions: 5},
	}
	if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(toApply(t, applied)), client.FieldOwner("kubectl"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	if got := object(campaign{Slug: "applied-analyzer"}).Spec.Settings.Analyzer; got != qualv1alpha1.AnalyzerBuiltin {
		t.Fatalf("the CRD's default analyzer: %q", got)
	}
	waitFor(t, "the applied campaign over REST", func() error {
		var items []campaign
		call(t, "GET", "/api/v1/campaigns?search=applied", tn.secret, nil).expect(t, 200).data(t, &items)
		if len(items) != 1 || items[0].Settings.Analyzer != "builtin" {
			return fmt.Errorf("%+v", items)
		}
		return nil
	})
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

// TestUpdatedAtIgnoresMetadataChanges: `kubectl label` and `kubectl annotate` change no spec,
// so updated_at stays (read from the cache, and from the object as the API server answers
// it); a spec change after them moves it.
func TestUpdatedAtIgnoresMetadataChanges(t *testing.T) {
	tn := newTenant(t, "updated-meta", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Labelled"})
	key := client.ObjectKey{Namespace: "team-" + tn.team.Name, Name: c.Slug}
	time.Sleep(1100 * time.Millisecond) // timestamps have whole seconds
	for manager, patch := range map[string]string{
		"kubectl-label":    `{"metadata":{"labels":{"foo":"bar","spec":"x"}}}`,
		"kubectl-annotate": `{"metadata":{"annotations":{"note":"x"}}}`,
	} {
		obj := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		if err := k8s.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, []byte(patch)), client.FieldOwner(manager)); err != nil {
			t.Fatal(err)
		}
		if at := qualv1alpha1.SpecChangedAt(&obj.ObjectMeta); !at.Equal(obj.CreationTimestamp.UTC()) {
			t.Fatalf("after %s the object's spec changed at %v, created %v", manager, at, obj.CreationTimestamp)
		}
	}
	waitFor(t, "the cache holds the labels", func() error {
		var list qualv1alpha1.CampaignList
		if err := k8s.List(context.Background(), &list, client.InNamespace(key.Namespace), client.MatchingLabels{"foo": "bar"}); err != nil || len(list.Items) != 1 {
			return fmt.Errorf("%d labelled, %w", len(list.Items), err)
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // the suite's server reads its own informer cache
	var now campaign
	call(t, "GET", "/api/v1/campaigns/"+c.ID, tn.secret, nil).expect(t, 200).data(t, &now)
	if now.UpdatedAt != c.UpdatedAt {
		t.Fatalf("a label and an annotation moved updated_at from %s to %s", c.UpdatedAt, now.UpdatedAt)
	}
	call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"description": "a spec change"}).expect(t, 200).data(t, &now)
	if now.UpdatedAt <= c.UpdatedAt {
		t.Fatalf("a spec change left updated_at at %s", now.UpdatedAt)
	}
}

// TestConcurrentCampaignWrites: writes that race each other are never lost. Two PATCHes of
// different fields both land; a pause racing a PATCH both hold; of several publishes of one
// draft exactly one succeeds and the others are INVALID_STATE; the publish answer carries
// published_at.
func TestConcurrentCampaignWrites(t *testing.T) {
	tn := newTenant(t, "races", qualv1alpha1.PlanEnterprise)
	for round := range 4 {
		c := createCampaign(t, tn.secret, map[string]any{"title": "Race base", "max_questions": 5})
		path := "/api/v1/campaigns/" + c.ID
		got := raceCalls(t, tn.secret,
			rawCall{"PATCH", path, `{"title":"Race new title"}`}, rawCall{"PATCH", path, `{"max_questions":9}`})
		if got[0].status != 200 || got[1].status != 200 {
			t.Fatalf("round %d: parallel PATCHes answered %d %s and %d %s", round, got[0].status, got[0].body, got[1].status, got[1].body)
		}
		var now campaign
		call(t, "GET", path, tn.secret, nil).expect(t, 200).data(t, &now)
		if now.Title != "Race new title" || now.MaxQuestions != 9 {
			t.Fatalf("round %d: after two acknowledged PATCHes the campaign is %q with max_questions %d", round, now.Title, now.MaxQuestions)
		}

		got = raceCalls(t, tn.secret, rawCall{"POST", path + "/publish", ""}, rawCall{"POST", path + "/publish", ""},
			rawCall{"POST", path + "/publish", ""})
		won := 0
		for _, r := range got {
			switch r.status {
			case 200:
				won++
				var published campaign
				r.data(t, &published)
				if published.Status != "active" || published.PublishedAt == nil {
					t.Fatalf("round %d: a publish answered status %q, published_at %v", round, published.Status, published.PublishedAt)
				}
			default:
				r.expectError(t, 409, "INVALID_STATE")
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of 3 parallel publishes of one draft succeeded", round, won)
		}

		got = raceCalls(t, tn.secret, rawCall{"PATCH", path, `{"title":"Race paused"}`}, rawCall{"POST", path + "/pause", ""})
		if got[0].status != 200 || got[1].status != 200 {
			t.Fatalf("round %d: PATCH and pause answered %d %s and %d %s", round, got[0].status, got[0].body, got[1].status, got[1].body)
		}
		call(t, "GET", path, tn.secret, nil).expect(t, 200).data(t, &now)
		if now.Title != "Race paused" || now.Status != "paused" {
			t.Fatalf("round %d: after an acknowledged PATCH and pause the campaign is %q, %s", round, now.Title, now.Status)
		}
	}
}

// rawCall is one request of raceCalls.
type rawCall struct{ method, path, body string }

// raceCalls sends every call at once and returns their responses in order. It fails the test
// only after all have returned, from the test's own goroutine.
func raceCalls(t *testing.T, token string, calls ...rawCall) []response {
	t.Helper()
	as := make([]callAs, len(calls))
	for i, c := range calls {
		as[i] = callAs{token: token, rawCall: c}
	}
	return raceCallsAs(t, as...)
}

// callAs is one request of raceCallsAs, made with its own token to the server at base (the
// suite's server when empty).
type callAs struct {
	token string
	rawCall
	base string
}

// raceCallsAs is raceCalls with a token per call.
func raceCallsAs(t *testing.T, calls ...callAs) []response {
	t.Helper()
	out := make([]response, len(calls))
	errs := make([]error, len(calls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			base := c.base
			if base == "" {
				base = api.URL
			}
			req, err := http.NewRequest(c.method, base+c.path, body)
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Authorization", "Bearer "+c.token)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out[i], errs[i] = response{status: resp.StatusCode, header: resp.Header, body: b}, err
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestConcurrentTeamWrites: a rename and a plan change sent at once both land.
func TestConcurrentTeamWrites(t *testing.T) {
	tn := newTenant(t, "team-races", qualv1alpha1.PlanStarter)
	admin := sessionToken(t, "root", "root@platform.example", time.Hour) // a platform admin may set plans
	addMember(t, tn, "root@platform.example", "root", qualv1alpha1.RoleAdmin)
	path := "/api/v1/teams/" + tn.id
	waitFor(t, "the admin's membership", func() error {
		if r := call(t, "GET", path, admin, nil); r.status != 200 {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})
	for round := range 4 {
		name, plan := fmt.Sprintf("Raced %d", round), []string{"pro", "growth"}[round%2]
		got := raceCalls(t, admin, rawCall{"PATCH", path, `{"name":"` + name + `"}`}, rawCall{"PATCH", path, `{"plan":"` + plan + `"}`})
		if got[0].status != 200 || got[1].status != 200 {
			t.Fatalf("round %d: parallel PATCHes answered %d %s and %d %s", round, got[0].status, got[0].body, got[1].status, got[1].body)
		}
		var now struct{ Name, Plan string }
		call(t, "GET", path, admin, nil).expect(t, 200).data(t, &now)
		if now.Name != name || now.Plan != plan {
			t.Fatalf("round %d: after two acknowledged PATCHes the team is %q on %s", round, now.Name, now.Plan)
		}
	}
}

// checkOwnWords fails when a validation error is the Kubernetes API's, passed through: its
// wording ("Too long: may not be more than 35 bytes") and its detail naming no field.
func checkOwnWords(t *testing.T, body string, e apiError) {
	t.Helper()
	for _, d := range e.Details {
		if d.Field == "<nil>" || d.Field == "" || strings.HasPrefix(d.Message, "Too long") ||
			strings.HasPrefix(d.Message, "Too many") || strings.HasPrefix(d.Message, "Duplicate value") {
			t.Errorf("%s: a schema error passed through: %+v", body, e.Details)
		}
	}
}

// A retry of a create, by its Idempotency-Key, after the campaign it made was deleted does not
// make it again: it is 404 NOT_FOUND naming the deleted campaign (Idempotent-Replayed), for
// the rest of the key's day; the same key with another body is still 409
// IDEMPOTENCY_CONFLICT. The deletion erased the answer itself (a campaign's, which holds no
// participant data), keeping only that it is gone.
func TestCampaignCreateReplayAfterDelete(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn := newTenant(t, "replay-deleted-"+b.name, qualv1alpha1.PlanEnterprise)
			body := map[string]any{"title": "Idem", "questions": []string{"Why?"}}
			var made, again campaign
			callAt(t, b.url, "POST", "/api/v1/campaigns", tn.secret, body, "Idempotency-Key", "idem-c-1").expect(t, 201).data(t, &made)
			callAt(t, b.url, "POST", "/api/v1/campaigns", tn.secret, body, "Idempotency-Key", "idem-c-1").expect(t, 201).data(t, &again)
			if again.ID != made.ID {
				t.Fatalf("the replay made %s, not %s", again.ID, made.ID)
			}
			callAt(t, b.url, "DELETE", "/api/v1/campaigns/"+made.ID, tn.secret, nil).expect(t, 204)
			if b.db != db {
				// The suite's Campaign controller erases in the SQLite store; over this one, a
				// manager's would do the same.
				if _, err := b.db.Team(store.TeamID(tn.id)).DeleteCampaignData(t.Context(), store.CampaignID(made.ID)); err != nil {
					t.Fatal(err)
				}
			}
			var r response
			// The deletion waits for the suite's Campaign controller (one worker for every
			// test's campaigns) to release its finalizer: 0.3 s alone, but past 20 s once and
			// past a minute once in full runs on a loaded 2-core machine.
			testenv.Eventually(t, 3*time.Minute, "the replay answers the deletion", func() error {
				if r = callAt(t, b.url, "POST", "/api/v1/campaigns", tn.secret, body, "Idempotency-Key", "idem-c-1"); r.status != 404 {
					return fmt.Errorf("%d %s", r.status, r.body)
				}
				return nil
			})
			if e := r.expectError(t, 404, "NOT_FOUND"); !strings.Contains(e.Message, made.ID) || r.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("the replay after the delete: %s %v", r.body, r.header)
			}
			callAt(t, b.url, "POST", "/api/v1/campaigns", tn.secret, map[string]any{"title": "Other"}, "Idempotency-Key", "idem-c-1").
				expectError(t, 409, "IDEMPOTENCY_CONFLICT")
			var listed []campaign
			callAt(t, b.url, "GET", "/api/v1/campaigns", tn.secret, nil).expect(t, 200).data(t, &listed)
			if len(listed) != 0 {
				t.Fatalf("a replay after the delete made %+v", listed)
			}
		})
	}
}

// A campaign whose status.phase a cluster admin wrote by hand (Completed, while the spec says
// Active) is set back from the spec, so REST and kubectl agree, and a REST pause then is the
// pause the controller accepts: it answered 200 while the controller stalled on
// IllegalTransition, judging the hand-written phase.
func TestHandWrittenCampaignPhaseDoesNotSplitRESTAndTheController(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "forged-phase", qualv1alpha1.PlanPro)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Forged phase", "questions": []string{"Why?"}})
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/publish", tn.secret, nil).expect(t, 200)
	obj := &qualv1alpha1.Campaign{}
	key := client.ObjectKey{Namespace: "team-" + tn.team.Name, Name: c.Slug}
	waitPhase(t, "the campaign active", key, obj, qualv1alpha1.StateActive)
	forged := client.MergeFrom(obj.DeepCopy())
	obj.Status.Phase = qualv1alpha1.StateCompleted
	obj.Status.CompletedAt = &metav1.Time{Time: obj.Status.PublishedAt.Time}
	if err := k8s.Status().Patch(ctx, obj, forged); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, "the phase set back from the spec", key, obj, qualv1alpha1.StateActive)

	var paused campaign
	call(t, "POST", "/api/v1/campaigns/"+c.ID+"/pause", tn.secret, nil).expect(t, 200).data(t, &paused)
	if paused.Status != "paused" {
		t.Fatalf("paused: %+v", paused)
	}
	waitFor(t, "the pause accepted", func() error {
		if err := k8s.Get(ctx, key, obj); err != nil {
			return err
		}
		if obj.Status.Phase != qualv1alpha1.StatePaused || obj.Status.ObservedGeneration != obj.Generation {
			return fmt.Errorf("phase %s at generation %d of %d", obj.Status.Phase, obj.Status.ObservedGeneration, obj.Generation)
		}
		for _, cond := range obj.Status.Conditions {
			if cond.Type == qualv1alpha1.ConditionReady && cond.Status != metav1.ConditionTrue {
				return fmt.Errorf("ready %s: %s %s", cond.Status, cond.Reason, cond.Message)
			}
		}
		return nil
	})
}

// waitPhase waits until the Campaign at key, read into obj, is in phase.
func waitPhase(t *testing.T, what string, key client.ObjectKey, obj *qualv1alpha1.Campaign, phase qualv1alpha1.CampaignState) {
	t.Helper()
	waitFor(t, what, func() error {
		if err := k8s.Get(context.Background(), key, obj); err != nil {
			return err
		}
		if obj.Status.Phase != phase {
			return fmt.Errorf("phase %s", obj.Status.Phase)
		}
		return nil
	})
}

// TestAPatchThatChangesNothingWritesNothing: a PATCH that sets what the campaign already holds
// (a fresh campaign has no description, objectives or anonymous setting written) leaves its
// generation and announces nothing; the next real change is the one campaign.updated.
func TestAPatchThatChangesNothingWritesNothing(t *testing.T) {
	tn := newTenant(t, "noop-patch", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, tn.secret, map[string]any{"title": "Unchanged", "questions": []string{"Why?"}})
	key := client.ObjectKey{Namespace: "team-" + tn.team.Name, Name: c.Slug}
	obj := &qualv1alpha1.Campaign{}
	if err := k8s.Get(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	generation := obj.Generation
	for _, body := range []map[string]any{
		{"title": "Unchanged"},
		{"description": "", "objectives": "", "settings": map[string]any{"anonymous": false, "language": "en"}},
		{"questions": []string{"Why?"}, "max_questions": 10},
	} {
		var got campaign
		call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, body).expect(t, 200).data(t, &got)
		if got.Title != "Unchanged" || got.UpdatedAt != c.UpdatedAt {
			t.Fatalf("PATCH %v answered %+v", body, got)
		}
	}
	if err := k8s.Get(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	if obj.Generation != generation || obj.Spec.Description != "" {
		t.Fatalf("PATCHes that changed nothing moved the generation from %d to %d", generation, obj.Generation)
	}
	call(t, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"description": "now changed"}).expect(t, 200)
	updates := func() int {
		evs, err := db.Team(store.TeamID(tn.id)).PendingEvents(context.Background(), store.MaxPageLimit)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Type == events.CampaignUpdated && ev.Subject == c.ID {
				n++
			}
		}
		return n
	}
	waitFor(t, "campaign.updated for the real change", func() error {
		if n := updates(); n == 0 {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	if n := updates(); n != 1 {
		t.Fatalf("%d campaign.updated events, want 1 (the real change)", n)
	}
}
