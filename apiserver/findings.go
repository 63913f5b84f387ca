package apiserver

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/apiserver/scopes"
	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/findings"
	"qual.cx/operator/internal/store"
)

var findingSorts = []string{"created_at", "updated_at", "title"}

// The REST enums of findings.
var (
	findingTypes = enum{string(store.FindingTheme), string(store.FindingPainPoint), string(store.FindingOpportunity), string(store.FindingInsight)}
	sentiments   = enum{string(store.SentimentPositive), string(store.SentimentNeutral), string(store.SentimentNegative), string(store.SentimentMixed)}
)

// byBodyCampaign is the team of the campaign a create's body names, else byHeader. It reads
// the body and puts it back for the handler.
func (s *Server) byBodyCampaign(r *http.Request, p *authn.Principal) *directory.Team {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxIdempotentBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	var named struct {
		CampaignID string `json:"campaign_id"`
	}
	if err == nil && json.Unmarshal(body, &named) == nil && named.CampaignID != "" {
		if c, ok := s.dir.Campaign(canonicalID(named.CampaignID)); ok {
			if m, ok := p.Team(c.TeamUID); ok {
				return m.Team
			}
		}
	}
	return s.byHeader(r, p)
}

// listFindings lists findings across the caller's teams, or one campaign's.
func (s *Server) listFindings(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	filters, e := findingFilters(r.URL.Query(), "campaign_id", "team_id")
	if e != nil {
		return e
	}
	teams, e := s.listedTeams(p, filters)
	if e != nil {
		return e
	}
	return s.writeFindings(w, r, teams, filters)
}

// listCampaignFindings lists one campaign's findings.
func (s *Server) listCampaignFindings(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	filters, e := findingFilters(r.URL.Query())
	if e != nil {
		return e
	}
	filters["campaign_id"] = string(c.Object.UID)
	return s.writeFindings(w, r, []directory.Membership{m}, filters)
}

// findingFilters reads and checks a finding list's filters: type, tag and the others its
// route takes.
func findingFilters(q url.Values, more ...string) (map[string]string, *envelope.Error) {
	f, e := listFilters(q, append([]string{"type", "tag"}, more...)...)
	if e != nil {
		return nil, e
	}
	return f, validateFindingFilters(f)
}

func validateFindingFilters(f map[string]string) *envelope.Error {
	var bad []envelope.FieldError
	for _, id := range []string{"campaign_id", "team_id"} {
		if v := f[id]; v != "" && !isUUID(v) {
			bad = append(bad, envelope.FieldError{Field: id, Message: "must be an id (a UUID)"})
		}
	}
	if v := f["type"]; v != "" && !findingTypes.has(v) {
		bad = append(bad, envelope.FieldError{Field: "type", Message: findingTypes.must()})
	}
	if utf8.RuneCountInString(f["tag"]) > maxTag { // text was checked with every query value (queryText)
		bad = append(bad, envelope.FieldError{Field: "tag", Message: "must be a tag: at most " + strconv.Itoa(maxTag) + " characters of text"})
	}
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	return nil
}

// writeFindings answers one page of the teams' findings, merged as writeInterviews does.
func (s *Server) writeFindings(w http.ResponseWriter, r *http.Request, teams []directory.Membership, filters map[string]string) error {
	lp, e := s.parseList(r, findingSorts, filters)
	if e != nil {
		return e
	}
	req, e := findingPage(lp)
	if e != nil {
		return e
	}
	// Tags are stored trimmed, so the filter is read the same way: "?tag=a%20" finds "a".
	f := store.FindingFilter{CampaignID: store.CampaignID(filters["campaign_id"]), Type: store.FindingType(filters["type"]),
		Tag: strings.TrimSpace(filters["tag"])}
	var items []store.Finding
	var total int64
	more := false
	for _, m := range teams {
		page, err := s.rows(m).ListFindings(r.Context(), f, req)
		if err != nil {
			return err
		}
		items, total, more = append(items, page.Items...), total+page.TotalCount, more || page.HasMore
	}
	sortKey := store.SortKey(lp.sortBy)
	slices.SortFunc(items, func(a, b store.Finding) int {
		pa, pb := a.Position(sortKey), b.Position(sortKey)
		c := cmp.Or(pa.Time.Compare(pb.Time), strings.Compare(pa.Title, pb.Title), strings.Compare(pa.ID, pb.ID))
		if lp.desc {
			return -c
		}
		return c
	})
	if len(items) > lp.limit {
		items, more = items[:lp.limit], true
	}
	out := make([]resources.Finding, len(items))
	for i, f := range items {
		out[i] = resources.NewFinding(f)
	}
	var lastValue, lastID string
	if n := len(items); n > 0 {
		pos := items[n-1].Position(sortKey)
		lastValue, lastID = pos.Time.Format(time.RFC3339Nano), pos.ID
		if sortKey == store.SortTitle {
			lastValue = pos.Title
		}
	}
	envelope.WriteList(w, out, s.pagination(lp, more, int(total), lastValue, lastID))
	return nil
}

// findingPage is storePage with the title sort, whose cursor value is the title itself.
func findingPage(lp listParams) (store.PageRequest, *envelope.Error) {
	if lp.sortBy != string(store.SortTitle) {
		return storePage(lp)
	}
	after := lp.after
	lp.after, lp.sortBy = nil, string(store.SortCreatedAt)
	req, e := storePage(lp)
	req.Sort = store.SortTitle
	if after != nil {
		if !isUUID(after.ID) {
			return req, envelope.New(envelope.CodeInvalidCursor, "The cursor is invalid or belongs to another query")
		}
		req.After = &store.Position{Title: after.Value, ID: after.ID}
	}
	return req, e
}

// Finding limits.
const (
	maxTitle         = 200
	maxSummary       = 5000
	maxTag           = 50
	maxTags          = 20
	maxEvidence      = 50
	maxQuote         = 2000
	manualConfidence = 1.0 // a person's finding, unless they say otherwise
)

// findingBody is the body of POST /findings and PATCH /findings/{id}.
type findingBody struct {
	CampaignID decode.Optional[string]         `json:"campaign_id"`
	Title      decode.Optional[string]         `json:"title"`
	Summary    decode.Optional[string]         `json:"summary"`
	Type       decode.Optional[string]         `json:"type"`
	Tags       decode.Optional[[]string]       `json:"tags"`
	Evidence   decode.Optional[[]evidenceBody] `json:"evidence"`
	Sentiment  decode.Optional[string]         `json:"sentiment"`
	Confidence decode.Optional[float64]        `json:"confidence"`
}

type evidenceBody struct {
	InterviewID string  `json:"interview_id"`
	MessageID   *string `json:"message_id"`
	Quote       string  `json:"quote"`
}

// check validates the fields that are set; create says which are required.
func (b *findingBody) check(create bool) (store.FindingPatch, []store.Evidence, []envelope.FieldError) {
	var bad []envelope.FieldError
	add := func(field, msg string) { bad = append(bad, envelope.FieldError{Field: field, Message: msg}) }
	var p store.FindingPatch
	required := func(field string, o decode.Optional[string]) bool {
		switch {
		case !o.Set && create:
			add(field, "Required")
		case o.Set && o.Null:
			add(field, "must not be null")
		default:
			return o.Set
		}
		return false
	}
	// An optional field may be left out, but not given as null: null is no summary, tag
	// list or evidence list, and a client meaning "unchanged" must not wipe one.
	given := func(field string, set, null bool) bool {
		if set && null {
			add(field, "must not be null")
			return false
		}
		return set
	}
	if !create && b.CampaignID.Set {
		add("campaign_id", "cannot be changed: a finding stays in its campaign")
	}
	if required("title", b.Title) {
		t := strings.TrimSpace(b.Title.Value)
		switch n := len([]rune(t)); {
		case decode.Blank(t):
			add("title", "must not be blank")
		case decode.Reorders(t):
			add("title", decode.ReordersMessage)
		case n > maxTitle:
			add("title", "must be at most "+strconv.Itoa(maxTitle)+" characters")
		}
		p.Title = &t
	}
	if required("type", b.Type) {
		if !findingTypes.has(b.Type.Value) {
			add("type", findingTypes.must())
		}
		typ := store.FindingType(b.Type.Value)
		p.Type = &typ
	}
	if given("summary", b.Summary.Set, b.Summary.Null) {
		sum := strings.TrimSpace(b.Summary.Value)
		if len([]rune(sum)) > maxSummary {
			add("summary", "must be at most "+strconv.Itoa(maxSummary)+" characters")
		}
		p.Summary = &sum
	}
	if b.Sentiment.Set {
		if !sentiments.has(b.Sentiment.Value) {
			add("sentiment", sentiments.must())
		}
		sen := store.Sentiment(b.Sentiment.Value)
		p.Sentiment = &sen
	}
	if b.Confidence.Set {
		c := b.Confidence.Value
		if b.Confidence.Null || c < 0 || c > 1 {
			add("confidence", "must be a number from 0 to 1")
		}
		p.Confidence = &c
	}
	if given("tags", b.Tags.Set, b.Tags.Null) {
		tags := make([]string, 0, len(b.Tags.Value))
		if len(b.Tags.Value) > maxTags {
			add("tags", "must hold at most "+strconv.Itoa(maxTags)+" tags")
		}
		for i, tag := range b.Tags.Value {
			tag = strings.TrimSpace(tag)
			switch {
			case decode.Blank(tag):
				add("tags["+strconv.Itoa(i)+"]", "must not be blank")
			case decode.Reorders(tag):
				add("tags["+strconv.Itoa(i)+"]", decode.ReordersMessage)
			case len([]rune(tag)) > maxTag:
				add("tags["+strconv.Itoa(i)+"]", "must be at most "+strconv.Itoa(maxTag)+" characters")
			}
			tags = append(tags, tag)
		}
		p.Tags = &tags
	}
	var ev []store.Evidence
	if given("evidence", b.Evidence.Set, b.Evidence.Null) {
		if len(b.Evidence.Value) > maxEvidence {
			add("evidence", "must hold at most "+strconv.Itoa(maxEvidence)+" quotes")
		}
		for i, e := range b.Evidence.Value {
			field := "evidence[" + strconv.Itoa(i) + "]."
			if !isUUID(e.InterviewID) {
				add(field+"interview_id", "must be an interview id (a UUID)")
			}
			if e.MessageID != nil && !isUUID(*e.MessageID) {
				add(field+"message_id", "must be a message id (a UUID) or null")
			}
			if decode.Blank(e.Quote) {
				add(field+"quote", "must not be blank")
			} else if len([]rune(e.Quote)) > maxQuote {
				add(field+"quote", "must be at most "+strconv.Itoa(maxQuote)+" characters")
			}
			var msg store.MessageID
			if e.MessageID != nil {
				msg = store.MessageID(canonicalID(*e.MessageID))
			}
			ev = append(ev, store.Evidence{InterviewID: store.InterviewID(canonicalID(e.InterviewID)), MessageID: msg, Quote: e.Quote})
		}
		if ev == nil {
			ev = []store.Evidence{}
		}
		p.Evidence = &ev
		freq := frequency(ev)
		p.Frequency = &freq
	}
	return p, ev, bad
}

// frequency is the number of distinct interviews the evidence cites.
func frequency(ev []store.Evidence) int {
	seen := map[store.InterviewID]bool{}
	for _, e := range ev {
		seen[e.InterviewID] = true
	}
	return len(seen)
}

// checkEvidence verifies each quote against the store: the interview is the team's, in the
// campaign, and the quote is exactly in one of the participant's messages, the one named if
// any (the interviewer's words are no participant's evidence, and the graph shows a quote as
// said by its participant). Another team's or campaign's interview reads as one that does not
// exist.
func (s *Server) checkEvidence(r *http.Request, ts store.TeamStore, campaign store.CampaignID, ev []store.Evidence) ([]envelope.FieldError, error) {
	var bad []envelope.FieldError
	transcripts := map[store.InterviewID]map[store.MessageID]string{}
	for i, e := range ev {
		field := "evidence[" + strconv.Itoa(i) + "]."
		msgs, ok := transcripts[e.InterviewID]
		if !ok {
			iv, err := ts.GetInterview(r.Context(), e.InterviewID)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return nil, err
			case iv.CampaignID == campaign:
				if msgs, err = messagesOf(r, ts, iv.ID); err != nil {
					return nil, err
				}
			}
			transcripts[e.InterviewID] = msgs
		}
		if msgs == nil {
			bad = append(bad, envelope.FieldError{Field: field + "interview_id", Message: "must be an interview of the finding's campaign"})
			continue
		}
		if e.MessageID == "" {
			if !quotedIn(msgs, e.Quote) {
				bad = append(bad, envelope.FieldError{Field: field + "quote", Message: "must be an exact quote of one of the participant's messages"})
			}
			continue
		}
		content, ok := msgs[e.MessageID]
		switch {
		case !ok:
			bad = append(bad, envelope.FieldError{Field: field + "message_id", Message: "must be one of the participant's messages in that interview"})
		case !strings.Contains(content, e.Quote):
			bad = append(bad, envelope.FieldError{Field: field + "quote", Message: "must be an exact quote of the message"})
		}
	}
	return bad, nil
}

// quotedIn says one of msgs holds quote exactly.
func quotedIn(msgs map[store.MessageID]string, quote string) bool {
	for _, content := range msgs {
		if strings.Contains(content, quote) {
			return true
		}
	}
	return false
}

// messagesOf reads the participant's messages of an interview by id.
func messagesOf(r *http.Request, ts store.TeamStore, id store.InterviewID) (map[store.MessageID]string, error) {
	out := map[store.MessageID]string{}
	req := store.PageRequest{Limit: store.MaxPageLimit, SkipTotal: true}
	for {
		page, err := ts.ListMessages(r.Context(), id, req)
		if err != nil {
			return nil, err
		}
		for _, m := range page.Items {
			if m.Role == store.RoleParticipant {
				out[m.ID] = m.Content
			}
		}
		if !page.HasMore {
			return out, nil
		}
		req.After = page.Next
	}
}

// citesNeedsRead refuses evidence from a caller that may not read interviews: each quote is
// checked against the participant's words, so its answer would tell such a caller, one guess
// at a time, what a transcript it cannot fetch says.
func citesNeedsRead(p *authn.Principal, body findingBody) *envelope.Error {
	if len(body.Evidence.Value) == 0 {
		return nil
	}
	return p.Require(scopes.InterviewsRead)
}

func (s *Server) createFinding(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	var body findingBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := citesNeedsRead(p, body); e != nil {
		return e
	}
	patch, ev, bad := body.check(true)
	var c *directory.Campaign
	var m directory.Membership
	switch id := body.CampaignID; {
	case !id.Set:
		bad = append([]envelope.FieldError{{Field: "campaign_id", Message: "Required"}}, bad...)
	case id.Null || !isUUID(id.Value):
		bad = append([]envelope.FieldError{{Field: "campaign_id", Message: "must be a campaign id (a UUID)"}}, bad...)
	default:
		var ok bool
		if c, ok = s.dir.Campaign(canonicalID(id.Value)); ok {
			m, ok = p.Team(c.TeamUID)
		}
		if !ok {
			return envelope.NotFound("Campaign")
		}
	}
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot write findings")
	}
	ts := s.rows(m)
	campaign := store.CampaignID(c.Object.UID)
	if bad, err := s.checkEvidence(r, ts, campaign, ev); err != nil {
		return err
	} else if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	in := store.NewFinding{CampaignID: campaign, Type: *patch.Type, Title: *patch.Title, Evidence: ev,
		Frequency: frequency(ev), Sentiment: store.SentimentNeutral, Confidence: manualConfidence}
	if patch.Summary != nil {
		in.Summary = *patch.Summary
	}
	if patch.Tags != nil {
		in.Tags = *patch.Tags
	}
	if patch.Sentiment != nil {
		in.Sentiment = *patch.Sentiment
	}
	if patch.Confidence != nil {
		in.Confidence = *patch.Confidence
	}
	f, err := findings.Create(r.Context(), ts, in)
	if err != nil {
		return findingError(err)
	}
	envelope.WriteData(w, http.StatusCreated, resources.NewFinding(f))
	return nil
}

func (s *Server) getFinding(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	t, err := visibleRow(s, r, p, findingRows)
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusOK, resources.NewFinding(t.row))
	return nil
}

func (s *Server) patchFinding(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	t, err := visibleRow(s, r, p, findingRows)
	if err != nil {
		return err
	}
	var body findingBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := citesNeedsRead(p, body); e != nil {
		return e
	}
	// A finding sent back whole names its own campaign, which changes nothing.
	if body.CampaignID.Set && !body.CampaignID.Null && canonicalID(body.CampaignID.Value) == string(t.row.CampaignID) {
		body.CampaignID = decode.Optional[string]{}
	}
	patch, ev, bad := body.check(false)
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	if !p.HasRole(string(t.team.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot write findings")
	}
	ts := s.rows(t.team)
	if patch.Evidence != nil {
		if bad, err := s.checkEvidence(r, ts, t.row.CampaignID, ev); err != nil {
			return err
		} else if len(bad) > 0 {
			return envelope.Validation(bad...)
		}
	}
	f, err := findings.Update(r.Context(), ts, t.row.ID, patch)
	if err != nil {
		return findingError(err)
	}
	envelope.WriteData(w, http.StatusOK, resources.NewFinding(f))
	return nil
}

func (s *Server) deleteFinding(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	t, err := visibleRow(s, r, p, findingRows)
	if err != nil {
		return err
	}
	if !p.HasRole(string(t.team.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot delete findings")
	}
	if err := s.rows(t.team).DeleteFinding(r.Context(), t.row.ID); err != nil {
		return findingError(err)
	}
	envelope.WriteNoContent(w)
	return nil
}

// findingError maps the store's refusals. Evidence was checked first, so ErrInvalidInput
// means an interview or message went away in between.
func findingError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return envelope.NotFound("Finding")
	case errors.Is(err, store.ErrInvalidInput):
		return envelope.Field("evidence", "cites an interview or message that no longer exists")
	}
	return err
}

// analyze queues an analysis of the campaign's completed interviews (202), or answers the one
// already queued or running: a campaign runs one analysis at a time, and asking again costs
// no budget.
func (s *Server) analyze(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	var none struct{}
	if e := decode.JSON(w, r, &none); e != nil {
		return e
	}
	if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot analyze campaigns")
	}
	if s.cfg.Analyses == nil {
		return envelope.Unavailable("Analysis", 30*time.Second)
	}
	ts := s.rows(m)
	campaign := store.CampaignID(c.Object.UID)
	n, err := ts.CountInterviews(r.Context(), store.InterviewFilter{CampaignID: campaign, Status: store.InterviewCompleted})
	if err != nil {
		return err
	}
	if n == 0 {
		return envelope.New(envelope.CodeInvalidState, "The campaign has no completed interview to analyze")
	}
	if b := brief(c.Object); b.Analyzer == analysis.AnalyzerBuiltin && !analysis.ReadsLanguage(b.Language) {
		return envelope.New(envelope.CodeInvalidState, "The campaign's language is %s and the built-in analyzer reads English only: "+
			"set settings.analyzer to llm to analyze it with the chat model", b.Language)
	}
	b := brief(c.Object)
	a, _, err := s.cfg.Analyses.AnalyzeCharged(r.Context(), ts, campaign, b, s.analysisCharge(m.Team, b, true),
		s.spendHourlyWith(w, r, p, m.Team, analysesBudget))
	if errors.Is(err, findings.ErrNotReady) {
		return envelope.Unavailable("Analysis", 5*time.Second)
	}
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusAccepted, resources.NewAnalysisQueued(a))
	return nil
}

// analysisCharge is the Analysis/hr budget the model runs of an analysis of campaign c spend
// (findings.Charge): paid says the request spends a unit for the first (that of its first
// attempt; a retry's spends another). The built-in
// analyzer runs spend none, so a campaign that asks for it has none.
func (s *Server) analysisCharge(team *directory.Team, c analysis.Campaign, paid bool) *findings.Charge {
	if c.Analyzer != analysis.AnalyzerLLM {
		return nil
	}
	return &findings.Charge{Key: budgetKey(analysesBudget.key, team, nil),
		Limit: analysesBudget.limit(s.cfg.Plans.Of(planOf(team, nil))), Paid: paid}
}

// brief is the campaign as the analyzer knows it.
func brief(c *qualv1alpha1.Campaign) analysis.Campaign {
	return analysis.Campaign{Title: c.Spec.Title, Objectives: c.Spec.Objectives, Questions: c.Spec.Questions,
		Language: c.Spec.Settings.Language,
		// A campaign stored before the setting existed has none: the built-in analyzer.
		Analyzer: string(cmp.Or(c.Spec.Settings.Analyzer, qualv1alpha1.AnalyzerBuiltin))}
}

func (s *Server) getAnalysis(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	a, err := visibleRow(s, r, p, analysisRows)
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusOK, resources.NewAnalysis(a.row))
	return nil
}
