package apiserver

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/store"
)

// listInterviews lists interviews across the caller's teams, or one campaign's or team's.
func (s *Server) listInterviews(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	filters, e := interviewFilters(r.URL.Query(), "campaign_id", "team_id")
	if e != nil {
		return e
	}
	teams, e := s.listedTeams(p, filters)
	if e != nil {
		return e
	}
	return s.writeInterviews(w, r, teams, filters)
}

// listedTeams are the teams a cross-team list reads: the caller's, narrowed to a campaign's
// (campaign_id) or a team (team_id); a campaign or team the caller cannot see is 404, and so
// is a campaign outside the team named beside it.
func (s *Server) listedTeams(p *authn.Principal, filters map[string]string) ([]directory.Membership, *envelope.Error) {
	switch {
	case filters["campaign_id"] != "":
		c, ok := s.dir.Campaign(filters["campaign_id"])
		m, visible := directory.Membership{}, false
		if ok {
			m, visible = p.Team(c.TeamUID)
		}
		if !visible || (filters["team_id"] != "" && filters["team_id"] != c.TeamUID) {
			return nil, envelope.NotFound("Campaign")
		}
		return []directory.Membership{m}, nil
	case filters["team_id"] != "":
		m, ok := p.Team(filters["team_id"])
		if !ok {
			return nil, envelope.NotFound("Team")
		}
		return []directory.Membership{m}, nil
	}
	return p.Memberships, nil
}

// listCampaignInterviews lists one campaign's interviews.
func (s *Server) listCampaignInterviews(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	filters, e := interviewFilters(r.URL.Query())
	if e != nil {
		return e
	}
	filters["campaign_id"] = string(c.Object.UID)
	return s.writeInterviews(w, r, []directory.Membership{m}, filters)
}

// interviewFilters reads and checks an interview list's filters: status, the participant
// filters and the others its route takes. The participant filters are read as a
// participant's data is stored (trimmed) and an e-mail address compares
// (qualv1alpha1.EmailKey), so one participant is one query, and one cursor binding, however
// the address is written.
func interviewFilters(q url.Values, more ...string) (map[string]string, *envelope.Error) {
	f, e := listFilters(q, append([]string{"status", "participant_email", "external_id"}, more...)...)
	if e != nil {
		return nil, e
	}
	f["participant_email"] = qualv1alpha1.EmailKey(strings.TrimSpace(f["participant_email"]))
	f["external_id"] = strings.TrimSpace(f["external_id"])
	return f, validateInterviewFilters(f)
}

func validateInterviewFilters(f map[string]string) *envelope.Error {
	var bad []envelope.FieldError
	for _, field := range []string{"campaign_id", "team_id"} {
		if v := f[field]; v != "" && !isUUID(v) {
			bad = append(bad, envelope.FieldError{Field: field, Message: "must be an id (a UUID)"})
		}
	}
	if v := f["status"]; v != "" && !interviewStatuses.has(v) {
		bad = append(bad, envelope.FieldError{Field: "status", Message: interviewStatuses.must()})
	}
	if v := f["participant_email"]; v != "" && (len([]rune(v)) > maxEmail || !isEmail(v)) {
		bad = append(bad, envelope.FieldError{Field: "participant_email", Message: "must be an e-mail address of at most " + strconv.Itoa(maxEmail) + " characters"})
	}
	if v := f["external_id"]; len([]rune(v)) > maxParticipantText {
		bad = append(bad, envelope.FieldError{Field: "external_id", Message: "must be at most " + strconv.Itoa(maxParticipantText) + " characters"})
	}
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	return nil
}

// writeInterviews answers one page of the teams' interviews. Each team's rows are a
// separate keyset list; a page of several teams merges their pages at the same position,
// which keeps the order and the cursor of one list.
func (s *Server) writeInterviews(w http.ResponseWriter, r *http.Request, teams []directory.Membership, filters map[string]string) error {
	lp, req, e := s.storeList(r, interviewSorts, filters)
	if e != nil {
		return e
	}
	f := store.InterviewFilter{CampaignID: store.CampaignID(filters["campaign_id"]), Status: store.InterviewStatus(filters["status"]),
		ParticipantEmail: filters["participant_email"], ExternalID: filters["external_id"]}
	var items []store.Interview
	var total int64
	more := false
	for _, m := range teams {
		page, err := s.rows(m).ListInterviews(r.Context(), f, req)
		if err != nil {
			return err
		}
		items, total, more = append(items, page.Items...), total+page.TotalCount, more || page.HasMore
	}
	sortKey := store.SortKey(lp.sortBy)
	slices.SortFunc(items, func(a, b store.Interview) int {
		c := cmp.Or(a.Position(sortKey).Time.Compare(b.Position(sortKey).Time), strings.Compare(string(a.ID), string(b.ID)))
		if lp.desc {
			return -c
		}
		return c
	})
	if len(items) > lp.limit {
		items, more = items[:lp.limit], true
	}
	out := make([]resources.Interview, len(items))
	for i, iv := range items {
		out[i] = resources.NewInterview(iv)
	}
	var lastValue, lastID string
	if n := len(items); n > 0 {
		lastValue, lastID = items[n-1].Position(sortKey).Time.Format(time.RFC3339Nano), string(items[n-1].ID)
	}
	envelope.WriteList(w, out, s.pagination(lp, more, int(total), lastValue, lastID))
	return nil
}

// storeList reads a store list's parameters (parseList) and the page request they make.
func (s *Server) storeList(r *http.Request, sorts []string, filters map[string]string) (listParams, store.PageRequest, *envelope.Error) {
	lp, e := s.parseList(r, sorts, filters)
	if e != nil {
		return lp, store.PageRequest{}, e
	}
	req, e := storePage(lp)
	return lp, req, e
}

// positioned is a store row, which knows its keyset position.
type positioned interface {
	Position(store.SortKey) store.Position
}

// writeTimePage answers one page of store rows in the list's time order (created_at or
// updated_at), each rendered, with the cursor after the last of them.
func writeTimePage[T positioned, R any](s *Server, w http.ResponseWriter, lp listParams, page store.Page[T], render func(T) R) {
	out := make([]R, len(page.Items))
	for i, item := range page.Items {
		out[i] = render(item)
	}
	var lastValue, lastID string
	if n := len(page.Items); n > 0 {
		last := page.Items[n-1].Position(store.SortKey(lp.sortBy))
		lastValue, lastID = last.Time.Format(time.RFC3339Nano), last.ID
	}
	envelope.WriteList(w, out, s.pagination(lp, page.HasMore, int(page.TotalCount), lastValue, lastID))
}

// storePage turns checked list parameters into the store's page request. A cursor's value
// was signed by this server, so one that does not parse was made with another key version.
func storePage(lp listParams) (store.PageRequest, *envelope.Error) {
	req := store.PageRequest{Sort: store.SortKey(lp.sortBy), Order: store.Asc, Limit: lp.limit}
	if lp.desc {
		req.Order = store.Desc
	}
	if a := lp.after; a != nil {
		pos := store.Position{ID: a.ID}
		var err error
		switch req.Sort {
		case store.SortSequence:
			pos.Sequence, err = strconv.ParseInt(a.Value, 10, 64)
		default:
			pos.Time, err = time.Parse(time.RFC3339Nano, a.Value)
		}
		if err != nil || !isUUID(a.ID) {
			return req, envelope.New(envelope.CodeInvalidCursor, "The cursor is invalid or belongs to another query")
		}
		req.After = &pos
	}
	return req, nil
}

var messageSorts = []string{"sequence"}

// listMessages lists an interview's messages by sequence, oldest first unless asked.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	t, err := visibleRow(s, r, p, interviewRows)
	if err != nil {
		return err
	}
	lp, e := s.parseListFrom(r, listParams{limit: 20, sortBy: "sequence"}, messageSorts,
		map[string]string{"interview": string(t.row.ID)})
	if e != nil {
		return e
	}
	req, e := storePage(lp)
	if e != nil {
		return e
	}
	page, err := s.rows(t.team).ListMessages(r.Context(), t.row.ID, req)
	if err != nil {
		return interviewError(err, t, "")
	}
	out := make([]resources.Message, len(page.Items))
	for i, m := range page.Items {
		out[i] = resources.NewMessage(m)
	}
	var lastValue, lastID string
	if n := len(page.Items); n > 0 {
		lastValue, lastID = strconv.FormatInt(page.Items[n-1].Sequence, 10), string(page.Items[n-1].ID)
	}
	envelope.WriteList(w, out, s.pagination(lp, page.HasMore, int(page.TotalCount), lastValue, lastID))
	return nil
}
