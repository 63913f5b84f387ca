package apiserver

import (
	"fmt"
	"net/http"
	"strings"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/scopes"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/store"
)

// participantTokenHeader carries an interview's participant token: the credential a new
// interview's starter gets once, for the participant's browser to resume and answer that one
// interview. A header, never a query parameter: URLs land in proxies' logs and browser
// history, and the routes refuse a query parameter they do not document anyway.
const participantTokenHeader = "X-Qual-Participant-Token"

// newParticipantToken mints the participant token of a new interview and the hash the store
// keeps of it.
func newParticipantToken() (string, *store.TokenHash, error) {
	token, err := keys.MintParticipant()
	if err != nil {
		return "", nil, fmt.Errorf("participant token: %w", err)
	}
	h := store.HashToken(token)
	return token, &h, nil
}

// participantToken is the participant token a request sends, "" when it sends none. Two are
// refused rather than one picked, as two X-Qual-Team headers are. An empty or blank one is
// refused too, not read as none: a page sending an unset variable would otherwise run on the
// key's own rights without a word, and the header's schema takes no empty value.
func participantToken(r *http.Request) (string, *envelope.Error) {
	sent := r.Header.Values(participantTokenHeader)
	switch {
	case len(sent) > 1:
		return "", envelope.Field(participantTokenHeader, "must be sent once")
	case len(sent) == 1 && strings.TrimSpace(sent[0]) == "":
		return "", envelope.Field(participantTokenHeader, "must not be empty; send the interview's participant token, or no header")
	}
	return r.Header.Get(participantTokenHeader), nil
}

// participantReads guards a read of one interview (the interview, its transcript). The
// route's scope is interviews:read, which reads every interview of the team; a key that
// can only run interviews (interviews:write, as a browser's public key holds) may read
// the one whose participant token it sends, so a reloaded page can resume its interview
// without a scope that would show it everyone's.
func (s *Server) participantReads(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		token, e := participantToken(r)
		if e != nil {
			return e
		}
		if token == "" || p.Require(scopes.InterviewsWrite) != nil {
			if e := p.Require(scopes.InterviewsRead); e != nil {
				return e
			}
		}
		if err := s.holdsToken(r, p, token); err != nil {
			return err
		}
		return h(w, r, p)
	}
}

// participantWrites guards an answer or a completion. A public key lives in page code, so
// anyone has it: it answers only with the interview's participant token, else anyone could
// write into another participant's interview by its id. Secret and scoped keys (servers
// running interviews for their users) and sessions need none. It runs before the
// idempotency record is looked up, so a replay is no way around it.
func (s *Server) participantWrites(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		token, e := participantToken(r)
		if e != nil {
			return e
		}
		// Refused before any lookup, so the answer is the same whether the interview exists.
		if token == "" && publicKey(p) {
			return envelope.New(envelope.CodeForbidden,
				"A public key answers an interview only with its participant token (the %s header)", participantTokenHeader)
		}
		if err := s.holdsToken(r, p, token); err != nil {
			return err
		}
		return h(w, r, p)
	}
}

// holdsToken checks a participant token sent to the interview in the path: it must be that
// interview's, in one of the caller's teams. Anything else (malformed, unknown, another
// interview's or team's, an erased interview's) is the 404 of an interview that does not
// exist, so a token tells nothing about other interviews. No token passes: the route's scope
// rules decide then.
func (s *Server) holdsToken(r *http.Request, p *authn.Principal, token string) error {
	if token == "" {
		return nil
	}
	if !keys.IsParticipant(token) {
		return envelope.NotFound(interviewRows.name)
	}
	t, err := visibleRow(s, r, p, interviewRows)
	if err != nil {
		return err
	}
	if !t.row.TokenMatches(store.HashToken(token)) {
		return envelope.NotFound(interviewRows.name)
	}
	return nil
}

// publicKey reports whether the caller is a public key, which lives in browsers.
func publicKey(p *authn.Principal) bool {
	return p.Key != nil && p.Key.Object.Spec.Type == qualv1alpha1.KeyPublic
}
