package dataapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

var interviewsGVR = datav1alpha1.SchemeGroupVersion.WithResource("interviews")

func dynamicClient(t *testing.T, cfg *rest.Config) dynamic.Interface {
	t.Helper()
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// TestDiscovery: the group is in the kube-apiserver's discovery, read-only, in the qual
// category, with no watch.
func TestDiscovery(t *testing.T) {
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	list, err := dc.ServerResourcesForGroupVersion(datav1alpha1.SchemeGroupVersion.String())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]metav1.APIResource{}
	for _, r := range list.APIResources {
		got[r.Name] = r
	}
	iv, ok := got["interviews"]
	if !ok {
		t.Fatalf("no interviews in %v", list.APIResources)
	}
	if !iv.Namespaced || iv.Kind != "Interview" || !slices.Equal(iv.Verbs, metav1.Verbs{"get", "list"}) ||
		!slices.Contains(iv.Categories, "qual") || !slices.Contains(iv.ShortNames, "iv") || iv.SingularName != "interview" {
		t.Fatalf("interviews: %+v", iv)
	}
}

// TestAPIServiceAvailable: the kube-apiserver's availability controller reached the server
// through the ExternalName Service and checked its discovery.
func TestAPIServiceAvailable(t *testing.T) {
	if err := env.WaitAvailable(context.Background(), true); err != nil {
		t.Fatal(err)
	}
}

// TestListAndGet: a dynamic client lists and gets the store's rows through the aggregation
// layer, with the Campaign's name resolved and the row's numbers as they are in the store.
func TestListAndGet(t *testing.T) {
	ns, ts := team(t, "listing")
	uid := campaign(t, ns, "onboarding")
	ivs := interviews(t, ts, uid, 3)
	dc := dynamicClient(t, env.Config)
	list, err := dc.Resource(interviewsGVR).Namespace(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if names := itemNames(list); !slices.Equal(names, []string{string(ivs[2].ID), string(ivs[1].ID), string(ivs[0].ID)}) {
		t.Fatalf("list names %v, want the three interviews newest first", names)
	}
	got, err := dc.Resource(interviewsGVR).Namespace(ns).Get(context.Background(), string(ivs[0].ID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"spec.campaign": "onboarding", "spec.campaignUID": string(uid), "status.phase": "in_progress",
		"status.messageCount": int64(2), "status.questionCount": int64(1), "spec.participant.name": "participant 0",
		"metadata.resourceVersion": fmt.Sprint(ivs[0].UpdatedAt.UnixMicro()), "metadata.uid": string(ivs[0].ID),
	}
	for path, w := range want {
		v, _, _ := unstructured.NestedFieldNoCopy(got.Object, strings.Split(path, ".")...)
		if v != w {
			t.Errorf("%s = %v (%T), want %v", path, v, v, w)
		}
	}
	// Another team's interview, by name in this namespace, is not found.
	otherNS, otherTS := team(t, "listing-other")
	other := interviews(t, otherTS, campaign(t, otherNS, "other"), 1)
	_, err = dc.Resource(interviewsGVR).Namespace(ns).Get(context.Background(), string(other[0].ID), metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("another team's interview: %v, want NotFound", err)
	}
	// All namespaces: both teams' rows, each in its own namespace.
	all, err := dc.Resource(interviewsGVR).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, it := range all.Items {
		seen[it.GetName()] = it.GetNamespace()
	}
	if seen[string(ivs[0].ID)] != ns || seen[string(other[0].ID)] != otherNS {
		t.Fatalf("all namespaces: %v", seen)
	}
}

// TestFieldSelectors: campaign (by name or UID) and phase select through the store.
func TestFieldSelectors(t *testing.T) {
	ns, ts := team(t, "selectors")
	a, b := campaign(t, ns, "alpha"), campaign(t, ns, "beta")
	inA, inB := interviews(t, ts, a, 2), interviews(t, ts, b, 1)
	if _, err := ts.EndInterview(context.Background(), inA[0].ID, store.InterviewCompleted); err != nil {
		t.Fatal(err)
	}
	dc := dynamicClient(t, env.Config).Resource(interviewsGVR).Namespace(ns)
	cases := map[string][]string{
		"spec.campaign=alpha":                          {string(inA[1].ID), string(inA[0].ID)},
		"spec.campaignUID=" + string(b):                {string(inB[0].ID)},
		"status.phase=completed":                       {string(inA[0].ID)},
		"spec.campaign=alpha,status.phase=in_progress": {string(inA[1].ID)},
		"spec.campaign=nosuch":                         nil,
		"metadata.name=" + string(inB[0].ID):           {string(inB[0].ID)},
		"metadata.name=":                               nil, // no object has an empty name
		"metadata.namespace=" + ns:                     {string(inB[0].ID), string(inA[1].ID), string(inA[0].ID)},
		"metadata.namespace=another":                   nil,
		// Every term holds: a field equal to two values matches nothing, to one twice as once.
		"status.phase=completed,status.phase=in_progress": nil,
		"spec.campaign=alpha,spec.campaign=beta":          nil,
		"spec.campaign=beta,spec.campaign=beta":           {string(inB[0].ID)},
	}
	for sel, want := range cases {
		list, err := dc.List(context.Background(), metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		if got := itemNames(list); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", sel, got, want)
		}
	}
	// A field with no value would select every row: refused, as one the API does not serve.
	for _, sel := range []string{"spec.title=x", "status.phase!=completed", "status.phase=done", "spec.campaign=",
		"spec.campaignUID=", "status.phase=", "spec.campaign=alpha,status.phase="} {
		if _, err := dc.List(context.Background(), metav1.ListOptions{FieldSelector: sel}); !apierrors.IsBadRequest(err) {
			t.Errorf("%s: %v, want BadRequest", sel, err)
		}
	}
	// Across namespaces, a namespace selector keeps that namespace's rows only.
	other, ots := team(t, "selectors-other")
	interviews(t, ots, campaign(t, other, "gamma"), 1)
	all := dynamicClient(t, env.Config).Resource(interviewsGVR)
	for sel, want := range map[string]int{"metadata.namespace=" + ns: 3, "metadata.namespace=" + other: 1, "metadata.namespace=": 0} {
		list, err := all.List(context.Background(), metav1.ListOptions{FieldSelector: sel})
		if err != nil || len(list.Items) != want {
			t.Errorf("across namespaces, %s: %d items, %v; want %d", sel, len(list.Items), err, want)
		}
		for _, it := range list.Items {
			if ns := strings.TrimPrefix(sel, "metadata.namespace="); it.GetNamespace() != ns {
				t.Errorf("%s: an item of %s", sel, it.GetNamespace())
			}
		}
	}
	// The rows carry no labels: a selector that needs one matches nothing.
	list, err := dc.List(context.Background(), metav1.ListOptions{LabelSelector: "app=x"})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("label selector: %v items, %v", len(list.Items), err)
	}
}

// TestParticipantSelectors: a participant's interviews, by e-mail (ASCII letters in either
// case) or external id, in the namespace's team only, page by page.
func TestParticipantSelectors(t *testing.T) {
	ctx := context.Background()
	ns, ts := team(t, "participants")
	a, b := campaign(t, ns, "alpha"), campaign(t, ns, "beta")
	start := func(ts store.TeamStore, c store.CampaignID, email, external string) string {
		iv, err := ts.CreateInterview(ctx, store.NewInterview{CampaignID: c, Participant: store.Participant{Email: email, ExternalID: external}})
		if err != nil {
			t.Fatal(err)
		}
		return string(iv.ID)
	}
	ada1, ada2 := start(ts, a, "Ada@Example.com", "crm-1"), start(ts, b, "ada@example.com", "")
	bob := start(ts, a, "bob@example.com", "CRM-1")
	other, ots := team(t, "participants-other")
	othersAda := start(ots, campaign(t, other, "gamma"), "ada@example.com", "crm-1")

	dc := dynamicClient(t, env.Config).Resource(interviewsGVR)
	for sel, want := range map[string][]string{
		"spec.participant.email=ADA@example.com":                     {ada2, ada1},
		"spec.participant.email=ada@example.com,spec.campaign=alpha": {ada1},
		"spec.participant.externalID=crm-1":                          {ada1},
		"spec.participant.externalID=CRM-1":                          {bob},
		"spec.participant.email=nobody@example.com":                  nil,
	} {
		list, err := dc.Namespace(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		if got := itemNames(list); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", sel, got, want)
		}
	}
	// A lookup with nothing to look up (an erasure script's unset variable) is refused, in a
	// namespace and across them, never answered with every interview.
	for _, sel := range []string{"spec.participant.email=", "spec.participant.externalID=", "spec.participant.email= ",
		"spec.participant.externalID=,spec.campaign=alpha"} {
		for what, list := range map[string]dynamic.ResourceInterface{"in " + ns: dc.Namespace(ns), "across namespaces": dc} {
			if _, err := list.List(ctx, metav1.ListOptions{FieldSelector: sel}); !apierrors.IsBadRequest(err) {
				t.Errorf("%s %s: %v, want BadRequest", what, sel, err)
			}
		}
	}
	// Across namespaces, each team's Ada in her own namespace; one a page, the token bound
	// to the participant.
	seen := map[string]string{}
	opts := metav1.ListOptions{FieldSelector: "spec.participant.email=ada@example.com", Limit: 1}
	for {
		list, err := dc.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range list.Items {
			seen[it.GetName()] = it.GetNamespace()
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			break
		}
		bound := metav1.ListOptions{FieldSelector: "spec.participant.email=bob@example.com", Limit: 1, Continue: opts.Continue}
		if _, err := dc.List(ctx, bound); !apierrors.IsBadRequest(err) {
			t.Fatalf("a token with another participant: %v, want BadRequest", err)
		}
	}
	if len(seen) < 3 || seen[ada1] != ns || seen[ada2] != ns || seen[othersAda] != other || seen[bob] != "" {
		t.Fatalf("across namespaces: %v", seen)
	}
}

// TestPagination: limit and continue walk every interview once, newest first, while
// interviews are added between pages; a token used with another query is refused.
func TestPagination(t *testing.T) {
	ns, ts := team(t, "paging")
	uid := campaign(t, ns, "paged")
	ivs := interviews(t, ts, uid, 7)
	dc := dynamicClient(t, env.Config).Resource(interviewsGVR).Namespace(ns)
	var names []string
	opts := metav1.ListOptions{Limit: 3}
	for page := 0; ; page++ {
		list, err := dc.List(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) > 3 {
			t.Fatalf("page %d has %d items", page, len(list.Items))
		}
		names = append(names, itemNames(list)...)
		if list.GetContinue() == "" {
			break
		}
		// Newer rows land before the cursor, so the walk neither repeats nor skips.
		interviews(t, ts, uid, 1)
		opts.Continue = list.GetContinue()
		if page == 0 {
			_, err := dc.List(context.Background(), metav1.ListOptions{Limit: 3, Continue: opts.Continue, FieldSelector: "status.phase=completed"})
			if !apierrors.IsBadRequest(err) {
				t.Fatalf("token with another selector: %v, want BadRequest", err)
			}
		}
	}
	want := make([]string, 0, len(ivs))
	for i := len(ivs) - 1; i >= 0; i-- {
		want = append(want, string(ivs[i].ID))
	}
	if !slices.Equal(names, want) {
		t.Fatalf("pages gave %v, want %v", names, want)
	}
}

// TestTable: kubectl's server-side table has the printer columns, filled from the row.
func TestTable(t *testing.T) {
	ns, ts := team(t, "table")
	iv := interviews(t, ts, campaign(t, ns, "tabled"), 1)[0]
	rc := restClient(t, env.Config)
	raw, err := rc.Get().AbsPath("/apis/data.qual.cx/v1alpha1/namespaces", ns, "interviews").
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
	if !slices.Equal(cols, []string{"Name", "Campaign", "Phase", "Messages", "Questions", "Age", "Participant", "Last-Change"}) {
		t.Fatalf("columns %v", cols)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d rows", len(table.Rows))
	}
	cells := table.Rows[0].Cells
	if cells[0] != string(iv.ID) || cells[1] != "tabled" || cells[2] != "in_progress" || cells[3] != float64(2) || cells[6] != "participant 0" {
		t.Fatalf("cells %v", cells)
	}
}

// TestViewerAccess: a team's viewer, bound by the Team controller's Role, reads their
// namespace's interviews and is Forbidden in another team's namespace.
func TestViewerAccess(t *testing.T) {
	ns, ts := team(t, "viewed")
	interviews(t, ts, campaign(t, ns, "seen"), 1)
	otherNS, _ := team(t, "unviewed")
	viewer, err := env.User("viewer@viewed.example")
	if err != nil {
		t.Fatal(err)
	}
	dc := dynamicClient(t, viewer).Resource(interviewsGVR)
	wait(t, "the viewer's Role to be in effect", func() error {
		list, err := dc.Namespace(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) != 1 {
			return fmt.Errorf("%d items", len(list.Items))
		}
		return nil
	})
	if _, err := dc.Namespace(otherNS).List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("another team's namespace: %v, want Forbidden", err)
	}
	if _, err := dc.List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("all namespaces: %v, want Forbidden", err)
	}
	// Watch is not served: the verb is not in discovery and the request is refused.
	_, err = dynamicClient(t, env.Config).Resource(interviewsGVR).Namespace(ns).Watch(context.Background(), metav1.ListOptions{})
	if !apierrors.IsMethodNotSupported(err) && !apierrors.IsNotFound(err) {
		t.Fatalf("watch: %v, want MethodNotSupported", err)
	}
}

func restClient(t *testing.T, cfg *rest.Config) rest.Interface {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dc.RESTClient()
}

func itemNames(list *unstructured.UnstructuredList) []string {
	var names []string
	for _, it := range list.Items {
		names = append(names, it.GetName())
	}
	return names
}

// TestOpenAPI: the kube-apiserver serves the group's OpenAPI v3 document, fetched from the
// server, and merges its models into v2, so kubectl explain and clients' validation know them.
func TestOpenAPI(t *testing.T) {
	rc := restClient(t, env.Config)
	wait(t, "OpenAPI v3 and v2 with the Interview model", func() error {
		v3, err := rc.Get().AbsPath("/openapi/v3/apis/data.qual.cx/v1alpha1").DoRaw(context.Background())
		if err != nil {
			return err
		}
		if !strings.Contains(string(v3), `"cx.qual.data.v1alpha1.Interview"`) {
			return fmt.Errorf("v3 has no Interview: %.200s", v3)
		}
		v2, err := rc.Get().AbsPath("/openapi/v2").SetHeader("Accept", "application/json").DoRaw(context.Background())
		if err != nil {
			return err
		}
		if !strings.Contains(string(v2), `"cx.qual.data.v1alpha1.Interview"`) {
			return fmt.Errorf("v2 has no Interview")
		}
		return nil
	})
}
