package apiserver

import (
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
)

type adminStats struct {
	Teams     int `json:"teams"`
	Campaigns int `json:"campaigns"`
	APIKeys   int `json:"api_keys"`
	Webhooks  int `json:"webhooks"`
}

func (s *Server) adminStats(w http.ResponseWriter, r *http.Request, _ *authn.Principal) error {
	var hooks qualv1alpha1.WebhookList
	if err := s.cfg.Cache.List(r.Context(), &hooks, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	teams, keys := s.dir.Counts()
	envelope.WriteData(w, http.StatusOK, adminStats{Teams: teams, Campaigns: s.dir.CountCampaigns(), APIKeys: keys, Webhooks: len(hooks.Items)})
	return nil
}

func (s *Server) adminTeams(w http.ResponseWriter, r *http.Request, _ *authn.Principal) error {
	lp, e := s.parseList(r, namedSorts, map[string]string{"scope": "admin"})
	if e != nil {
		return e
	}
	all := s.dir.AllTeams()
	rows := make([]row[resources.Team], 0, len(all))
	for _, t := range all {
		rows = append(rows, teamRow(t, "", lp.sortBy))
	}
	writeRows(w, s, rows, lp)
	return nil
}
