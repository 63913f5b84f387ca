package dataapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/discovery"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

var (
	findingsGVR = datav1alpha1.SchemeGroupVersion.WithResource("findings")
	messagesGVR = datav1alpha1.SchemeGroupVersion.WithResource("messages")
	analysesGVR = datav1alpha1.SchemeGroupVersion.WithResource("analyses")
)

// TestDiscoveryOfEveryResource: every resource gets and lists, namespaced, in the qual
// category.
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
		"messages": {metav1.Verbs{"get", "list"}, false}, "analyses": {metav1.Verbs{"get", "list"}, true},
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
	// A finding may carry two tags, which one lookup cannot ask for: refused, not narrowed.
	if _, err := dc.List(ctx, metav1.ListOptions{FieldSelector: "spec.tag=setup,spec.tag=billing"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("two tags: %v, want BadRequest", err)
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

// analysis queues an analysis of a campaign and moves it to status; a succeeded one made
// one finding. Only a queued or running one keeps the campaign from queueing another.
func analysis(t *testing.T, ts store.TeamStore, c store.CampaignID, status store.AnalysisStatus) store.Analysis {
	t.Helper()
	ctx := context.Background()
	a, err := ts.CreateAnalysis(ctx, c)
	if err == nil && status != store.AnalysisQueued {
		a, err = ts.StartAnalysis(ctx, a.ID)
	}
	var res *store.AnalysisResult
	switch status {
	case store.AnalysisSucceeded:
		var fd store.Finding
		if err == nil {
			fd, err = ts.CreateFinding(ctx, store.NewFinding{CampaignID: c, Type: store.FindingTheme, Title: "From " + string(a.ID)})
		}
		res = &store.AnalysisResult{FindingIDs: []store.FindingID{fd.ID}, Analyzer: "builtin"}
	case store.AnalysisFailed:
		res = &store.AnalysisResult{Error: "model unavailable"}
	}
	if err == nil && res != nil {
		a, err = ts.FinishAnalysis(ctx, a.ID, *res)
	}
	if err != nil {
		t.Fatalf("analysis %s: %v", status, err)
	}
	return a
}

// TestAnalyses: analyses list newest first, by campaign and phase, page with limit and
// continue while analyses are queued between pages, get by name, and render their table.
func TestAnalyses(t *testing.T) {
	ctx := context.Background()
	ns, ts := team(t, "analyses")
	a, b := campaign(t, ns, "analysed"), campaign(t, ns, "reanalysed")
	var made []store.Analysis // oldest first
	for _, st := range []store.AnalysisStatus{store.AnalysisSucceeded, store.AnalysisFailed, store.AnalysisSucceeded, store.AnalysisQueued} {
		made = append(made, analysis(t, ts, a, st))
	}
	made = append(made, analysis(t, ts, b, store.AnalysisRunning))
	names := func(idx ...int) []string {
		out := make([]string, 0, len(idx))
		for _, i := range idx {
			out = append(out, string(made[i].ID))
		}
		return out
	}
	dc := dynamicClient(t, env.Config).Resource(analysesGVR).Namespace(ns)
	for sel, want := range map[string][]string{
		"":                              names(4, 3, 2, 1, 0),
		"spec.campaign=analysed":        names(3, 2, 1, 0),
		"spec.campaignUID=" + string(b): names(4),
		"status.phase=succeeded":        names(2, 0),
		"spec.campaign=analysed,status.phase=failed":   names(1),
		"spec.campaign=reanalysed,status.phase=queued": nil,
		"metadata.name=" + string(made[1].ID):          names(1),
	} {
		list, err := dc.List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			t.Fatalf("%q: %v", sel, err)
		}
		if got := itemNames(list); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", sel, got, want)
		}
	}
	for _, sel := range []string{"status.phase=done", "spec.type=theme", "status.phase!=failed"} {
		if _, err := dc.List(ctx, metav1.ListOptions{FieldSelector: sel}); !apierrors.IsBadRequest(err) {
			t.Errorf("%q: %v, want BadRequest", sel, err)
		}
	}
	testAnalysisPages(t, ts, ns, names(4, 3, 2, 1, 0))

	got, err := dc.Get(ctx, string(made[0].ID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	phase, _, _ := unstructured.NestedString(got.Object, "status", "phase")
	name, _, _ := unstructured.NestedString(got.Object, "spec", "campaign")
	findings, _, _ := unstructured.NestedStringSlice(got.Object, "status", "findings")
	ran, _, _ := unstructured.NestedString(got.Object, "status", "analyzer")
	if phase != "succeeded" || name != "analysed" || !slices.Equal(findings, []string{string(made[0].FindingIDs[0])}) || ran != "builtin" {
		t.Fatalf("analysis %v", got.Object)
	}
	testAnalysisTable(t, ns, made[0], made[4])
}

// testAnalysisPages walks the namespace's analyses two at a time, newest first, queueing one
// in a new campaign between pages: it sorts before the cursor, so the walk sees exactly want.
// A continue token used with another selector is refused.
func testAnalysisPages(t *testing.T, ts store.TeamStore, ns string, want []string) {
	t.Helper()
	ctx := context.Background()
	dc := dynamicClient(t, env.Config).Resource(analysesGVR).Namespace(ns)
	var got []string
	opts := metav1.ListOptions{Limit: 2}
	for page := 0; ; page++ {
		list, err := dc.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) > 2 || page > len(want) {
			t.Fatalf("page %d: %d items", page, len(list.Items))
		}
		got = append(got, itemNames(list)...)
		if list.GetContinue() == "" {
			break
		}
		analysis(t, ts, campaign(t, ns, fmt.Sprintf("paged-%d", page)), store.AnalysisQueued)
		opts.Continue = list.GetContinue()
		if page == 0 {
			_, err := dc.List(ctx, metav1.ListOptions{Limit: 2, Continue: opts.Continue, FieldSelector: "status.phase=failed"})
			if !apierrors.IsBadRequest(err) {
				t.Fatalf("token with another selector: %v, want BadRequest", err)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
}

// testAnalysisTable checks kubectl's table of a finished and a running analysis.
func testAnalysisTable(t *testing.T, ns string, done, running store.Analysis) {
	t.Helper()
	raw, err := restClient(t, env.Config).Get().AbsPath("/apis/data.qual.cx/v1alpha1/namespaces", ns, "analyses").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if !slices.Equal(cols, []string{"Name", "Campaign", "Phase", "Findings", "Started", "Finished", "Age", "Analyzer", "Error"}) {
		t.Fatalf("columns %v", cols)
	}
	rows := map[any][]any{}
	for _, r := range table.Rows {
		rows[r.Cells[0]] = r.Cells
	}
	ago := regexp.MustCompile(`^\d+s$`)
	d, r := rows[string(done.ID)], rows[string(running.ID)]
	if len(d) != 9 || d[1] != "analysed" || d[2] != "succeeded" || d[3] != float64(1) ||
		!ago.MatchString(fmt.Sprint(d[4])) || !ago.MatchString(fmt.Sprint(d[5])) || d[7] != "builtin" || d[8] != "<none>" {
		t.Errorf("succeeded row %v", d)
	}
	if len(r) != 9 || r[1] != "reanalysed" || r[2] != "running" || r[3] != float64(0) ||
		!ago.MatchString(fmt.Sprint(r[4])) || r[5] != "<none>" || r[7] != "<none>" {
		t.Errorf("running row %v", r)
	}
}

// TestOnlyCanonicalNamesFind: a get, or a metadata.name selector, finds a row only by its
// own name. A message's sequence is parsed, so "-02" and "-+2" would reach message 2 under
// another name; ids are compared as they are, so another case finds nothing either.
func TestOnlyCanonicalNamesFind(t *testing.T) {
	ctx := context.Background()
	ns, ts := team(t, "canonical")
	uid := campaign(t, ns, "named")
	iv := interviews(t, ts, uid, 1)[0]
	fd, err := ts.CreateFinding(ctx, store.NewFinding{CampaignID: uid, Type: store.FindingTheme, Title: "Names matter", Frequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	an := analysis(t, ts, uid, store.AnalysisQueued)
	id := string(iv.ID)
	for gvr, c := range map[string]struct {
		name  string
		other []string
	}{
		"messages":   {id + "-2", []string{id + "-02", id + "-+2", id + "-002", id + "-2 ", strings.ToUpper(id) + "-2"}},
		"interviews": {id, []string{strings.ToUpper(id), " " + id}},
		"findings":   {string(fd.ID), []string{strings.ToUpper(string(fd.ID))}},
		"analyses":   {string(an.ID), []string{strings.ToUpper(string(an.ID))}},
	} {
		dc := dynamicClient(t, env.Config).Resource(datav1alpha1.SchemeGroupVersion.WithResource(gvr)).Namespace(ns)
		if got, err := dc.Get(ctx, c.name, metav1.GetOptions{}); err != nil || got.GetName() != c.name {
			t.Fatalf("%s %s: %v, %v", gvr, c.name, itemName(got), err)
		}
		for _, name := range c.other {
			got, err := dc.Get(ctx, name, metav1.GetOptions{})
			if !apierrors.IsNotFound(err) {
				t.Errorf("%s %q: %s, %v, want NotFound", gvr, name, itemName(got), err)
			}
			list, err := dc.List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
			if err != nil {
				t.Errorf("%s metadata.name=%q: %v", gvr, name, err)
			} else if len(list.Items) != 0 {
				t.Errorf("%s metadata.name=%q: %v, want none", gvr, name, itemNames(list))
			}
		}
	}
}

// itemName is an object's name, or "<nil>".
func itemName(o *unstructured.Unstructured) string {
	if o == nil {
		return "<nil>"
	}
	return o.GetName()
}
