package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/campaignstate"
)

var campaignSorts = []string{"created_at", "updated_at", "title"}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	filters, e := listFilters(r.URL.Query(), "status", "campaign_mode", "team_id", "search")
	if e != nil {
		return e
	}
	if e := validateCampaignFilters(filters); e != nil {
		return e
	}
	lp, e := s.parseList(r, campaignSorts, filters)
	if e != nil {
		return e
	}
	query := directory.Query{Namespaces: p.Namespaces(), Sort: directory.SortKey(lp.sortBy), Desc: lp.desc,
		Limit: lp.limit, Match: campaignMatcher(filters)}
	if id := filters["team_id"]; id != "" {
		m, ok := p.Team(id)
		if !ok {
			return envelope.NotFound("Team")
		}
		query.Namespaces = []string{m.Team.Namespace}
	}
	if a := lp.after; a != nil {
		if !directory.ValidSortValue(query.Sort, a.Value) {
			return envelope.New(envelope.CodeInvalidCursor, "The cursor is invalid or belongs to another query")
		}
		query.After = &directory.After{Value: a.Value, ID: a.ID}
	}
	page := s.dir.ListCampaigns(query)
	items := s.campaignJSON(r.Context(), page.Items...)
	var lastValue, lastID string
	if n := len(page.Items); n > 0 {
		lastValue, lastID = directory.SortValue(page.Items[n-1], query.Sort), string(page.Items[n-1].Object.UID)
	}
	envelope.WriteRawList(w, items, s.pagination(lp, page.HasMore, page.Total, lastValue, lastID))
	return nil
}

func validateCampaignFilters(f map[string]string) *envelope.Error {
	var bad []envelope.FieldError
	if v := f["status"]; v != "" && !statesEnum.has(v) {
		bad = append(bad, envelope.FieldError{Field: "status", Message: statesEnum.must()})
	}
	if v := f["campaign_mode"]; v != "" && !modesEnum.has(v) {
		bad = append(bad, envelope.FieldError{Field: "campaign_mode", Message: modesEnum.must()})
	}
	if v := f["team_id"]; v != "" && !isUUID(v) {
		bad = append(bad, envelope.FieldError{Field: "team_id", Message: "must be a team id (a UUID)"})
	}
	// Text that is not text never gets here: every query value was checked (queryText).
	if len(f["search"]) > 200 {
		bad = append(bad, envelope.FieldError{Field: "search", Message: "must be at most 200 characters"})
	}
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	return nil
}

// campaignMatcher filters by status, mode and a case-insensitive search; nil when none is set,
// so an unfiltered list counts in O(1).
func campaignMatcher(f map[string]string) func(*directory.Campaign) bool {
	status, mode, term := f["status"], f["campaign_mode"], strings.ToLower(f["search"])
	if status == "" && mode == "" && term == "" {
		return nil
	}
	return func(c *directory.Campaign) bool {
		return (status == "" || c.Status == status) && (mode == "" || c.Mode == mode) &&
			(term == "" || c.Matches(term))
	}
}

// visibleCampaign returns a campaign the caller may see, else 404.
func (s *Server) visibleCampaign(r *http.Request, p *authn.Principal) (*directory.Campaign, directory.Membership, *envelope.Error) {
	c, ok := s.dir.Campaign(r.PathValue("id"))
	if !ok {
		return nil, directory.Membership{}, envelope.NotFound("Campaign")
	}
	m, ok := p.Team(c.TeamUID)
	if !ok {
		return nil, directory.Membership{}, envelope.NotFound("Campaign")
	}
	return c, m, nil
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, _, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	envelope.WriteRawData(w, http.StatusOK, s.campaignJSON(r.Context(), c)[0])
	return nil
}

// campaignWriters are the team roles that may change campaigns.
var campaignWriters = []qualv1alpha1.TeamRole{qualv1alpha1.RoleOwner, qualv1alpha1.RoleAdmin, qualv1alpha1.RoleMember}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	var body campaignBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := body.validate(true); e != nil {
		return e
	}
	named := canonicalID(body.TeamID.Value)
	if named == "" {
		named = r.Header.Get("X-Qual-Team")
	}
	m, e := p.ActingTeam(named)
	if e != nil {
		return e
	}
	if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot create campaigns")
	}
	if m.Team.Namespace == "" {
		return teamNotReady()
	}
	spec := body.spec()
	if e := body.validateSpec(&spec); e != nil {
		return e
	}
	if c, ok := madeByClaim(r.Context(), s.dir.CampaignsIn(m.Team.Namespace), campaignObject); ok {
		return answerFound(w, r, http.StatusCreated, json.RawMessage(s.campaignJSON(r.Context(), c)[0]))
	}
	obj, err := s.writer().createCampaign(r.Context(), m.Team.Namespace, spec, s.cfg.Now())
	if err != nil {
		return err
	}
	c, _ := readBack(s, r.Context(), string(obj.UID), obj.ResourceVersion, s.dir.Campaign,
		func() (*directory.Campaign, error) { return directory.NewCampaign(obj, string(m.Team.Object.UID)), nil })
	envelope.WriteRawData(w, http.StatusCreated, c.JSON)
	return nil
}

// campaignObject is a directory campaign's Campaign, for madeByClaim.
func campaignObject(c *directory.Campaign) metav1.Object { return c.Object }

func (s *Server) patchCampaign(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
		return envelope.New(envelope.CodeForbidden, "Your role in this team cannot change campaigns")
	}
	var body campaignBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := body.validate(false); e != nil {
		return e
	}
	return s.updateCampaign(w, r, c, func(cur *directory.Campaign) (*qualv1alpha1.CampaignSpec, error) {
		if cur.Object.Spec.State == qualv1alpha1.StateCompleted {
			return nil, envelope.New(envelope.CodeInvalidState, "A completed campaign is read-only")
		}
		spec := cur.Object.Spec.DeepCopy()
		body.applyTo(spec)
		if e := body.validateSpec(spec); e != nil {
			return nil, e
		}
		return spec, nil
	})
}

func (s *Server) campaignAction(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		c, m, e := s.visibleCampaign(r, p)
		if e != nil {
			return e
		}
		if !p.HasRole(string(m.Team.Object.UID), campaignWriters...) {
			return envelope.New(envelope.CodeForbidden, "Your role in this team cannot %s campaigns", action)
		}
		var none struct{}
		if e := decode.JSON(w, r, &none); e != nil {
			return e
		}
		to, _ := campaignstate.Action(action).Target()
		return s.updateCampaign(w, r, c, func(cur *directory.Campaign) (*qualv1alpha1.CampaignSpec, error) {
			if err := campaignstate.CheckAction(cur.Object.Spec.State, campaignstate.Action(action)); err != nil {
				return nil, envelope.New(envelope.CodeInvalidState, "The campaign is %s and cannot %s: it cannot move from %s to %s",
					cur.Status, action, cur.Status, strings.ToLower(string(to)))
			}
			spec := cur.Object.Spec.DeepCopy()
			spec.State = to
			return spec, nil
		})
	}
}

// updateCampaign writes what change makes of the campaign's newest copy and answers with the
// result. The write carries that copy's resourceVersion, so a write that lost a race to
// another runs change again on the newer copy (client-go's conflict backoff gives the cache
// time to catch up): two changes to different fields both land, and a transition is checked
// against the state it replaces. Out of retries, it is 409 CONFLICT. A state change answers
// once the controller has accepted it (bounded by Config.WriteWait), so the answer carries
// the time it stamps (published_at).
func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request, c *directory.Campaign,
	change func(*directory.Campaign) (*qualv1alpha1.CampaignSpec, error)) error {
	uid := string(c.Object.UID)
	var u *unstructured.Unstructured
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if latest, ok := s.dir.Campaign(uid); ok {
			c = latest
		} else {
			return envelope.NotFound("Campaign")
		}
		spec, err := change(c)
		if err != nil {
			return err
		}
		if equality.Semantic.DeepEqual(*spec, c.Object.Spec) {
			// A change to what the campaign already is writes nothing: the apply would still
			// spell out the fields its create left empty, a new generation, and
			// campaign.updated would announce a change that changed nothing.
			u = nil
			return nil
		}
		u, err = s.writer().applyCampaign(r.Context(), c.Object, *spec)
		return err
	})
	if err != nil {
		return kubeError(err)
	}
	if u == nil {
		envelope.WriteRawData(w, http.StatusOK, s.campaignJSON(r.Context(), c)[0])
		return nil
	}
	updated, err := readBack(s, r.Context(), uid, u.GetResourceVersion(), s.dir.Campaign,
		func() (*directory.Campaign, error) {
			obj, err := fromApplied[qualv1alpha1.Campaign](u)
			if err != nil {
				return nil, err
			}
			return directory.NewCampaign(obj, c.TeamUID), nil
		})
	if err != nil {
		return err
	}
	if s.awaitUntil(r.Context(), func(d *directory.Directory) bool { return d.Settled(uid, u.GetResourceVersion()) }) {
		if settled, ok := s.dir.Campaign(uid); ok {
			updated = settled
		}
	}
	envelope.WriteRawData(w, http.StatusOK, s.campaignJSON(r.Context(), updated)[0])
	return nil
}

func (s *Server) deleteCampaign(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	if !p.HasRole(string(m.Team.Object.UID), qualv1alpha1.RoleOwner, qualv1alpha1.RoleAdmin) {
		return envelope.New(envelope.CodeForbidden, "Deleting campaigns needs the owner or admin role")
	}
	if err := s.writer().delete(r.Context(), c.Object); err != nil {
		return err
	}
	s.await(r.Context(), string(c.Object.UID), "")
	envelope.WriteNoContent(w)
	return nil
}
