package apiserver

import (
	"strings"

	"qual.cx/operator/apiserver/sharepage"
)

// graphRoutes registers the knowledge graph and share-link endpoints, and the public page.
func (s *Server) graphRoutes() {
	s.authed("GET /campaigns/{id}/graph", scopeGraphRead, s.byCampaign, s.getGraph)
	// A replayed creation answers token: null and url: null: the idempotency record never
	// holds a live token (the store keeps only its hash).
	// A link shows the graph to whoever holds it, so making one needs the right to read it.
	s.authed("POST /campaigns/{id}/graph/share", scopeGraphShare|scopeGraphRead, s.byCampaign, s.idempotent(s.shareGraph, "token", "url"))
	// Whether a live link exists, its expiry and its maker: what managing links needs (the
	// right to revoke one), not what reading the graph does, so graph:share as DELETE.
	s.authed("GET /campaigns/{id}/graph/share", scopeGraphShare, s.byCampaign, s.getShare)
	s.authed("DELETE /campaigns/{id}/graph/share", scopeGraphShare, s.byCampaign, s.unshareGraph)
	// What a share link shows, without credentials: the JSON under /api/v1 (and /v1), and the
	// HTML page with its assets outside it.
	s.open("GET /shared/graphs/{token}", s.sharedGraphJSON)
	s.mux.HandleFunc("GET "+sharePagePath+"{token}", s.sharePage)
	// A link pasted with a trailing slash or cut short is still one a person opened in a
	// browser: the page that says it is not available, not the API's JSON.
	s.mux.HandleFunc("GET "+sharePagePath+"{token}/{rest...}", sharepage.Gone.Handle)
	s.mux.HandleFunc("GET "+sharePagePath+"{$}", sharepage.Gone.Handle)
	// Without the slash, too: the mux would answer with its own redirect, bare of the page's
	// headers.
	s.mux.HandleFunc("GET "+strings.TrimSuffix(sharePagePath, "/"), sharepage.Gone.Handle)
	s.mux.HandleFunc("GET /share/assets/{name}", s.shareAsset)
}
