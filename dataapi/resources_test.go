package dataapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

var (
	findingsGVR = datav1alpha1.SchemeGroupVersion.WithResource("findings")
	messagesGVR = datav1alpha1.SchemeGroupVersion.WithResource("messages")
	analysesGVR = datav1alpha1.SchemeGroupVersion.WithResource("analyses")
)

// TestDiscoveryOfEveryResource: findings and messages list; analyses, which the store
// cannot list, only get and stay out of the qual category.
func TestDiscoveryOfEveryResource(t *testing.T) {
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	list, err := dc.ServerResourcesForGroupVersion(datav1alpha1.SchemeGroupVersion.String())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		verbs    metav1.Verbs
		category bool
	}{
		"interviews": {metav1.Verbs{"get", "list"}, true}, "findings": {metav1.Verbs{"get", "list"}, true},
		"messages": {metav1.Verbs{"get", "list"}, true}, "analyses": {metav1.Verbs{"get"}, false},
	}
	for _, r := range list.APIResources {
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected resource %s", r.Name)
			continue
		}
		if !slices.Equal(r.Verbs, w.verbs) || slices.Contains(r.Categories, "qual") != w.category || !r.Namespaced {
			t.Errorf("%s: verbs %v categories %v namespaced %v", r.Name, r.Verbs, r.Categories, r.Namespaced)
		}
		delete(want, r.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing %v", want)
	}
}

// TestFindings: list by type and tag, get with evidence, Table columns.
func TestFindings(t *testing.T) {
	ctx := context.Background()
	ns, ts := team(t, "findings")
	uid := campaign(t, ns, "found")
	iv := interviews(t, ts, uid, 1)[0]
	theme, err := ts.CreateFinding(ctx, store.NewFinding{CampaignID: uid, Type: store.FindingTheme, Title: "Setup is slow",
		Frequency: 1, Confidence: 0.8, Tags: []string{"setup"}, Evidence: []store.Evidence{{InterviewID: iv.ID, Quote: "It broke."}}})
	if err != nil {
		t.Fatal(err)
	}
	pain, err := ts.CreateFinding(ctx, store.NewFinding{CampaignID: uid, Type: store.FindingPainPoint, Title: "Billing confuses", Frequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	dc := dynamicClient(t, env.Config).Resource(findingsGVR).Namespace(ns)
	for sel, want := range map[string][]string{
		"":                    {string(pain.ID), string(theme.ID)},
		"spec.type=theme":     {string(theme.ID)},
		"spec.tag=setup":      {string(theme.ID)},
		"spec.campaign=found": {string(pain.ID), string(theme.ID)},
	} {
		list, err := dc.List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			t.Fatalf("%q: %v", sel, err)
		}
		if got := itemNames(list); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", sel, got, want)
		}
	}
	got, err := dc.Get(ctx, string(theme.ID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev, _, _ := unstructured.NestedSlice(got.Object, "spec", "evidence")
	conf, _, _ := unstructured.NestedString(got.Object, "spec", "confidence")
	if len(ev) != 1 || ev[0].(map[string]any)["interview"] != string(iv.ID) || conf != "0.8" {
		t.Fatalf("finding %v", got.Object["spec"])
	}
	if _, err := dc.List(ctx, metav1.ListOptions{FieldSelector: "spec.type=rumour"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("unknown type: %v, want BadRequest", err)
	}
}

// TestMessages: listed per interview by sequence, got by "<interview>-<sequence>", and a
// list across interviews is refused.
func TestMessages(t *testing.T) {
	ctx := context.Background()
	ns, ts := team(t, "messages")
	iv := interviews(t, ts, campaign(t, ns, "talked"), 1)[0]
	dc := dynamicClient(t, env.Config).Resource(messagesGVR).Namespace(ns)
	list, err := dc.List(ctx, metav1.ListOptions{FieldSelector: "spec.interview=" + string(iv.ID), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	first := fmt.Sprintf("%s-1", iv.ID)
	if got := itemNames(list); !slices.Equal(got, []string{first}) || list.GetContinue() == "" {
		t.Fatalf("page 1: %v continue %q", got, list.GetContinue())
	}
	list, err = dc.List(ctx, metav1.ListOptions{FieldSelector: "spec.interview=" + string(iv.ID), Limit: 1, Continue: list.GetContinue()})
	if err != nil {
		t.Fatal(err)
	}
	if got := itemNames(list); !slices.Equal(got, []string{fmt.Sprintf("%s-2", iv.ID)}) || list.GetContinue() != "" {
		t.Fatalf("page 2: %v continue %q", got, list.GetContinue())
	}
	msg, err := dc.Get(ctx, fmt.Sprintf("%s-2", iv.ID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, _ := unstructured.NestedString(msg.Object, "spec", "content"); c != "It broke." {
		t.Fatalf("message 2: %v", msg.Object["spec"])
	}
	for _, name := range []string{fmt.Sprintf("%s-3", iv.ID), "nonsense", string(iv.ID)} {
		if _, err := dc.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get %s: %v, want NotFound", name, err)
		}
	}
	if _, err := dc.List(ctx, metav1.ListOptions{}); !apierrors.IsBadRequest(err) {
		t.Fatalf("list without an interview: %v, want BadRequest", err)
	}
}

// TestAnalyses: an analysis is read by name with its state.
func TestAnalyses(t *testing.T) {
	ctx := context.Background()
	ns, ts := team(t, "analyses")
	a, err := ts.CreateAnalysis(ctx, campaign(t, ns, "analysed"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := dynamicClient(t, env.Config).Resource(analysesGVR).Namespace(ns).Get(ctx, string(a.ID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	phase, _, _ := unstructured.NestedString(got.Object, "status", "phase")
	name, _, _ := unstructured.NestedString(got.Object, "spec", "campaign")
	if phase != "queued" || name != "analysed" {
		t.Fatalf("analysis %v", got.Object)
	}
}
