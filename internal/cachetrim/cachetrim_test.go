package cachetrim

import (
	"strings"
	"testing"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// campaign decodes as an informer would: every string its own allocation.
func campaign(name string) *qualv1alpha1.Campaign {
	own := strings.Clone
	return &qualv1alpha1.Campaign{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: own("team-a"), Finalizers: []string{own("qual.cx/campaign-data")},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: qualv1alpha1.CampaignSpec{Title: own("T " + name), Mode: qualv1alpha1.CampaignMode(own("research")),
			State: qualv1alpha1.CampaignState(own("Draft"))},
		Status: qualv1alpha1.CampaignStatus{Phase: qualv1alpha1.CampaignState(own("Draft")), Conditions: []metav1.Condition{
			{Type: own("Ready"), Status: metav1.ConditionStatus(own("True")), Reason: own("Draft"), Message: own("campaign is Draft")}}},
	}
}

func TestTransformDropsManagedFieldsAndSharesRepeatedStrings(t *testing.T) {
	a, b := campaign("a"), campaign("b")
	for _, c := range []*qualv1alpha1.Campaign{a, b} {
		if _, err := Transform(c); err != nil {
			t.Fatal(err)
		}
		if c.ManagedFields != nil {
			t.Fatal("managedFields kept")
		}
	}
	same := func(what, x, y string) {
		if x != y || unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are not one copy", what, x, y)
		}
	}
	same("namespace", a.Namespace, b.Namespace)
	same("finalizer", a.Finalizers[0], b.Finalizers[0])
	same("mode", string(a.Spec.Mode), string(b.Spec.Mode))
	same("state", string(a.Spec.State), string(b.Status.Phase))
	same("condition message", a.Status.Conditions[0].Message, b.Status.Conditions[0].Message)
	if a.Spec.Title == b.Spec.Title || a.Spec.Title != "T a" {
		t.Errorf("titles changed: %q %q", a.Spec.Title, b.Spec.Title)
	}
}

func TestTransformKeepsTheLatestSpecChange(t *testing.T) {
	at := func(s int) *metav1.Time { tm := metav1.Unix(int64(1_700_000_000+s), 0); return &tm }
	c := campaign("c")
	c.CreationTimestamp = *at(0)
	c.ManagedFields = []metav1.ManagedFieldsEntry{
		{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, Time: at(10), FieldsType: "FieldsV1",
			FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:title":{}}}`)},
		{Manager: qualv1alpha1.APIServerFieldManager, Operation: metav1.ManagedFieldsOperationApply, Time: at(20)},
		{Manager: qualv1alpha1.ControllerFieldManager, Operation: metav1.ManagedFieldsOperationUpdate, Time: at(30)},
		{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, Time: at(40), Subresource: "status"},
	}
	want := qualv1alpha1.SpecChangedAt(&c.ObjectMeta)
	if _, err := Transform(c); err != nil {
		t.Fatal(err)
	}
	if len(c.ManagedFields) != 1 || c.ManagedFields[0].FieldsV1 != nil || c.ManagedFields[0].Manager != qualv1alpha1.APIServerFieldManager {
		t.Fatalf("kept %+v", c.ManagedFields)
	}
	if got := qualv1alpha1.SpecChangedAt(&c.ObjectMeta); !got.Equal(want) || !got.Equal(at(20).UTC()) {
		t.Fatalf("spec changed at %v after the transform, %v before", got, want)
	}
}
