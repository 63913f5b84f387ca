// Package resources defines the REST representations of the API's objects and how each is
// made from its Kubernetes object. JSON field names follow the contract (snake_case).
package resources

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Settings are a campaign's interview settings.
type Settings struct {
	Language    string `json:"language"`
	Anonymous   bool   `json:"anonymous"`
	Interviewer string `json:"interviewer"`
	Analyzer    string `json:"analyzer"`
}

// Campaign is the REST form of a Campaign object.
type Campaign struct {
	ID             string     `json:"id"`
	Title          string     `json:"title"`
	Slug           string     `json:"slug"`
	Status         string     `json:"status"`
	Mode           string     `json:"campaign_mode"`
	MaxQuestions   int32      `json:"max_questions"`
	Objectives     string     `json:"objectives"`
	Description    string     `json:"description"`
	Questions      []string   `json:"questions"`
	Settings       Settings   `json:"settings"`
	TeamID         string     `json:"team_id"`
	InterviewCount int64      `json:"interview_count"`
	FindingCount   int64      `json:"finding_count"`
	PublishedAt    *time.Time `json:"published_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// NewCampaign renders a Campaign object of the team teamID.
func NewCampaign(c *qualv1alpha1.Campaign, teamID string) Campaign {
	questions := c.Spec.Questions
	if questions == nil {
		questions = []string{}
	}
	return Campaign{
		ID: string(c.UID), Title: c.Spec.Title, Slug: c.Name,
		Status:       statusOf(c.Spec.State),
		Mode:         string(c.Spec.Mode),
		MaxQuestions: c.Spec.MaxQuestions,
		Objectives:   c.Spec.Objectives, Description: c.Spec.Description,
		Questions: questions,
		Settings: Settings{Language: c.Spec.Settings.Language, Anonymous: c.Spec.Settings.Anonymous,
			Interviewer: string(orProtocol(c.Spec.Settings.Interviewer)),
			Analyzer:    string(orBuiltin(c.Spec.Settings.Analyzer))},
		TeamID:         teamID,
		InterviewCount: c.Status.InterviewCount, FindingCount: c.Status.FindingCount,
		PublishedAt: timePtr(c.Status.PublishedAt),
		CreatedAt:   kubeTime(c.CreationTimestamp.Time),
		UpdatedAt:   UpdatedAt(&c.ObjectMeta),
	}
}

// UpdatedAt is the time of the last change to an object's spec through any surface: the
// newest managed-fields entry that is neither a status write nor the controllers' own.
func UpdatedAt(m *metav1.ObjectMeta) time.Time { return kubeTime(qualv1alpha1.SpecChangedAt(m)) }

func orDraft(s qualv1alpha1.CampaignState) qualv1alpha1.CampaignState {
	if s == "" {
		return qualv1alpha1.StateDraft
	}
	return s
}

// kubeTime is a Kubernetes timestamp as the REST API shows it: in whole seconds, as the API
// server stores every metav1.Time. An object rendered before its write is read back (a
// controller renders the webhook event of a change it is about to write, its clock still
// holding nanoseconds) then shows the instant every later read of the object gives.
func kubeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func timePtr(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := kubeTime(t.Time)
	return &u
}

// restStatuses are the REST statuses of the campaign states: each state lowercased, one
// shared string per state rather than one copy per campaign.
var restStatuses = func() map[qualv1alpha1.CampaignState]string {
	m := map[qualv1alpha1.CampaignState]string{}
	for _, s := range qualv1alpha1.CampaignStates() {
		m[s] = strings.ToLower(string(s))
	}
	return m
}()

func statusOf(s qualv1alpha1.CampaignState) string {
	if r, ok := restStatuses[orDraft(s)]; ok {
		return r
	}
	return strings.ToLower(string(s))
}

// orProtocol is the interviewer of a campaign stored before the setting existed.
func orProtocol(k qualv1alpha1.InterviewerKind) qualv1alpha1.InterviewerKind {
	if k == "" {
		return qualv1alpha1.InterviewerProtocol
	}
	return k
}

// orBuiltin is the analyzer of a campaign stored before the setting existed.
func orBuiltin(k qualv1alpha1.AnalyzerKind) qualv1alpha1.AnalyzerKind {
	if k == "" {
		return qualv1alpha1.AnalyzerBuiltin
	}
	return k
}

// interviewCountKey is how the count appears in a rendered campaign. Inside a JSON string a
// quote is always escaped, so the unescaped `,"interview_count":` can only be the key.
var interviewCountKey = []byte(`,"interview_count":`)

// WithInterviewCount returns a rendered campaign with interview_count set to n: the count
// lives in the store and changes far more often than the object, so it is spliced into the
// bytes rendered once rather than rendering the campaign again on every read.
func WithInterviewCount(body []byte, n int64) []byte {
	at := bytes.Index(body, interviewCountKey)
	if at < 0 {
		return body
	}
	start := at + len(interviewCountKey)
	end := start + bytes.IndexByte(body[start:], ',')
	if end < start {
		return body
	}
	out := make([]byte, 0, len(body)+20)
	out = append(out, body[:start]...)
	out = strconv.AppendInt(out, n, 10)
	return append(out, body[end:]...)
}
