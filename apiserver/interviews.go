package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/apiserver/scopes"
	"qual.cx/operator/internal/interviews"
	"qual.cx/operator/internal/store"
)

var interviewSorts = []string{"created_at", "updated_at"}

// interviewStatuses are the values of the status filter.
var interviewStatuses = enum{string(store.InterviewInProgress), string(store.InterviewCompleted), string(store.InterviewAbandoned)}

// rows is the store handle of a team.
func (s *Server) rows(m directory.Membership) store.TeamStore {
	return s.cfg.Store.Team(store.TeamID(m.Team.Object.UID))
}

// interviewTarget is an interview the caller may see, with its team and campaign.
type interviewTarget = found[store.Interview]

// startBody is the body of POST /campaigns/{id}/interviews.
type startBody struct {
	Participant decode.Optional[participantBody] `json:"participant"`
}

type participantBody struct {
	Name       *string        `json:"name"`
	Email      *string        `json:"email"`
	ExternalID *string        `json:"external_id"`
	Metadata   store.Metadata `json:"metadata"`
}

func (s *Server) startInterview(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	var body startBody
	if e := decode.JSON(w, r, &body); e != nil {
		return e
	}
	who, e := body.participant()
	if e != nil {
		return e
	}
	if c.Object.Spec.Settings.Anonymous && !who.Empty() {
		// Kept out, not dropped: a caller sending personal data to an anonymous campaign
		// should learn that it is not kept, not find out later.
		return envelope.Field("participant", "must be left out: the campaign is anonymous and keeps no participant data")
	}
	if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot start interviews")
	}
	if c.Object.Spec.State != qualv1alpha1.StateActive {
		return envelope.New(envelope.CodeInvalidState, "The campaign is %s: interviews start only on an active campaign", c.Status)
	}
	// The Interviews/hr unit is spent before anything else costs (the opening question may be
	// a model call) and outside the transaction that stores the interview, which would
	// otherwise hold the store's writer (SQLite's only one) while the limiter answers. Racing
	// starts cannot spend more than the budget (the spend decides), and a start that is not
	// stored gives its unit back, so it costs nothing.
	refund, e := s.spendHourlyBefore(w, r, p, m.Team, interviewsBudget)
	if e != nil {
		return e
	}
	started, err := s.storeStart(r.Context(), m, c, who)
	if err != nil {
		refund()
		return interviewError(err, interviewTarget{campaign: c}, store.InterviewInProgress)
	}
	envelope.WriteData(w, http.StatusCreated, started)
	return nil
}

// storeStart stores a new interview of c for who, with its opening question, and answers it
// with the participant token, shown this once.
func (s *Server) storeStart(ctx context.Context, m directory.Membership, c *directory.Campaign, who store.Participant) (resources.InterviewStarted, error) {
	token, hash, err := newParticipantToken()
	if err != nil {
		return resources.InterviewStarted{}, err
	}
	iv, first, err := s.interviews.Start(ctx, s.rows(m), c.Object, who, hash)
	if err != nil {
		return resources.InterviewStarted{}, err
	}
	return resources.InterviewStarted{Interview: resources.NewInterview(iv),
		Messages: []resources.Message{resources.NewMessage(first)}, ParticipantToken: &token}, nil
}

// Participant limits: personal data is kept small, and never logged.
const (
	maxParticipantText = 200
	maxEmail           = 254 // the longest address SMTP carries (RFC 5321)
	maxMetadataKeys    = 50
	maxMetadataBytes   = 16 << 10
	// maxMetadataDepth keeps every list that shows a participant readable by JSON parsers
	// with a recursion limit (some stop at 100 levels, some sooner).
	maxMetadataDepth = 8
)

// nesting is how many levels of objects and arrays v holds: 1 for a flat object.
func nesting(v any) int {
	deepest := 0
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			deepest = max(deepest, nesting(x))
		}
	case []any:
		for _, x := range v {
			deepest = max(deepest, nesting(x))
		}
	default:
		return 0
	}
	return deepest + 1
}

// numbersFit says every number in v reads as a finite 64-bit float: the metadata goes out in
// every list, event and kubectl table that shows the participant, and one number past that
// range makes the whole answer unreadable to Go and most other JSON parsers.
func numbersFit(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			if !numbersFit(x) {
				return false
			}
		}
	case []any:
		for _, x := range v {
			if !numbersFit(x) {
				return false
			}
		}
	case json.Number:
		_, err := strconv.ParseFloat(string(v), 64)
		return err == nil
	}
	return true
}

// participant checks the participant block; none, or null, gives the zero Participant.
func (b *startBody) participant() (store.Participant, *envelope.Error) {
	if !b.Participant.Set || b.Participant.Null {
		return store.Participant{}, nil
	}
	return b.Participant.Value.participant()
}

// participant checks a participant block that was given.
func (b *participantBody) participant() (store.Participant, *envelope.Error) {
	var bad []envelope.FieldError
	add := func(field, msg string) {
		bad = append(bad, envelope.FieldError{Field: "participant." + field, Message: msg})
	}
	text := func(field string, v *string, limit int) string {
		if v == nil {
			return ""
		}
		t := strings.TrimSpace(*v)
		if len([]rune(t)) > limit {
			add(field, "must be at most "+strconv.Itoa(limit)+" characters")
		}
		return t
	}
	out := store.Participant{
		Name: text("name", b.Name, maxParticipantText), Email: text("email", b.Email, maxEmail),
		ExternalID: text("external_id", b.ExternalID, maxParticipantText), Metadata: b.Metadata,
	}
	// One entry per field: a too-long name or id is not also called blank or reordered. An id
	// shown reordered would read as another participant's in every list and log.
	for _, f := range [...]struct{ field, v string }{{"name", out.Name}, {"external_id", out.ExternalID}} {
		field, v := f.field, f.v
		switch {
		case len([]rune(v)) > maxParticipantText: // named by text above
		case unseen(v):
			add(field, unseenMessage)
		case decode.Reorders(v):
			add(field, decode.ReordersMessage)
		}
	}
	// One entry per field: a too-long address is not also called malformed.
	if n := len([]rune(out.Email)); n > 0 && n <= maxEmail && !isEmail(out.Email) {
		add("email", "must be an e-mail address")
	}
	if len(b.Metadata) > maxMetadataKeys {
		add("metadata", "must hold at most "+strconv.Itoa(maxMetadataKeys)+" keys")
	} else if raw, err := json.Marshal(b.Metadata); err != nil || len(raw) > maxMetadataBytes {
		add("metadata", "must be at most 16 KiB as JSON")
	} else if nesting(map[string]any(b.Metadata)) > maxMetadataDepth {
		add("metadata", "must nest at most "+strconv.Itoa(maxMetadataDepth)+" levels deep")
	} else if !numbersFit(map[string]any(b.Metadata)) {
		add("metadata", "must hold only numbers a 64-bit float holds (such as 1e308, not 1e400)")
	}
	if len(bad) > 0 {
		return store.Participant{}, envelope.Validation(bad...)
	}
	return out, nil
}

func (s *Server) getInterview(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	t, err := visibleRow(s, r, p, interviewRows)
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusOK, interviewFor(p, t.row))
	return nil
}

func (s *Server) deleteInterview(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	t, err := visibleRow(s, r, p, interviewRows)
	if err != nil {
		return err
	}
	if publicKey(p) {
		return envelope.New(envelope.CodeForbidden, "A public key cannot delete interviews")
	}
	if !p.HasRole(string(t.team.Team.Object.UID), qualv1alpha1.RoleOwner, qualv1alpha1.RoleAdmin) {
		return envelope.New(envelope.CodeForbidden, "Deleting interviews needs the owner or admin role")
	}
	ts := s.rows(t.team)
	erased, err := ts.EraseInterview(r.Context(), t.row.ID)
	if err != nil {
		return interviewError(err, t, "")
	}
	if erased.Redacted {
		s.analyseAfterErasure(r.Context(), ts, t)
	}
	envelope.WriteNoContent(w)
	return nil
}

// analyseAfterErasure starts the analysis that writes anew the analysis findings an erased
// interview left without title or summary (store.RedactedTitle); with no completed interview
// left, nothing could, so they go. It is called only when the erasure redacted them: an
// interview no stored analysis read leaves them as they were, and starts nothing. The erasure
// itself has happened: a failure here is logged, and the next analysis of the campaign does
// the same.
func (s *Server) analyseAfterErasure(ctx context.Context, ts store.TeamStore, t interviewTarget) {
	campaign := t.row.CampaignID
	n, err := ts.CountInterviews(ctx, store.InterviewFilter{CampaignID: campaign, Status: store.InterviewCompleted})
	switch {
	case err != nil:
	case n == 0:
		_, err = ts.SyncAnalysisFindings(ctx, campaign, nil, nil)
	case s.cfg.Analyses != nil:
		b := brief(t.campaign.Object)
		_, err = s.cfg.Analyses.AfterErasure(ctx, ts, campaign, b, s.analysisCharge(t.team.Team, b, false))
	}
	if err != nil {
		s.cfg.Logger.Error(err, "analysis after an erasure", "campaign", campaign)
	}
}

// answerBody is the body of POST /interviews/{id}/messages.
type answerBody struct {
	Content decode.Optional[string] `json:"content"`
	ReplyTo decode.Optional[string] `json:"reply_to"`
}

const maxAnswer = 10000

func (s *Server) answerInterview(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	t, err := visibleRow(s, r, p, interviewRows)
	if err != nil {
		return err
	}
	var body answerBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	switch n := len([]rune(body.Content.Value)); {
	case !body.Content.Set:
		return envelope.Field("content", "Required")
	case body.Content.Null || decode.Blank(body.Content.Value):
		return envelope.Field("content", "must not be blank")
	case n > maxAnswer:
		return envelope.Field("content", "must be at most %d characters", maxAnswer)
	}
	if body.ReplyTo.Set && (body.ReplyTo.Null || !isUUID(canonicalID(body.ReplyTo.Value))) {
		return envelope.Field("reply_to", "must be the id of the interviewer's message being answered")
	}
	if !p.HasRole(string(t.team.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot answer interviews")
	}
	if body.ReplyTo.Set && t.row.Status == store.InterviewInProgress {
		if err := s.repliesToLatest(r.Context(), t, store.MessageID(canonicalID(body.ReplyTo.Value))); err != nil {
			var e *envelope.Error
			if errors.As(err, &e) {
				return e
			}
			return interviewError(err, t, store.InterviewInProgress)
		}
	}
	turn, err := s.interviews.Answer(r.Context(), s.rows(t.team), t.campaign.Object, t.row, body.Content.Value)
	if err != nil {
		return interviewError(err, s.latest(r.Context(), t, err), store.InterviewInProgress)
	}
	out := resources.Turn{Message: resources.NewMessage(turn.Answer), Interview: interviewFor(p, turn.Interview)}
	if turn.Reply != nil {
		reply := resources.NewMessage(*turn.Reply)
		out.Reply = &reply
	}
	if turn.Closing != "" {
		out.Closing = &turn.Closing
	}
	envelope.WriteData(w, http.StatusCreated, out)
	return nil
}

func (s *Server) completeInterview(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	t, err := visibleRow(s, r, p, interviewRows)
	if err != nil {
		return err
	}
	var none struct{}
	if e := decode.JSON(w, r, &none); e != nil {
		return e
	}
	if !p.HasRole(string(t.team.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot complete interviews")
	}
	iv, err := s.interviews.Complete(r.Context(), s.rows(t.team), t.row.ID)
	if err != nil {
		return interviewError(err, s.latest(r.Context(), t, err), store.InterviewCompleted)
	}
	envelope.WriteData(w, http.StatusOK, interviewFor(p, iv))
	return nil
}

// interviewFor renders an interview for a caller that reads, answers or completes it. Only a
// caller that may read interviews sees who the participant is: a key with interviews:write
// alone (a public key, which lives in browsers) must not learn their name, e-mail, external
// id or metadata, not even with the interview's participant token. The token sits in page
// code and browser storage beside the interview id, where it can outlive the participant's
// visit on a shared device; the participant knows who they are, a resumed page needs only
// the status and the transcript, and metadata is often the integrator's notes, which the
// participant never saw.
func interviewFor(p *authn.Principal, iv store.Interview) resources.Interview {
	out := resources.NewInterview(iv)
	if p.Require(scopes.InterviewsRead) != nil {
		out.Participant = nil
	}
	return out
}

// latest is the target with the interview as it is now, when a refusal says it moved on since
// it was read (another request ended it): the error names the state it is in, not the one it
// was in.
// repliesToLatest checks that question is the interview's latest message, as t read it, and
// the interviewer's: else store.ErrConflict, before any model is asked. The answer's own
// sequence precondition then holds that to the moment it is written, so a double submit
// of one answer lands once even when the two requests do not overlap.
func (s *Server) repliesToLatest(ctx context.Context, t interviewTarget, question store.MessageID) error {
	last, err := s.rows(t.team).ListMessages(ctx, t.row.ID, store.PageRequest{Order: store.Desc, Limit: 1, SkipTotal: true})
	if err != nil {
		return err
	}
	if len(last.Items) == 0 || last.Items[0].ID != question || last.Items[0].Role != store.RoleInterviewer ||
		last.Items[0].Sequence != int64(t.row.MessageCount) {
		return s.staleOrForeign(ctx, t, question)
	}
	return nil
}

// staleOrForeign tells an answer to an earlier question of the interview, which another answer
// overtook (409), from a reply_to that was never one of its questions (400). An interview
// holds a few dozen messages: reading them is cheap, and only a refused answer does.
func (s *Server) staleOrForeign(ctx context.Context, t interviewTarget, question store.MessageID) error {
	req := store.PageRequest{Order: store.Asc, Limit: store.MaxPageLimit, SkipTotal: true}
	for {
		page, err := s.rows(t.team).ListMessages(ctx, t.row.ID, req)
		if err != nil {
			return err
		}
		for _, m := range page.Items {
			if m.ID == question && m.Role == store.RoleInterviewer {
				return store.ErrConflict
			}
		}
		if !page.HasMore {
			return envelope.Field("reply_to", "is not a question of this interview")
		}
		req.After = page.Next
	}
}

func (s *Server) latest(ctx context.Context, t interviewTarget, err error) interviewTarget {
	if errors.Is(err, store.ErrInvalidState) {
		if now, gerr := s.rows(t.team).GetInterview(ctx, t.row.ID); gerr == nil {
			t.row = now
		}
	}
	return t
}

// interviewError maps the store's and the service's refusals to the contract's errors; an
// ended interview's refusal names the state it is in and the one asked for.
func interviewError(err error, t interviewTarget, to store.InterviewStatus) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return envelope.NotFound("Interview")
	case errors.Is(err, interviews.ErrCampaignClosed):
		return envelope.New(envelope.CodeInvalidState, "The campaign is %s: it takes no more answers", t.campaign.Status)
	case errors.Is(err, store.ErrInvalidState) && to == store.InterviewInProgress:
		return envelope.New(envelope.CodeInvalidState, "The interview is %s: it takes no more messages", t.row.Status)
	case errors.Is(err, store.ErrInvalidState):
		return envelope.New(envelope.CodeInvalidState, "The interview cannot move from %s to %s", t.row.Status, to)
	case errors.Is(err, interviews.ErrAnswering):
		return envelope.New(envelope.CodeConflict, "Another answer to this interview is being taken; read the transcript once it lands and answer its latest question")
	case errors.Is(err, store.ErrConflict):
		return envelope.New(envelope.CodeConflict, "Another answer to this interview was accepted first; read the transcript and answer its latest question")
	}
	return err
}
