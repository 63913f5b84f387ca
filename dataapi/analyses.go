package dataapi

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

// analysisStorage serves analysis jobs: list by campaign and phase, newest first, from the
// store's (team, [campaign,] created_at) indexes.
type analysisStorage = storage[store.Analysis, datav1alpha1.Analysis, *datav1alpha1.Analysis]

func analysisKind() kind[store.Analysis, datav1alpha1.Analysis, *datav1alpha1.Analysis] {
	return kind[store.Analysis, datav1alpha1.Analysis, *datav1alpha1.Analysis]{
		info: resourceInfo{resource: "analyses", singular: "analysis", kind: "Analysis", shortNames: []string{"qan"},
			fields: []string{datav1alpha1.FieldCampaign, datav1alpha1.FieldCampaignUID, datav1alpha1.FieldPhase}},
		sort:    store.SortCreatedAt,
		require: requireAnalysisQuery,
		get: func(ctx context.Context, ts store.TeamStore, name string) (store.Analysis, error) {
			return ts.GetAnalysis(ctx, store.AnalysisID(name))
		},
		page: func(ctx context.Context, ts store.TeamStore, f filter, p store.PageRequest) (store.Page[store.Analysis], error) {
			return ts.ListAnalyses(ctx, store.AnalysisFilter{CampaignID: f.campaign, Status: store.AnalysisStatus(f.phase)}, p)
		},
		object: analysisObject,
		list: func(items []datav1alpha1.Analysis, cont string) runtime.Object {
			return &datav1alpha1.AnalysisList{ListMeta: metav1.ListMeta{Continue: cont}, Items: items}
		},
		table: tableSpec[datav1alpha1.Analysis]{
			columns: []metav1.TableColumnDefinition{
				nameColumn(),
				column("Campaign", "string", "The Campaign analysed."),
				column("Phase", "string", "queued, running, succeeded or failed."),
				column("Findings", "integer", "Findings the analysis produced."),
				column("Started", "string", "Time since the analysis started running."),
				column("Finished", "string", "Time since the analysis succeeded or failed."),
				ageColumn(),
				wideColumn("Analyzer", "string", "The analyzer that made the findings: builtin or llm."),
				wideColumn("Error", "string", "Why a failed analysis failed."),
			},
			cells: func(a *datav1alpha1.Analysis) []any {
				return []any{a.Name, orNone(a.Spec.Campaign), a.Status.Phase, int64(len(a.Status.Findings)),
					since(a.Status.StartedAt), since(a.Status.FinishedAt), age(a.CreationTimestamp), orNone(a.Status.Analyzer), orNone(a.Status.Error)}
			},
		},
	}
}

var analysisPhases = []string{string(store.AnalysisQueued), string(store.AnalysisRunning), string(store.AnalysisSucceeded), string(store.AnalysisFailed)}

func requireAnalysisQuery(q query) error {
	if q.phase != "" && !slices.Contains(analysisPhases, q.phase) {
		return apierrors.NewBadRequest(fmt.Sprintf("field selector %s: want one of %v", datav1alpha1.FieldPhase, analysisPhases))
	}
	return nil
}

// analysisObject renders an analysis job in its team's namespace.
func analysisObject(a store.Analysis, ns string, campaigns map[store.CampaignID]string) datav1alpha1.Analysis {
	out := datav1alpha1.Analysis{
		TypeMeta:   metav1.TypeMeta{APIVersion: datav1alpha1.SchemeGroupVersion.String(), Kind: "Analysis"},
		ObjectMeta: objectMeta(string(a.ID), ns, a.CreatedAt, a.UpdatedAt),
		Spec:       datav1alpha1.AnalysisSpec{CampaignUID: string(a.CampaignID), Campaign: campaigns[a.CampaignID]},
		Status:     datav1alpha1.AnalysisStatus{Phase: string(a.Status), Error: a.Error, Analyzer: a.Analyzer, StartedAt: timePtr(a.StartedAt), FinishedAt: timePtr(a.FinishedAt)},
	}
	for _, id := range a.FindingIDs {
		out.Status.Findings = append(out.Status.Findings, string(id))
	}
	return out
}
