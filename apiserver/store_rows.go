package apiserver

import (
	"context"
	"errors"
	"net/http"

	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/store"
)

// rowKind is how the API finds one kind of store row (interview, finding, analysis) by the
// id in the path. Store rows carry no namespace, so the row is looked up in the caller's
// teams' store handles only: another team's row never even reaches the handler.
type rowKind[T any] struct {
	name     string // in the 404: "Interview not found"
	get      func(ctx context.Context, ts store.TeamStore, id string) (T, error)
	campaign func(T) store.CampaignID
}

// found is a store row the caller may see, with its team and campaign.
type found[T any] struct {
	row      T
	team     directory.Membership
	campaign *directory.Campaign
}

// The store rows the API serves by id.
var (
	interviewRows = rowKind[store.Interview]{name: "Interview",
		get: func(ctx context.Context, ts store.TeamStore, id string) (store.Interview, error) {
			return ts.GetInterview(ctx, store.InterviewID(id))
		},
		campaign: func(iv store.Interview) store.CampaignID { return iv.CampaignID }}
	findingRows = rowKind[store.Finding]{name: "Finding",
		get: func(ctx context.Context, ts store.TeamStore, id string) (store.Finding, error) {
			return ts.GetFinding(ctx, store.FindingID(id))
		},
		campaign: func(f store.Finding) store.CampaignID { return f.CampaignID }}
	analysisRows = rowKind[store.Analysis]{name: "Analysis",
		get: func(ctx context.Context, ts store.TeamStore, id string) (store.Analysis, error) {
			return ts.GetAnalysis(ctx, store.AnalysisID(id))
		},
		campaign: func(a store.Analysis) store.CampaignID { return a.CampaignID }}
)

// visibleRow finds the row in the path among the caller's teams, the acting team first.
// Another team's row, or one whose campaign is gone, is 404.
func visibleRow[T any](s *Server, r *http.Request, p *authn.Principal, k rowKind[T]) (found[T], error) {
	id := r.PathValue("id")
	if !isUUID(id) {
		return found[T]{}, envelope.NotFound(k.name)
	}
	for _, m := range actingFirst(p) {
		row, err := k.get(r.Context(), s.rows(m), id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return found[T]{}, err
		}
		c, ok := s.dir.Campaign(string(k.campaign(row)))
		if !ok || c.TeamUID != string(m.Team.Object.UID) {
			break
		}
		return found[T]{row: row, team: m, campaign: c}, nil
	}
	return found[T]{}, envelope.NotFound(k.name)
}

// rowTeam is the team of the row in the path, to charge the request to. A key acts in its
// one team; only a session in several teams needs the store to tell.
func rowTeam[T any](s *Server, r *http.Request, p *authn.Principal, k rowKind[T]) *directory.Team {
	if len(p.Memberships) > 1 && isUUID(r.PathValue("id")) {
		for _, m := range p.Memberships {
			if _, err := k.get(r.Context(), s.rows(m), r.PathValue("id")); err == nil {
				return m.Team
			}
		}
	}
	return s.byHeader(r, p)
}

// actingFirst is the caller's teams with the one the request acts in first.
func actingFirst(p *authn.Principal) []directory.Membership {
	out := make([]directory.Membership, 0, len(p.Memberships))
	for _, m := range p.Memberships {
		if p.Acting != nil && m.Team == p.Acting {
			out = append([]directory.Membership{m}, out...)
		} else {
			out = append(out, m)
		}
	}
	return out
}

func (s *Server) byInterview(r *http.Request, p *authn.Principal) *directory.Team {
	return rowTeam(s, r, p, interviewRows)
}

func (s *Server) byFinding(r *http.Request, p *authn.Principal) *directory.Team {
	return rowTeam(s, r, p, findingRows)
}

func (s *Server) byAnalysis(r *http.Request, p *authn.Principal) *directory.Team {
	return rowTeam(s, r, p, analysisRows)
}
