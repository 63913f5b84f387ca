package apiserver

import (
	"context"

	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/store"
)

// campaignJSON renders campaigns with interview_count read from the store, so a REST read
// shows a new interview at once; the count on the Campaign's status (kubectl's column) is
// rolled up on a timer, which bounds status writes under load. While the store does not
// answer, the rolled-up count stands.
func (s *Server) campaignJSON(ctx context.Context, cs ...*directory.Campaign) [][]byte {
	byTeam := map[string][]store.CampaignID{}
	for _, c := range cs {
		if c.TeamUID != "" {
			byTeam[c.TeamUID] = append(byTeam[c.TeamUID], store.CampaignID(c.Object.UID))
		}
	}
	counts := make(map[store.CampaignID]int64, len(cs))
	for team, ids := range byTeam {
		n, err := s.cfg.Store.Team(store.TeamID(team)).InterviewCounts(ctx, ids)
		if err != nil {
			s.cfg.Logger.V(1).Info("interview counts unavailable; answering with the rolled-up ones", "error", err.Error())
			continue
		}
		for _, id := range ids {
			counts[id] = n[id] // absent: none yet
		}
	}
	out := make([][]byte, len(cs))
	for i, c := range cs {
		out[i] = c.JSON
		if n, ok := counts[store.CampaignID(c.Object.UID)]; ok {
			out[i] = resources.WithInterviewCount(c.JSON, n)
		}
	}
	return out
}
