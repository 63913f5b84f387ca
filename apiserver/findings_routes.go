package apiserver

import "qual.cx/operator/apiserver/scopes"

// The findings scopes.
var (
	findingsRead  = scopes.Of("findings:read")
	findingsWrite = scopes.Of("findings:write")
)

// findingRoutes registers the findings and analyses endpoints: rows of the store, in the team
// of their campaign.
func (s *Server) findingRoutes() {
	s.authed("GET /findings", findingsRead, s.byListFilter, s.spanning(s.listFindings))
	s.authed("GET /campaigns/{id}/findings", findingsRead, s.byCampaign, s.listCampaignFindings)
	// Their answer is the finding, so writing one needs the right to read it too.
	s.authed("POST /findings", findingsWrite|findingsRead, s.byBodyCampaign, s.idempotent(s.createFinding))
	s.authed("GET /findings/{id}", findingsRead, s.byFinding, s.getFinding)
	s.authed("PATCH /findings/{id}", findingsWrite|findingsRead, s.byFinding, s.patchFinding)
	s.authed("DELETE /findings/{id}", findingsWrite, s.byFinding, s.deleteFinding)
	// 202 with the job; a second analyze while one is queued or running answers that one.
	s.authed("POST /campaigns/{id}/analyze", findingsWrite, s.byCampaign, s.idempotent(s.analyze))
	s.authed("GET /campaigns/{id}/analyses", findingsRead, s.byCampaign, s.listCampaignAnalyses)
	s.authed("GET /analyses/{id}", findingsRead, s.byAnalysis, s.getAnalysis)
}
