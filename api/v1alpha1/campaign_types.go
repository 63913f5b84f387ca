package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CampaignState is a campaign's publish state.
// +kubebuilder:validation:Enum=Draft;Active;Paused;Completed
type CampaignState string

// The publish states of a campaign. Completed is terminal.
const (
	StateDraft     CampaignState = "Draft"
	StateActive    CampaignState = "Active"
	StatePaused    CampaignState = "Paused"
	StateCompleted CampaignState = "Completed"
)

// CampaignMode is the kind of study a campaign runs; it sets the interviewer's style.
// +kubebuilder:validation:Enum=research;hr;marketing
type CampaignMode string

// The campaign modes of the Qual API.
const (
	ModeResearch  CampaignMode = "research"
	ModeHR        CampaignMode = "hr"
	ModeMarketing CampaignMode = "marketing"
)

// InterviewerKind chooses who holds a campaign's interviews.
// +kubebuilder:validation:Enum=protocol;llm
type InterviewerKind string

// The interviewers. protocol is built in and needs nothing external; llm asks the chat model
// the operator configured, and falls back to protocol whenever the model fails.
const (
	InterviewerProtocol InterviewerKind = "protocol"
	InterviewerLLM      InterviewerKind = "llm"
)

// AnalyzerKind chooses what turns a campaign's interviews into findings.
// +kubebuilder:validation:Enum=builtin;llm
type AnalyzerKind string

// The analyzers. builtin runs offline and needs nothing external; llm asks the chat model the
// operator configured (the one llm interviewers use), and falls back to builtin while no model
// is configured and whenever the model fails or its answer cannot be used.
const (
	AnalyzerBuiltin AnalyzerKind = "builtin"
	AnalyzerLLM     AnalyzerKind = "llm"
)

// CampaignSettings tune how interviews of a campaign are held.
type CampaignSettings struct {
	// language is the BCP 47 tag of the language interviews are held in.
	// +optional
	// +kubebuilder:default=en
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=35
	// +kubebuilder:validation:Pattern=`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`
	Language string `json:"language,omitempty"`

	// anonymous, when true, keeps participants' personal data out of the store: an interview
	// started with participant data is refused. Interviews started before keep theirs.
	// +optional
	Anonymous bool `json:"anonymous,omitempty"`

	// interviewer chooses who asks the questions: protocol (built in, the default) or llm (the
	// chat model configured by the operator, with protocol as its fall-back).
	// +optional
	// +kubebuilder:default=protocol
	Interviewer InterviewerKind `json:"interviewer,omitempty"`

	// analyzer chooses what turns the interviews into findings: builtin (the offline analyzer,
	// the default) or llm (the chat model configured by the operator, with builtin as its
	// fall-back).
	// +optional
	// +kubebuilder:default=builtin
	Analyzer AnalyzerKind `json:"analyzer,omitempty"`
}

// CampaignSpec is the desired state of a Campaign.
// +kubebuilder:validation:XValidation:rule="oldSelf.state != 'Completed' || self == oldSelf",message="a Completed campaign is read-only"
// +kubebuilder:validation:XValidation:rule="!has(self.questions) || size(self.questions) <= self.maxQuestions",message="questions cannot outnumber maxQuestions",fieldPath=".questions"
type CampaignSpec struct {
	// title is the campaign's name as participants and analysts see it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	// +kubebuilder:validation:XValidation:rule="self.matches(r'[^\\s\\p{Z}\\x{0B}\\x{85}\\x{AD}\\x{34F}\\x{61C}\\x{115F}\\x{1160}\\x{17B4}\\x{17B5}\\x{180B}-\\x{180F}\\x{200B}-\\x{200F}\\x{2028}-\\x{202F}\\x{2060}-\\x{206F}\\x{2800}\\x{3164}\\x{FE00}-\\x{FE0F}\\x{FEFF}\\x{FFA0}\\x{FFF0}-\\x{FFFB}\\x{13430}-\\x{1343F}\\x{1BCA0}-\\x{1BCA3}\\x{1D173}-\\x{1D17A}\\x{E0000}-\\x{E0FFF}]')",message="title cannot be blank"
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'[\\x{202A}-\\x{202E}\\x{2066}-\\x{2069}]')",message="title must not hold direction overrides, embeddings or isolates (U+202A to U+202E, U+2066 to U+2069)"
	Title string `json:"title"`

	// objectives state what the research should learn; the interviewer steers toward them.
	// +optional
	// +kubebuilder:validation:MaxLength=5000
	// +kubebuilder:validation:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	Objectives string `json:"objectives,omitempty"`

	// description is a longer account of the campaign for the team.
	// +optional
	// +kubebuilder:validation:MaxLength=5000
	// +kubebuilder:validation:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	Description string `json:"description,omitempty"`

	// mode is the kind of study: research, hr or marketing.
	// +optional
	// +kubebuilder:default=research
	Mode CampaignMode `json:"mode,omitempty"`

	// maxQuestions caps the interviewer questions of one interview, follow-up probes included.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	MaxQuestions int32 `json:"maxQuestions,omitempty"`

	// questions are the interview protocol: the questions the interviewer works through in order.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=1000
	// +kubebuilder:validation:items:Pattern=`^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`
	// +kubebuilder:validation:XValidation:rule="self.all(q, q.matches(r'[^\\s\\p{Z}\\x{0B}\\x{85}\\x{AD}\\x{34F}\\x{61C}\\x{115F}\\x{1160}\\x{17B4}\\x{17B5}\\x{180B}-\\x{180F}\\x{200B}-\\x{200F}\\x{2028}-\\x{202F}\\x{2060}-\\x{206F}\\x{2800}\\x{3164}\\x{FE00}-\\x{FE0F}\\x{FEFF}\\x{FFA0}\\x{FFF0}-\\x{FFFB}\\x{13430}-\\x{1343F}\\x{1BCA0}-\\x{1BCA3}\\x{1D173}-\\x{1D17A}\\x{E0000}-\\x{E0FFF}]'))",message="a question cannot be blank"
	Questions []string `json:"questions,omitempty"`

	// settings tune how interviews are held.
	// +optional
	// +kubebuilder:default={}
	Settings CampaignSettings `json:"settings,omitempty,omitzero"`

	// The rules below keep a campaign to the publish moves, so the controller never meets a
	// state it cannot reach and nobody is left unable to undo one.

	// state is the desired publish state: Draft, Active, Paused or Completed. A campaign starts
	// as Draft or Active, moves from Draft to Active, from Active to Paused or Completed, and
	// from Paused to Active or Completed. Completed is final.
	// +optional
	// +kubebuilder:default=Draft
	// +kubebuilder:validation:XValidation:rule="oldSelf.hasValue() || self in ['Draft', 'Active']",optionalOldSelf=true,message="a campaign starts as Draft or Active"
	// +kubebuilder:validation:XValidation:rule="oldSelf != 'Completed' || self == 'Completed'",message="a Completed campaign cannot change state"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf || (oldSelf == 'Draft' && self == 'Active') || (oldSelf == 'Active' && self in ['Paused', 'Completed']) || (oldSelf == 'Paused' && self in ['Active', 'Completed'])",message="a campaign moves from Draft to Active, from Active to Paused or Completed, and from Paused to Active or Completed"
	State CampaignState `json:"state,omitempty"`
}

// CampaignStatus is the observed state of a Campaign.
type CampaignStatus struct {
	// phase is the publish state the controller last accepted.
	// +optional
	Phase CampaignState `json:"phase,omitempty"`

	// publishedAt is when the campaign first became Active.
	// +optional
	PublishedAt *metav1.Time `json:"publishedAt,omitempty"`

	// pausedAt is when the campaign was last Paused.
	// +optional
	PausedAt *metav1.Time `json:"pausedAt,omitempty"`

	// completedAt is when the campaign became Completed.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// interviewCount is the number of interviews held so far, rolled up from the store.
	// +optional
	// +kubebuilder:validation:Minimum=0
	InterviewCount int64 `json:"interviewCount,omitempty"`

	// completedInterviewCount is the number of interviews completed so far, rolled up from the
	// store.
	// +optional
	// +kubebuilder:validation:Minimum=0
	CompletedInterviewCount int64 `json:"completedInterviewCount,omitempty"`

	// findingCount is the number of findings so far, rolled up from the store.
	// +optional
	// +kubebuilder:validation:Minimum=0
	FindingCount int64 `json:"findingCount,omitempty"`

	// observedGeneration is the metadata.generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the campaign's state: Ready, Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Campaign is a research study: the questions an AI interviewer asks and the state of its
// publication. Its interviews and findings live in the store, not in etcd.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cmp,categories=qual
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]+(-[a-z0-9]+)*$')",message="metadata.name: the campaign's slug in the REST API: lowercase letters and digits, in words joined by single hyphens"
// +kubebuilder:printcolumn:name="Title",type=string,JSONPath=`.spec.title`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.spec.state`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Interviews",type=integer,JSONPath=`.status.interviewCount`
// +kubebuilder:printcolumn:name="Completed",type=integer,JSONPath=`.status.completedInterviewCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Campaign struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the campaign.
	// +required
	Spec CampaignSpec `json:"spec"`

	// status is the observed state of the campaign.
	// +optional
	Status CampaignStatus `json:"status,omitempty"`
}

// CampaignList is a list of Campaigns.
// +kubebuilder:object:root=true
type CampaignList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's standard metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the campaigns.
	Items []Campaign `json:"items"`
}
