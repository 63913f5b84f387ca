package apiserver

import (
	"net/http"
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/ratelimit"
)

type teamRef struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Role *string `json:"role"`
}

type meResponse struct {
	AuthType string               `json:"auth_type"`
	UserID   *string              `json:"user_id"`
	KeyID    *string              `json:"key_id"`
	KeyType  *string              `json:"key_type"`
	Scopes   []qualv1alpha1.Scope `json:"scopes"`
	TeamID   *string              `json:"team_id"`
	Teams    []teamRef            `json:"teams"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	out := meResponse{AuthType: string(p.Kind), Teams: []teamRef{}}
	if p.Kind == authn.KindSession {
		out.UserID, out.Scopes = strPtr(p.UserID), []qualv1alpha1.Scope{"*"}
	} else {
		out.KeyID, out.KeyType = strPtr(string(p.Key.Object.UID)), strPtr(string(p.Key.Object.Spec.Type))
		out.Scopes = p.Scopes.Names()
	}
	for _, m := range p.Memberships {
		ref := teamRef{ID: string(m.Team.Object.UID), Name: m.Team.Object.Spec.DisplayName}
		if m.Role != "" {
			ref.Role = strPtr(string(m.Role))
		}
		out.Teams = append(out.Teams, ref)
	}
	if m, e := p.ActingTeam(r.Header.Get("X-Qual-Team")); e == nil {
		out.TeamID = strPtr(string(m.Team.Object.UID))
	} else if r.Header.Get("X-Qual-Team") != "" {
		return e
	}
	envelope.WriteData(w, http.StatusOK, out)
	return nil
}

type budgetTriple struct {
	Requests   int `json:"requests_per_minute"`
	Interviews int `json:"interviews_per_hour"`
	Analysis   int `json:"analysis_per_hour"`
}

type resetTriple struct {
	Requests   time.Time `json:"requests_per_minute"`
	Interviews time.Time `json:"interviews_per_hour"`
	Analysis   time.Time `json:"analysis_per_hour"`
}

type usageResponse struct {
	Plan      string       `json:"plan"`
	Limits    budgetTriple `json:"limits"`
	Remaining budgetTriple `json:"remaining"`
	ResetsAt  resetTriple  `json:"resets_at"`
}

// usageReport shows the acting team's plan and what is left of each budget, without
// spending any.
func (s *Server) usageReport(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	team, plan := p.Acting, planOf(p.Acting, p)
	b := s.cfg.Plans.Of(plan)
	out := usageResponse{Plan: string(plan), Limits: budgetTriple{b.RequestsPerMinute, b.InterviewsPerHour, b.AnalysisPerHour}}
	if out.Plan == "" {
		out.Plan = string(qualv1alpha1.PlanStarter)
	}
	now := s.cfg.Now().UTC()
	for _, budget := range []struct {
		name   string
		limit  ratelimit.Limit
		remain *int
		reset  *time.Time
	}{
		{"requests", b.Requests(), &out.Remaining.Requests, &out.ResetsAt.Requests},
		{"interviews", b.Interviews(), &out.Remaining.Interviews, &out.ResetsAt.Interviews},
		{"analyses", b.Analyses(), &out.Remaining.Analysis, &out.ResetsAt.Analysis},
	} {
		res, err := s.cfg.Limiter.Peek(r.Context(), budgetKey(budget.name, team, p), budget.limit)
		if err != nil {
			return envelope.Unavailable("Rate limiting", 5*time.Second)
		}
		// Rounded up, as X-RateLimit-Reset is: the second by which the budget is full again.
		*budget.remain, *budget.reset = res.Remaining, now.Add(res.ResetAfter+time.Second-1).Truncate(time.Second)
	}
	envelope.WriteData(w, http.StatusOK, out)
	return nil
}

func strPtr(s string) *string { return &s }
