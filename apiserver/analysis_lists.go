package apiserver

import (
	"net/http"

	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/store"
)

// analysisSorts are the sorts of a campaign's analyses: created_at is the only order the
// store's indexes keep (migration 5).
var analysisSorts = []string{"created_at"}

// analysisStatuses are the values of the status filter.
var analysisStatuses = enum{string(store.AnalysisQueued), string(store.AnalysisRunning), string(store.AnalysisSucceeded), string(store.AnalysisFailed)}

// listCampaignAnalyses lists one campaign's analyses, newest first unless asked. It is how a
// client finds the analyses it did not start itself, such as the one an interview's erasure
// starts (DELETE answers 204 and names none), and why one failed.
func (s *Server) listCampaignAnalyses(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	c, m, e := s.visibleCampaign(r, p)
	if e != nil {
		return e
	}
	filters, e := listFilters(r.URL.Query(), "status")
	if e != nil {
		return e
	}
	filters["campaign_id"] = string(c.Object.UID)
	if v := filters["status"]; v != "" && !analysisStatuses.has(v) {
		return envelope.Validation(envelope.FieldError{Field: "status", Message: analysisStatuses.must()})
	}
	lp, req, e := s.storeList(r, analysisSorts, filters)
	if e != nil {
		return e
	}
	f := store.AnalysisFilter{CampaignID: store.CampaignID(filters["campaign_id"]), Status: store.AnalysisStatus(filters["status"])}
	page, err := s.rows(m).ListAnalyses(r.Context(), f, req)
	if err != nil {
		return err
	}
	writeTimePage(s, w, lp, page, resources.NewAnalysis)
	return nil
}
