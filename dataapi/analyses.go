package dataapi

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

// analysisStorage serves analyses by name only: the store has no list of a team's analyses
// (the REST API has none either), so discovery offers get alone, and the resource stays
// out of the qual category, since `kubectl get qual` lists.
type analysisStorage struct {
	s *storage[store.Analysis, datav1alpha1.Analysis, *datav1alpha1.Analysis]
}

var (
	_ rest.Getter         = analysisStorage{}
	_ rest.TableConvertor = analysisStorage{}
	_ rest.Scoper         = analysisStorage{}
)

func newAnalysisStorage(st store.Store, dir directory) analysisStorage {
	return analysisStorage{s: &storage[store.Analysis, datav1alpha1.Analysis, *datav1alpha1.Analysis]{
		kind: analysisKind(), store: st, dir: dir,
	}}
}

func analysisKind() kind[store.Analysis, datav1alpha1.Analysis, *datav1alpha1.Analysis] {
	return kind[store.Analysis, datav1alpha1.Analysis, *datav1alpha1.Analysis]{
		info: resourceInfo{resource: "analyses", singular: "analysis", kind: "Analysis", shortNames: []string{"qan"}},
		get: func(ctx context.Context, ts store.TeamStore, name string) (store.Analysis, error) {
			return ts.GetAnalysis(ctx, store.AnalysisID(name))
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
				ageColumn(),
				wideColumn("Error", "string", "Why a failed analysis failed."),
			},
			cells: func(a *datav1alpha1.Analysis) []any {
				return []any{a.Name, orNone(a.Spec.Campaign), a.Status.Phase, int64(len(a.Status.Findings)), age(a.CreationTimestamp), orNone(a.Status.Error)}
			},
		},
	}
}

func (a analysisStorage) New() runtime.Object     { return a.s.New() }
func (a analysisStorage) Destroy()                {}
func (a analysisStorage) NamespaceScoped() bool   { return true }
func (a analysisStorage) Kind() string            { return a.s.Kind() }
func (a analysisStorage) GetSingularName() string { return a.s.GetSingularName() }
func (a analysisStorage) ShortNames() []string    { return a.s.ShortNames() }

// Get reads one analysis of the namespace's team.
func (a analysisStorage) Get(ctx context.Context, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return a.s.Get(ctx, name, opts)
}

// ConvertToTable renders an analysis as kubectl's table.
func (a analysisStorage) ConvertToTable(ctx context.Context, obj, opts runtime.Object) (*metav1.Table, error) {
	return a.s.ConvertToTable(ctx, obj, opts)
}

// analysisObject renders an analysis job in its team's namespace.
func analysisObject(a store.Analysis, ns string, campaigns map[store.CampaignID]string) datav1alpha1.Analysis {
	out := datav1alpha1.Analysis{
		TypeMeta:   metav1.TypeMeta{APIVersion: datav1alpha1.SchemeGroupVersion.String(), Kind: "Analysis"},
		ObjectMeta: objectMeta(string(a.ID), ns, a.CreatedAt, a.UpdatedAt),
		Spec:       datav1alpha1.AnalysisSpec{CampaignUID: string(a.CampaignID), Campaign: campaigns[a.CampaignID]},
		Status:     datav1alpha1.AnalysisStatus{Phase: string(a.Status), Error: a.Error, StartedAt: timePtr(a.StartedAt), FinishedAt: timePtr(a.FinishedAt)},
	}
	for _, id := range a.FindingIDs {
		out.Status.Findings = append(out.Status.Findings, string(id))
	}
	return out
}
