package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
)

// actingTeam finds, before a request runs, the team it acts in, so the request is charged to
// that team whatever X-Qual-Team says. It returns nil when the request acts in no team the
// caller can see; the caller's default budget pays then.
type actingTeam func(r *http.Request, p *authn.Principal) *directory.Team

// byHeader is the team X-Qual-Team names, else the caller's first (a key's own team).
func (s *Server) byHeader(r *http.Request, p *authn.Principal) *directory.Team {
	if m, e := p.ActingTeam(r.Header.Get("X-Qual-Team")); e == nil {
		return m.Team
	}
	if len(p.Memberships) > 0 {
		return p.Memberships[0].Team
	}
	return nil
}

// byListFilter is the team a list is narrowed to, by its team_id or campaign_id filter,
// when the caller can see it; else byHeader.
func (s *Server) byListFilter(r *http.Request, p *authn.Principal) *directory.Team {
	q := r.URL.Query()
	if m, ok := p.Team(q.Get("team_id")); ok {
		return m.Team
	}
	if c, ok := s.dir.Campaign(q.Get("campaign_id")); ok {
		if m, ok := p.Team(c.TeamUID); ok {
			return m.Team
		}
	}
	return s.byHeader(r, p)
}

// byCampaign is the team of the campaign in the path.
func (s *Server) byCampaign(r *http.Request, p *authn.Principal) *directory.Team {
	if c, ok := s.dir.Campaign(r.PathValue("id")); ok {
		if m, ok := p.Team(c.TeamUID); ok {
			return m.Team
		}
	}
	return s.byHeader(r, p)
}

// byTeam is the team in the path.
func (s *Server) byTeam(r *http.Request, p *authn.Principal) *directory.Team {
	if m, ok := p.Team(r.PathValue("id")); ok {
		return m.Team
	}
	return s.byHeader(r, p)
}

// byKey is the team of the API key in the path.
func (s *Server) byKey(r *http.Request, p *authn.Principal) *directory.Team {
	if k, ok := s.dir.KeyByUID(r.PathValue("id")); ok {
		if h, ok := s.managedKey(p, k); ok && h.teamUID != "" {
			if m, ok := p.Team(h.teamUID); ok {
				return m.Team
			}
		}
	}
	return s.byHeader(r, p)
}

// byBodyTeam is the team a body's team_id names (a create that takes one), else byHeader.
// It reads the body and puts it back for the handler.
func (s *Server) byBodyTeam(r *http.Request, p *authn.Principal) *directory.Team {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxIdempotentBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	var named struct {
		TeamID string `json:"team_id"`
	}
	if err == nil && json.Unmarshal(body, &named) == nil && named.TeamID != "" {
		if m, ok := p.Team(canonicalID(named.TeamID)); ok {
			return m.Team
		}
	}
	return s.byHeader(r, p)
}

// budgetKey names a budget of the acting team, or of a caller acting in no team.
func budgetKey(name string, team *directory.Team, p *authn.Principal) string {
	if team == nil {
		return name + ":caller:" + p.ID()
	}
	if name == "requests" {
		return team.RequestsKey
	}
	return name + ":" + string(team.Object.UID)
}

// planOf is the plan whose budgets a request spends: the acting team's; a platform admin
// acting in no team gets the largest, anyone else in no team the smallest.
func planOf(team *directory.Team, p *authn.Principal) qualv1alpha1.Plan {
	switch {
	case team != nil:
		return team.Object.Spec.Plan
	case p.Admin:
		return qualv1alpha1.PlanEnterprise
	}
	return qualv1alpha1.PlanStarter
}

// spendRequest spends one request of the acting team's per-minute budget and writes the
// rate-limit headers, which every authenticated response carries.
func (s *Server) spendRequest(w http.ResponseWriter, r *http.Request, p *authn.Principal, team *directory.Team) *envelope.Error {
	return s.chargeRequest(w, r, p, team, true)
}

// chargeRequest spends one request of team's per-minute budget; its rate-limit headers go on
// the answer when shown is set, or when it refuses.
func (s *Server) chargeRequest(w http.ResponseWriter, r *http.Request, p *authn.Principal, team *directory.Team, shown bool) *envelope.Error {
	limit := s.cfg.Plans.Of(planOf(team, p)).Requests()
	res, e := s.allow(r, budgetKey("requests", team, p), limit)
	if e != nil {
		return e
	}
	if shown || !res.Allowed {
		res.Headers(w.Header(), "requests", limit)
	}
	if !res.Allowed {
		e := envelope.New(envelope.CodeRateLimited, "Rate limit of %d requests per minute exceeded", limit.Quota)
		e.RetryAfter = res.RetryAfter
		return e
	}
	return nil
}

// spendSpanned charges a list that no team_id or campaign_id filter narrows, which reads the
// rows of every team of the caller, to each of those teams as well as the one it acts in:
// X-Qual-Team must not choose which team's budget pays for reading another team's rows. Its
// headers stay those of the acting team unless another refuses.
func (s *Server) spendSpanned(w http.ResponseWriter, r *http.Request, p *authn.Principal) *envelope.Error {
	if q := r.URL.Query(); q.Get("team_id") != "" || q.Get("campaign_id") != "" {
		return nil
	}
	for _, m := range p.Memberships {
		if m.Team == p.Acting {
			continue
		}
		if e := s.chargeRequest(w, r, p, m.Team, false); e != nil {
			return e
		}
	}
	return nil
}

// hourlyBudget is one of a plan's hourly budgets, spent by the requests that start costly
// work: interviews and analyses.
type hourlyBudget struct {
	key   string // of the limiter, per team
	name  string // in the 429: "Interviews/hr"
	unit  string // "interviews"
	limit func(plans.Budgets) ratelimit.Limit
}

// The hourly budgets of the contract's plans.
var (
	interviewsBudget = hourlyBudget{key: "interviews", name: "Interviews/hr", unit: "interviews", limit: plans.Budgets.Interviews}
	analysesBudget   = hourlyBudget{key: "analyses", name: "Analysis/hr", unit: "analyses", limit: plans.Budgets.Analyses}
)

// spendHourly spends one unit of the acting team's hourly budget b. Call it after every check
// that can refuse the request, so a refused request costs nothing. Its refusal's rate-limit
// headers describe b, the budget that is spent, not the per-minute one that still has room.
func (s *Server) spendHourly(w http.ResponseWriter, r *http.Request, p *authn.Principal, team *directory.Team, b hourlyBudget) *envelope.Error {
	limit := b.limit(s.cfg.Plans.Of(planOf(team, p)))
	res, e := s.allow(r, budgetKey(b.key, team, p), limit)
	if e != nil {
		return e
	}
	if !res.Allowed {
		res.Headers(w.Header(), b.key, limit)
		e := envelope.New(envelope.CodeRateLimited, "The %s budget of %d %s per hour is spent", b.name, limit.Quota, b.unit)
		e.RetryAfter = res.RetryAfter
		return e
	}
	return nil
}

// spendHourlyWith is spendHourly as the func a store write calls last in the transaction that
// stores the work b pays for (an analysis' row), so work that is not stored costs nothing and
// a refusal rolls it back.
func (s *Server) spendHourlyWith(w http.ResponseWriter, r *http.Request, p *authn.Principal, team *directory.Team, b hourlyBudget) func() error {
	return func() error {
		if e := s.spendHourly(w, r, p, team, b); e != nil {
			return e // never a nil *envelope.Error inside a non-nil error
		}
		return nil
	}
}

// spendHourlyBefore is spendHourly for a request that spends its unit before storing the work
// it pays for, so the limiter is never asked inside the transaction that stores it (which
// would hold the store's writer while the limiter answers). It returns what gives the unit
// back, for the caller to call when the work was not stored after all, so a start whose write
// failed costs nothing; only a process that dies between the spend and the write keeps the
// unit spent for nothing.
func (s *Server) spendHourlyBefore(w http.ResponseWriter, r *http.Request, p *authn.Principal, team *directory.Team, b hourlyBudget,
) (refund func(), e *envelope.Error) {
	if e := s.spendHourly(w, r, p, team, b); e != nil {
		return nil, e
	}
	return func() {
		// The unit is given back even when the client left, which may be why the write failed.
		ctx := context.WithoutCancel(r.Context())
		if err := s.cfg.Limiter.Refund(ctx, budgetKey(b.key, team, p), b.limit(s.cfg.Plans.Of(planOf(team, p))), 1); err != nil {
			s.cfg.Logger.Error(err, "give back a budget unit of work not stored", "budget", b.name)
		}
	}, nil
}

// allow spends one unit of the budget key; a limiter that does not answer is a 503.
func (s *Server) allow(r *http.Request, key string, limit ratelimit.Limit) (ratelimit.Result, *envelope.Error) {
	res, err := s.cfg.Limiter.Allow(r.Context(), key, limit, 1)
	return res, s.limiterDown(err)
}

// limiterDown is the 503 of a limiter that did not answer (err), else nil.
func (s *Server) limiterDown(err error) *envelope.Error {
	if err == nil {
		return nil
	}
	if !errors.Is(err, ratelimit.ErrUnavailable) { // a ratelimit.Failover logs its outage once
		s.cfg.Logger.Error(err, "rate limiter unavailable")
	}
	return envelope.Unavailable("Rate limiting", 5*time.Second)
}

// spanning charges a list across the caller's teams to each of them (spendSpanned) before h.
func (s *Server) spanning(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		if e := s.spendSpanned(w, r, p); e != nil {
			return e
		}
		return h(w, r, p)
	}
}
