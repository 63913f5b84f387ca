package apiserver

import (
	"net/http"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
)

// rateTeam is the team whose budget a request spends: the key's team, or for a session the
// team named by X-Qual-Team, else the user's first. A session in no team spends a starter
// budget of its own.
func rateTeam(r *http.Request, p *authn.Principal) (team *directory.Team, plan qualv1alpha1.Plan) {
	if named := r.Header.Get("X-Qual-Team"); named != "" {
		if m, ok := p.Team(named); ok {
			return m.Team, m.Team.Object.Spec.Plan
		}
	}
	if len(p.Memberships) > 0 {
		return p.Memberships[0].Team, p.Memberships[0].Team.Object.Spec.Plan
	}
	return nil, qualv1alpha1.PlanStarter
}

// budgetKey names a budget of the acting team, or of a session user in no team.
func budgetKey(name string, team *directory.Team, p *authn.Principal) string {
	if team == nil {
		return name + ":user:" + p.UserID
	}
	if name == "requests" {
		return team.RequestsKey
	}
	return name + ":" + string(team.Object.UID)
}

// spendRequest spends one request of the acting team's per-minute budget and writes the
// rate-limit headers, which every authenticated response carries.
func (s *Server) spendRequest(w http.ResponseWriter, r *http.Request, p *authn.Principal) *envelope.Error {
	team, plan := rateTeam(r, p)
	limit := s.cfg.Plans.Of(plan).Requests()
	res, err := s.cfg.Limiter.Allow(r.Context(), budgetKey("requests", team, p), limit, 1)
	if err != nil {
		s.cfg.Logger.Error(err, "rate limiter unavailable")
		return envelope.Unavailable("Rate limiting", 5*time.Second)
	}
	res.Headers(w.Header(), "requests", limit)
	if !res.Allowed {
		e := envelope.New(envelope.CodeRateLimited, "Rate limit of %d requests per minute exceeded", limit.Quota)
		e.RetryAfter = res.RetryAfter
		return e
	}
	return nil
}
