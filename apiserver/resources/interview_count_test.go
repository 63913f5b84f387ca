package resources_test

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/resources"
)

// Splicing the count into rendered bytes gives what rendering with the count gives,
// whatever the campaign's free text holds (quotes, commas, the key's own spelling).
func FuzzWithInterviewCount(f *testing.F) {
	f.Add("Onboarding", "objectives", int64(7), int64(3))
	f.Add(`,"interview_count":1,`, `\",\"interview_count\":2`, int64(0), int64(1<<40))
	f.Add(`"}{`, "", int64(12), int64(0))
	f.Fuzz(func(t *testing.T, title, objectives string, before, after int64) {
		if before < 0 || after < 0 {
			return
		}
		c := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Name: "c", UID: "u"},
			Spec:   qualv1alpha1.CampaignSpec{Title: title, Objectives: objectives, Questions: []string{title}},
			Status: qualv1alpha1.CampaignStatus{InterviewCount: before, FindingCount: before}}
		rendered, err := json.Marshal(resources.NewCampaign(c, "team"))
		if err != nil {
			t.Fatal(err)
		}
		c.Status.InterviewCount = after
		want, err := json.Marshal(resources.NewCampaign(c, "team"))
		if err != nil {
			t.Fatal(err)
		}
		if got := resources.WithInterviewCount(rendered, after); string(got) != string(want) {
			t.Fatalf("spliced\n%s\nwant\n%s", got, want)
		}
	})
}
