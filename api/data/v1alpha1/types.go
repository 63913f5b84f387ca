package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Field selectors the server answers from the store's indexes; any other is refused.
const (
	// FieldCampaign selects by the Campaign's name in the namespace.
	FieldCampaign = "spec.campaign"
	// FieldCampaignUID selects by the Campaign's UID.
	FieldCampaignUID = "spec.campaignUID"
	// FieldPhase selects interviews and analyses by status.phase.
	FieldPhase = "status.phase"
	// FieldType selects findings by spec.type.
	FieldType = "spec.type"
	// FieldTag selects findings carrying one tag.
	FieldTag = "spec.tag"
	// FieldInterview selects the messages of one interview; listing messages requires it.
	FieldInterview = "spec.interview"
	// FieldParticipantEmail selects a participant's interviews by e-mail address, ASCII
	// letters in either case, as the REST API's participant_email filter does.
	FieldParticipantEmail = "spec.participant.email"
	// FieldParticipantExternalID selects a participant's interviews by external id, exactly.
	FieldParticipantExternalID = "spec.participant.externalID"
)

// Interview is one conversation of a campaign. Its name is the store's interview id.
//
// +kubebuilder:object:root=true
type Interview struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   InterviewSpec   `json:"spec"`
	Status InterviewStatus `json:"status"`
}

// InterviewSpec says which campaign an interview belongs to and who is interviewed.
type InterviewSpec struct {
	// CampaignUID is the UID of the Campaign; the store's key.
	CampaignUID string `json:"campaignUID"`
	// Campaign is the Campaign's name, empty once the Campaign is gone.
	// +optional
	Campaign string `json:"campaign,omitempty"`
	// Participant describes who is interviewed.
	// +optional
	Participant *Participant `json:"participant,omitempty"`
}

// Participant describes who is interviewed; every field is optional.
type Participant struct {
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	Email string `json:"email,omitempty"`
	// +optional
	ExternalID string `json:"externalID,omitempty"`
	// Metadata is the JSON object the interview was started with.
	// +optional
	Metadata *runtime.RawExtension `json:"metadata,omitempty"`
}

// InterviewStatus is the state of an interview.
type InterviewStatus struct {
	// Phase is in_progress, completed or abandoned.
	Phase string `json:"phase"`
	// MessageCount counts every message of the interview.
	MessageCount int32 `json:"messageCount"`
	// QuestionCount counts the interviewer's messages.
	QuestionCount int32 `json:"questionCount"`
	// UpdatedAt is when the interview last changed.
	UpdatedAt metav1.Time `json:"updatedAt"`
	// EndedAt is when the interview left in_progress.
	// +optional
	EndedAt *metav1.Time `json:"endedAt,omitempty"`
}

// InterviewList is a page of interviews.
//
// +kubebuilder:object:root=true
type InterviewList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Interview `json:"items"`
}

// Message is one turn of an interview. Its name is "<interview>-<sequence>", so a message is
// found by name without a lookup of its own.
//
// +kubebuilder:object:root=true
type Message struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec MessageSpec `json:"spec"`
}

// MessageSpec is what was said, by whom, where in the interview.
type MessageSpec struct {
	// Interview is the interview's name.
	Interview string `json:"interview"`
	// ID is the store's message id, which findings' evidence points at.
	ID string `json:"id"`
	// Role is interviewer or participant.
	Role string `json:"role"`
	// Sequence numbers an interview's messages 1..N.
	Sequence int64 `json:"sequence"`
	// Content is the text of the message.
	Content string `json:"content"`
}

// MessageList is a page of one interview's messages.
//
// +kubebuilder:object:root=true
type MessageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Message `json:"items"`
}

// Finding is a theme, pain point, opportunity or insight drawn from a campaign's interviews.
// Its name is the store's finding id.
//
// +kubebuilder:object:root=true
type Finding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec FindingSpec `json:"spec"`
}

// FindingSpec is a finding's content.
type FindingSpec struct {
	// CampaignUID is the UID of the Campaign; the store's key.
	CampaignUID string `json:"campaignUID"`
	// Campaign is the Campaign's name, empty once the Campaign is gone.
	// +optional
	Campaign string `json:"campaign,omitempty"`
	// Type is theme, pain_point, opportunity or insight.
	Type  string `json:"type"`
	Title string `json:"title"`
	// +optional
	Summary string `json:"summary,omitempty"`
	// Frequency counts the interviews that support the finding.
	Frequency int32 `json:"frequency"`
	// Sentiment is positive, neutral, negative or mixed.
	Sentiment string `json:"sentiment"`
	// Confidence is a decimal in 0..1, e.g. "0.82".
	Confidence string `json:"confidence"`
	// +optional
	// +listType=atomic
	Tags []string `json:"tags,omitempty"`
	// Source is analysis or manual.
	Source string `json:"source"`
	// +optional
	// +listType=atomic
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence links a finding to an interview and, optionally, one of its messages.
type Evidence struct {
	// Interview is the interview's name.
	Interview string `json:"interview"`
	// Message is the message's id, when the evidence points at one.
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	Quote string `json:"quote,omitempty"`
}

// FindingList is a page of findings.
//
// +kubebuilder:object:root=true
type FindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Finding `json:"items"`
}

// Analysis is a job that turned a campaign's transcripts into findings. Its name is the
// store's analysis id.
//
// +kubebuilder:object:root=true
type Analysis struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AnalysisSpec   `json:"spec"`
	Status AnalysisStatus `json:"status"`
}

// AnalysisSpec names the campaign analysed.
type AnalysisSpec struct {
	// CampaignUID is the UID of the Campaign; the store's key.
	CampaignUID string `json:"campaignUID"`
	// Campaign is the Campaign's name, empty once the Campaign is gone.
	// +optional
	Campaign string `json:"campaign,omitempty"`
}

// AnalysisStatus is the state of an analysis job.
type AnalysisStatus struct {
	// Phase is queued, running, succeeded or failed.
	Phase string `json:"phase"`
	// Findings are the names of the findings the job produced.
	// +optional
	// +listType=atomic
	Findings []string `json:"findings,omitempty"`
	// +optional
	Error string `json:"error,omitempty"`
	// Analyzer is the analyzer that made the findings of a succeeded job, builtin or llm: a
	// Campaign that asks for llm gets builtin when the chat model is not configured or fails.
	// +optional
	Analyzer string `json:"analyzer,omitempty"`
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
}

// AnalysisList is a page of analyses.
//
// +kubebuilder:object:root=true
type AnalysisList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Analysis `json:"items"`
}
