package apiserver

import (
	"fmt"
	"net/http"
	"strings"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
)

// cors answers browsers for public keys only: from the origins listed on the key, or any
// origin when none is listed. Secret and scoped keys, meant for servers, never get CORS. A
// public key's request from an origin it does not list is refused (403), not only left
// unreadable: a page elsewhere must not start interviews or spend the team's budgets with it.
func (s *Server) cors(w http.ResponseWriter, r *http.Request, p *authn.Principal) *envelope.Error {
	origin := r.Header.Get("Origin")
	if origin == "" || p.Key == nil || p.Key.Object.Spec.Type != qualv1alpha1.KeyPublic {
		return nil
	}
	if allowed := p.Key.Object.Spec.AllowedOrigins; len(allowed) > 0 && !containsFold(allowed, origin) {
		return envelope.New(envelope.CodeForbidden, "This public key does not accept requests from %s", origin)
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", exposedHeaders)
	return nil
}

// exposedHeaders are the response headers the contract documents, which a page reads:
// Idempotent-Replayed tells a replay from a first answer, Warning a stale read.
const exposedHeaders = "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, RateLimit-Policy, RateLimit, Retry-After, Idempotent-Replayed, Warning"

// allowedHeaders are the request headers a page may send: X-Qual-Participant-Token is how a
// participant's page reads and answers its own interview with a public key.
const allowedHeaders = "Authorization, Content-Type, Idempotency-Key, X-Request-Id, X-Qual-Team, " + participantTokenHeader

// preflight answers a CORS preflight. It carries no credentials, so it is answered for an
// origin that some public key accepts; the request that follows is checked against its own key.
// Being unauthenticated, it spends from its client address's budget first (anonymous.go).
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	if e := s.limitAnonymous(w, r); e != nil {
		envelope.WriteError(w, e)
		return
	}
	origin, methods := r.Header.Get("Origin"), s.allowedMethods(r)
	if methods == "" {
		envelope.WriteError(w, envelope.New(envelope.CodeNotFound, "No route for %s", r.URL.Path))
		return
	}
	if origin == "" || !s.dir.PublicOriginAllowed(origin) {
		envelope.WriteError(w, envelope.New(envelope.CodeForbidden, "CORS is not enabled for this origin"))
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", allowedHeaders)
	h.Set("Access-Control-Max-Age", fmt.Sprint(600))
	w.WriteHeader(http.StatusNoContent)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
