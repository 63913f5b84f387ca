package dataapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
	"qual.cx/operator/internal/store"
)

// interviewStorage serves interviews: list by campaign and phase, newest first, from the
// store's (team, campaign, status, created_at) indexes, or by participant from its
// participant indexes.
type interviewStorage = storage[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview]

func interviewKind() kind[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview] {
	return kind[store.Interview, datav1alpha1.Interview, *datav1alpha1.Interview]{
		info: resourceInfo{resource: "interviews", singular: "interview", kind: "Interview", shortNames: []string{"iv"},
			fields: []string{datav1alpha1.FieldCampaign, datav1alpha1.FieldCampaignUID, datav1alpha1.FieldPhase,
				datav1alpha1.FieldParticipantEmail, datav1alpha1.FieldParticipantExternalID}},
		sort:    store.SortCreatedAt,
		require: requireInterviewQuery,
		get: func(ctx context.Context, ts store.TeamStore, name string) (store.Interview, error) {
			return ts.GetInterview(ctx, store.InterviewID(name))
		},
		page: func(ctx context.Context, ts store.TeamStore, f filter, p store.PageRequest) (store.Page[store.Interview], error) {
			return ts.ListInterviews(ctx, store.InterviewFilter{CampaignID: f.campaign, Status: store.InterviewStatus(f.phase),
				ParticipantEmail: f.participantEmail, ExternalID: f.externalID}, p)
		},
		object: interviewObject,
		list: func(items []datav1alpha1.Interview, cont string) runtime.Object {
			return &datav1alpha1.InterviewList{ListMeta: metav1.ListMeta{Continue: cont}, Items: items}
		},
		table: tableSpec[datav1alpha1.Interview]{
			columns: []metav1.TableColumnDefinition{
				nameColumn(),
				column("Campaign", "string", "The Campaign the interview belongs to."),
				column("Phase", "string", "in_progress, completed or abandoned."),
				column("Messages", "integer", "Messages so far."),
				column("Questions", "integer", "Interviewer messages so far."),
				ageColumn(),
				wideColumn("Participant", "string", "The participant's name, else e-mail, else external id."),
				wideColumn("Last-Change", "string", "Time since the interview last changed."),
			},
			cells: func(iv *datav1alpha1.Interview) []any {
				return []any{iv.Name, orNone(iv.Spec.Campaign), iv.Status.Phase, int64(iv.Status.MessageCount),
					int64(iv.Status.QuestionCount), age(iv.CreationTimestamp), participantLabel(iv.Spec.Participant), age(iv.Status.UpdatedAt)}
			},
		},
	}
}

var interviewPhases = []string{string(store.InterviewInProgress), string(store.InterviewCompleted), string(store.InterviewAbandoned)}

func requireInterviewQuery(q query) error {
	if q.phase != "" && !slices.Contains(interviewPhases, q.phase) {
		return apierrors.NewBadRequest(fmt.Sprintf("field selector %s: want one of %v", datav1alpha1.FieldPhase, interviewPhases))
	}
	return nil
}

// interviewObject renders a store interview in its team's namespace.
func interviewObject(iv store.Interview, ns string, campaigns map[store.CampaignID]string) datav1alpha1.Interview {
	out := datav1alpha1.Interview{
		TypeMeta:   metav1.TypeMeta{APIVersion: datav1alpha1.SchemeGroupVersion.String(), Kind: "Interview"},
		ObjectMeta: objectMeta(string(iv.ID), ns, iv.CreatedAt, iv.UpdatedAt),
		Spec:       datav1alpha1.InterviewSpec{CampaignUID: string(iv.CampaignID), Campaign: campaigns[iv.CampaignID]},
		Status: datav1alpha1.InterviewStatus{
			Phase: string(iv.Status), MessageCount: int32(iv.MessageCount), QuestionCount: int32(iv.QuestionCount), //nolint:gosec // counts of one interview
			UpdatedAt: metav1.NewTime(iv.UpdatedAt),
		},
	}
	out.Status.EndedAt = timePtr(iv.EndedAt)
	if p := iv.Participant; p.Name != "" || p.Email != "" || p.ExternalID != "" || len(p.Metadata) > 0 {
		out.Spec.Participant = &datav1alpha1.Participant{Name: p.Name, Email: p.Email, ExternalID: p.ExternalID}
		if len(p.Metadata) > 0 {
			if raw, err := json.Marshal(p.Metadata); err == nil { // the store decoded it from JSON
				out.Spec.Participant.Metadata = &runtime.RawExtension{Raw: raw}
			}
		}
	}
	return out
}

// participantLabel is the most telling of a participant's identifiers.
func participantLabel(p *datav1alpha1.Participant) string {
	if p == nil {
		return "<none>"
	}
	for _, s := range []string{p.Name, p.Email, p.ExternalID} {
		if s != "" {
			return s
		}
	}
	return "<none>"
}

// objectMeta is the metadata of a store row: its id is its name and UID, and its
// resourceVersion is the row's updated_at in microseconds, the same on every replica.
func objectMeta(id, ns string, created, updated time.Time) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: id, Namespace: ns, UID: types.UID(id),
		CreationTimestamp: metav1.NewTime(created),
		ResourceVersion:   strconv.FormatInt(updated.UnixMicro(), 10),
	}
}

// timePtr converts an optional time.
func timePtr(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	mt := metav1.NewTime(*t)
	return &mt
}
