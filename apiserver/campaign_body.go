package apiserver

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/envelope"
)

// campaignBody is the body of POST and PATCH /campaigns. Every field is Optional so PATCH
// can tell "leave it" from "set it".
type campaignBody struct {
	Title        decode.Optional[string]       `json:"title"`
	Objectives   decode.Optional[string]       `json:"objectives"`
	Description  decode.Optional[string]       `json:"description"`
	Mode         decode.Optional[string]       `json:"campaign_mode"`
	MaxQuestions decode.Optional[int]          `json:"max_questions"`
	Questions    decode.Optional[[]string]     `json:"questions"`
	Settings     decode.Optional[settingsBody] `json:"settings"`
	TeamID       decode.Optional[string]       `json:"team_id"`
	// Status is refused: publish state moves only through the action endpoints.
	Status decode.Optional[any] `json:"status"`
}

type settingsBody struct {
	Language    decode.Optional[string] `json:"language"`
	Anonymous   decode.Optional[bool]   `json:"anonymous"`
	Interviewer decode.Optional[string] `json:"interviewer"`
	Analyzer    decode.Optional[string] `json:"analyzer"`
}

// maxLanguage is the longest language tag the Campaign schema keeps (BCP 47 allows 35).
const maxLanguage = 35

var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`)

// validate checks each field given; create also requires a title. Each fault is named.
func (b *campaignBody) validate(create bool) *envelope.Error {
	var bad []envelope.FieldError
	add := func(field, msg string) { bad = append(bad, envelope.FieldError{Field: field, Message: msg}) }
	switch {
	case create && !b.Title.Set:
		add("title", "Required")
	case b.Title.Set && (b.Title.Null || decode.Blank(b.Title.Value)):
		add("title", "must not be blank")
	case decode.Reorders(b.Title.Value):
		add("title", decode.ReordersMessage)
	case utf8.RuneCountInString(b.Title.Value) > 200:
		add("title", "must be at most 200 characters")
	}
	// No other field is nullable: null is neither "leave it" nor a value, so it is refused
	// rather than read as either.
	s := b.Settings.Value
	for _, f := range []struct {
		field string
		null  bool
	}{{"objectives", b.Objectives.Null}, {"description", b.Description.Null}, {"campaign_mode", b.Mode.Null},
		{"questions", b.Questions.Null}, {"settings", b.Settings.Null}, {"settings.language", s.Language.Null},
		{"settings.anonymous", s.Anonymous.Null}, {"settings.interviewer", s.Interviewer.Null},
		{"settings.analyzer", s.Analyzer.Null}, {"team_id", b.TeamID.Null}} {
		if f.null {
			add(f.field, "must not be null")
		}
	}
	for field, v := range map[string]decode.Optional[string]{"objectives": b.Objectives, "description": b.Description} {
		if utf8.RuneCountInString(v.Value) > 5000 {
			add(field, "must be at most 5000 characters")
		}
	}
	if b.Mode.Set && !modesEnum.has(b.Mode.Value) {
		add("campaign_mode", modesEnum.must())
	}
	if b.MaxQuestions.Set && (b.MaxQuestions.Null || b.MaxQuestions.Value < 1 || b.MaxQuestions.Value > 50) {
		add("max_questions", "must be an integer from 1 to 50")
	}
	b.validateQuestions(add)
	b.validateSettings(add)
	if b.Status.Set {
		add("status", "is not writable; use the publish, pause and complete actions")
	}
	switch {
	case !create && b.TeamID.Set:
		add("team_id", "cannot be changed")
	case b.TeamID.Set && !isUUID(b.TeamID.Value):
		add("team_id", "must be a team id (a UUID)")
	}
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	return nil
}

func (b *campaignBody) validateSettings(add func(field, msg string)) {
	s := b.Settings.Value
	switch {
	case !s.Language.Set || s.Language.Null:
	case !languageTag.MatchString(s.Language.Value):
		add("settings.language", "must be a language tag such as en or pt-BR")
	case len(s.Language.Value) > maxLanguage:
		add("settings.language", "must be at most "+strconv.Itoa(maxLanguage)+" characters")
	}
	if s.Interviewer.Set && !s.Interviewer.Null && !interviewers.has(s.Interviewer.Value) {
		add("settings.interviewer", interviewers.must())
	}
	if s.Analyzer.Set && !s.Analyzer.Null && !analyzers.has(s.Analyzer.Value) {
		add("settings.analyzer", analyzers.must())
	}
}

func (b *campaignBody) validateQuestions(add func(field, msg string)) {
	if len(b.Questions.Value) > 50 {
		add("questions", "must hold at most 50 questions")
	}
	for i, q := range b.Questions.Value {
		switch field := "questions[" + strconv.Itoa(i) + "]"; {
		case decode.Blank(q):
			add(field, "must not be blank")
		case utf8.RuneCountInString(q) > 1000:
			add(field, "must be at most 1000 characters")
		}
	}
}

// spec is the spec of a new campaign from a create body.
func (b *campaignBody) spec() qualv1alpha1.CampaignSpec {
	spec := qualv1alpha1.CampaignSpec{
		Mode: qualv1alpha1.ModeResearch, MaxQuestions: 10, State: qualv1alpha1.StateDraft,
		Settings: qualv1alpha1.CampaignSettings{Language: "en", Interviewer: qualv1alpha1.InterviewerProtocol,
			Analyzer: qualv1alpha1.AnalyzerBuiltin},
	}
	b.applyTo(&spec)
	return spec
}

// applyTo copies the fields given onto a spec.
func (b *campaignBody) applyTo(spec *qualv1alpha1.CampaignSpec) {
	if b.Title.Set {
		spec.Title = strings.TrimSpace(b.Title.Value)
	}
	if b.Objectives.Set {
		spec.Objectives = b.Objectives.Value
	}
	if b.Description.Set {
		spec.Description = b.Description.Value
	}
	if b.Mode.Set {
		spec.Mode = qualv1alpha1.CampaignMode(b.Mode.Value)
	}
	if b.MaxQuestions.Set {
		spec.MaxQuestions = int32(b.MaxQuestions.Value)
	}
	if b.Questions.Set {
		spec.Questions = b.Questions.Value
	}
	s := b.Settings.Value
	if s.Language.Set {
		spec.Settings.Language = s.Language.Value
	}
	if s.Anonymous.Set {
		spec.Settings.Anonymous = s.Anonymous.Value
	}
	if s.Interviewer.Set {
		spec.Settings.Interviewer = qualv1alpha1.InterviewerKind(s.Interviewer.Value)
	}
	if s.Analyzer.Set {
		spec.Settings.Analyzer = qualv1alpha1.AnalyzerKind(s.Analyzer.Value)
	}
}

// validateSpec checks what only the merged result can show, naming the field the request
// sent: lowering max_questions below the questions a campaign has is max_questions' fault.
func (b *campaignBody) validateSpec(spec *qualv1alpha1.CampaignSpec) *envelope.Error {
	if len(spec.Questions) <= int(spec.MaxQuestions) {
		return nil
	}
	if b.MaxQuestions.Set && !b.Questions.Set {
		return envelope.Field("max_questions", "cannot be fewer than the campaign's %d questions", len(spec.Questions))
	}
	return envelope.Field("questions", "cannot outnumber max_questions (%d)", spec.MaxQuestions)
}
