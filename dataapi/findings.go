package dataapi

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

// findingStorage serves findings: list by campaign, type and tag, newest first.
type findingStorage = storage[store.Finding, datav1alpha1.Finding, *datav1alpha1.Finding]

func findingKind() kind[store.Finding, datav1alpha1.Finding, *datav1alpha1.Finding] {
	return kind[store.Finding, datav1alpha1.Finding, *datav1alpha1.Finding]{
		info: resourceInfo{resource: "findings", singular: "finding", kind: "Finding", shortNames: []string{"fnd"},
			fields: []string{datav1alpha1.FieldCampaign, datav1alpha1.FieldCampaignUID, datav1alpha1.FieldType, datav1alpha1.FieldTag}},
		sort:    store.SortCreatedAt,
		require: requireFindingQuery,
		get: func(ctx context.Context, ts store.TeamStore, name string) (store.Finding, error) {
			return ts.GetFinding(ctx, store.FindingID(name))
		},
		page: func(ctx context.Context, ts store.TeamStore, f filter, p store.PageRequest) (store.Page[store.Finding], error) {
			return ts.ListFindings(ctx, store.FindingFilter{CampaignID: f.campaign, Type: store.FindingType(f.findingType), Tag: f.tag}, p)
		},
		object: findingObject,
		list: func(items []datav1alpha1.Finding, cont string) runtime.Object {
			return &datav1alpha1.FindingList{ListMeta: metav1.ListMeta{Continue: cont}, Items: items}
		},
		table: tableSpec[datav1alpha1.Finding]{
			columns: []metav1.TableColumnDefinition{
				nameColumn(),
				column("Campaign", "string", "The Campaign the finding was drawn from."),
				column("Type", "string", "theme, pain_point, opportunity or insight."),
				column("Title", "string", "The finding's title."),
				column("Frequency", "integer", "Interviews that support it."),
				column("Sentiment", "string", "positive, neutral, negative or mixed."),
				ageColumn(),
				wideColumn("Confidence", "string", "0..1."),
				wideColumn("Source", "string", "analysis or manual."),
				wideColumn("Tags", "string", "The finding's tags."),
			},
			cells: func(f *datav1alpha1.Finding) []any {
				return []any{f.Name, orNone(f.Spec.Campaign), f.Spec.Type, f.Spec.Title, int64(f.Spec.Frequency), f.Spec.Sentiment,
					age(f.CreationTimestamp), f.Spec.Confidence, f.Spec.Source, orNone(strings.Join(f.Spec.Tags, ","))}
			},
		},
	}
}

var findingTypes = []string{string(store.FindingTheme), string(store.FindingPainPoint), string(store.FindingOpportunity), string(store.FindingInsight)}

func requireFindingQuery(q query) error {
	if q.findingType != "" && !slices.Contains(findingTypes, q.findingType) {
		return apierrors.NewBadRequest(fmt.Sprintf("field selector %s: want one of %v", datav1alpha1.FieldType, findingTypes))
	}
	return nil
}

// findingObject renders a store finding in its team's namespace.
func findingObject(f store.Finding, ns string, campaigns map[store.CampaignID]string) datav1alpha1.Finding {
	out := datav1alpha1.Finding{
		TypeMeta:   metav1.TypeMeta{APIVersion: datav1alpha1.SchemeGroupVersion.String(), Kind: "Finding"},
		ObjectMeta: objectMeta(string(f.ID), ns, f.CreatedAt, f.UpdatedAt),
		Spec: datav1alpha1.FindingSpec{
			CampaignUID: string(f.CampaignID), Campaign: campaigns[f.CampaignID], Type: string(f.Type), Title: f.Title,
			Summary: f.Summary, Frequency: int32(f.Frequency), Sentiment: string(f.Sentiment), //nolint:gosec // interviews of one campaign
			Confidence: strconv.FormatFloat(f.Confidence, 'f', -1, 64), Tags: f.Tags, Source: string(f.Source),
		},
	}
	for _, e := range f.Evidence {
		out.Spec.Evidence = append(out.Spec.Evidence, datav1alpha1.Evidence{Interview: string(e.InterviewID), Message: string(e.MessageID), Quote: e.Quote})
	}
	return out
}
