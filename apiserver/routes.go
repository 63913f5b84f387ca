package apiserver

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/openapi"
	"qual.cx/operator/apiserver/scopes"
)

// handlerFunc is an authenticated endpoint. It returns an *envelope.Error for a documented
// failure; any other error is a 500 (or a 503 when Kubernetes is unavailable).
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error

// basePaths are the API's roots: /api/v1, and /v1 as an alias of the same routes.
var basePaths = []string{"/api/v1", "/v1"}

func (s *Server) routes() {
	// Open endpoints.
	s.open("GET /health", s.health)
	s.open("GET /ready", s.ready)
	s.open("GET /openapi.json", openapi.Handler().ServeHTTP)

	// Campaigns.
	s.authed("GET /campaigns", scopes.CampaignsRead, s.byListFilter, s.spanning(s.listCampaigns))
	s.authed("POST /campaigns", scopes.CampaignsWrite, s.byBodyTeam, s.idempotent(s.createCampaign))
	s.authed("GET /campaigns/{id}", scopes.CampaignsRead, s.byCampaign, s.getCampaign)
	s.authed("PATCH /campaigns/{id}", scopes.CampaignsWrite, s.byCampaign, s.patchCampaign)
	s.authed("DELETE /campaigns/{id}", scopes.CampaignsDelete, s.byCampaign, s.deleteCampaign)
	for _, action := range []string{"publish", "pause", "complete"} {
		s.authed("POST /campaigns/{id}/"+action, scopes.CampaignsPublish, s.byCampaign, s.idempotent(s.campaignAction(action)))
	}

	// Interviews and messages: rows of the store, in the team of their campaign.
	s.authed("GET /interviews", scopes.InterviewsRead, s.byListFilter, s.spanning(s.listInterviews))
	s.authed("GET /campaigns/{id}/interviews", scopes.InterviewsRead, s.byCampaign, s.listCampaignInterviews)
	// A replayed start answers participant: null, so personal data never outlives its
	// interview in an idempotency record, and participant_token: null, as no record holds a
	// credential.
	s.authed("POST /campaigns/{id}/interviews", scopes.InterviewsWrite, s.byCampaign,
		s.idempotent(s.startInterview, "participant", "participant_token"))
	// One interview's reads take interviews:read, or interviews:write and the interview's
	// participant token: participantReads checks the scope, so the route names none.
	s.authed("GET /interviews/{id}", 0, s.byInterview, s.participantReads(s.getInterview))
	s.authed("DELETE /interviews/{id}", scopes.InterviewsWrite, s.byInterview, s.deleteInterview)
	s.authed("GET /interviews/{id}/messages", 0, s.byInterview, s.participantReads(s.listMessages))
	s.authed("POST /interviews/{id}/messages", scopes.InterviewsWrite, s.byInterview, s.participantWrites(s.idempotent(s.answerInterview)))
	s.authed("POST /interviews/{id}/complete", scopes.InterviewsWrite, s.byInterview, s.participantWrites(s.idempotent(s.completeInterview)))

	// Findings and analyses; the knowledge graph and its share links.
	s.findingRoutes()
	s.graphRoutes()

	// Teams and members.
	s.authed("GET /teams", scopes.TeamsRead, s.byHeader, s.listTeams)
	s.authed("POST /teams", scopes.TeamsWrite, s.byHeader, inNoTeam(s.idempotent(s.createTeam)))
	s.authed("GET /teams/{id}", scopes.TeamsRead, s.byTeam, s.getTeam)
	s.authed("PATCH /teams/{id}", scopes.TeamsWrite, s.byTeam, s.patchTeam)
	s.authed("DELETE /teams/{id}", scopes.TeamsWrite, s.byTeam, s.deleteTeam)
	s.authed("GET /teams/{id}/members", scopes.TeamsRead, s.byTeam, s.listMembers)
	s.authed("POST /teams/{id}/members", scopes.TeamsWrite, s.byTeam, s.idempotent(s.addMember))
	s.authed("PATCH /teams/{id}/members/{user_id}", scopes.TeamsWrite, s.byTeam, s.patchMember)
	s.authed("DELETE /teams/{id}/members/{user_id}", scopes.TeamsWrite, s.byTeam, s.removeMember)

	// Webhooks: Webhook objects, their signing Secrets and their delivery log.
	s.webhookRoutes()

	// API keys: a session or a secret key; no scope of their own. A replayed creation never
	// shows the plaintext again: the idempotency record does not hold it.
	s.authed("GET /api-keys", 0, s.byHeader, s.keyManager(s.listKeys))
	s.authed("POST /api-keys", 0, s.byHeader, s.keyManager(s.idempotent(s.createKey, "key")))
	s.authed("GET /api-keys/{id}", 0, s.byKey, s.keyManager(s.getKey))
	s.authed("DELETE /api-keys/{id}", 0, s.byKey, s.keyManager(s.revokeKey))
	s.authed("POST /api-keys/{id}/rotate", 0, s.byKey, s.keyManager(s.idempotent(s.rotateKey, "key")))

	// The caller, its usage, and platform administration.
	s.authed("GET /me", 0, s.byHeader, s.me)
	s.authed("GET /usage", 0, s.byHeader, s.usageReport)
	s.authed("GET /admin/stats", scopes.AdminRead, s.byHeader, s.adminOnly(s.adminStats))
	s.authed("GET /admin/teams", scopes.AdminRead, s.byHeader, s.adminOnly(s.adminTeams))
}

// open registers an endpoint that needs no credentials under every base path. It takes
// only the query parameters the OpenAPI document lists for it, as every route does.
func (s *Server) open(pattern string, h http.HandlerFunc) {
	params, documented := s.queryParams[pattern]
	if !documented {
		s.undocumented = append(s.undocumented, pattern)
	}
	s.public(pattern, func(w http.ResponseWriter, r *http.Request) {
		if e := unknownParam(r, params); e != nil {
			envelope.WriteError(w, e)
			return
		}
		h(w, r)
	})
}

// public registers h under every base path as it is: authed has read the query already.
func (s *Server) public(pattern string, h http.HandlerFunc) {
	method, path := splitPattern(pattern)
	for _, base := range basePaths {
		s.mux.Handle(method+" "+base+path, h)
	}
}

// authed registers an endpoint that authenticates, finds the team the request acts in,
// spends that team's request budget, checks the scope, then runs h.
func (s *Server) authed(pattern string, scope scopes.Set, acting actingTeam, h handlerFunc) {
	_, path := splitPattern(pattern)
	names := wildcards(path)
	params, documented := s.queryParams[pattern]
	if !documented {
		s.undocumented = append(s.undocumented, pattern)
	}
	s.public(pattern, func(w http.ResponseWriter, r *http.Request) {
		queryErr := canonicalIDs(r, names)
		if queryErr == nil {
			queryErr = unknownParam(r, params)
		}
		p, e := s.authn.Authenticate(r)
		if e != nil {
			s.unauthenticated(w, r, e)
			return
		}
		if e := s.cors(w, r, p); e != nil {
			envelope.WriteError(w, e)
			return
		}
		// Two teams named are refused rather than one picked, as two idempotency keys are:
		// the reader that acts and the one that charges must not disagree on which counts.
		if len(r.Header.Values("X-Qual-Team")) > 1 {
			envelope.WriteError(w, envelope.Field("X-Qual-Team", "must be sent once"))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, p.ID()))
		p.Acting = acting(r, p)
		if e := s.spendRequest(w, r, p, p.Acting); e != nil {
			envelope.WriteError(w, e)
			return
		}
		// Naming a team the caller is not in is 404 on every route, reads included: an answer
		// about another team than the one named would pass for the named one's.
		if named := r.Header.Get("X-Qual-Team"); named != "" {
			if !isUUID(named) {
				envelope.WriteError(w, envelope.Field("X-Qual-Team", "must be a team id (a UUID)"))
				return
			}
			if _, ok := p.Team(named); !ok {
				envelope.WriteError(w, envelope.NotFound("Team"))
				return
			}
		}
		// Go's Query drops a pair it cannot decode ("search=100%", "cursor=%ZZ"): the filter
		// would vanish and the list answer for everything, or a cursor restart at page one.
		if queryErr != nil {
			envelope.WriteError(w, queryErr)
			return
		}
		if e := p.Require(scope); e != nil {
			envelope.WriteError(w, e)
			return
		}
		if r.Method == http.MethodGet {
			s.markStale(w)
		}
		// A DELETE takes no body, but is a write: a Content-Type other than JSON is 415, and
		// a body is held to the rules of an action's (none, or an empty object).
		if r.Method == http.MethodDelete {
			if e := decode.JSON(w, r, &struct{}{}); e != nil {
				envelope.WriteError(w, e)
				return
			}
		}
		if err := h(w, r, p); err != nil {
			s.fail(w, r, err)
		}
	})
}

func splitPattern(pattern string) (method, path string) {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == ' ' {
			return pattern[:i], pattern[i+1:]
		}
	}
	return "", pattern
}

// statusClientClosed is the status recorded for a request whose caller went away first.
const statusClientClosed = 499

// fail writes the response for a handler's error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *envelope.Error
	switch {
	case errors.As(err, &e):
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The caller hung up: nobody reads an answer, and nothing failed here. The access
		// log and metrics say so (499, as proxies record it), not that the server erred.
		w.WriteHeader(statusClientClosed)
		return
	case unreachable(err):
		s.cfg.Logger.Info("dependency unavailable", "method", r.Method, "path", loggedPath(r), "error", err.Error(),
			"request_id", w.Header().Get("X-Request-Id"))
		e = envelope.Unavailable("A dependency (the Kubernetes API or the database)", 5*time.Second)
	default:
		s.cfg.Logger.Error(err, "request failed", "method", r.Method, "path", loggedPath(r),
			"request_id", w.Header().Get("X-Request-Id"))
		e = envelope.Internal()
	}
	envelope.WriteError(w, e)
}

// keyManager allows only sessions and secret keys, as key management requires.
func (s *Server) keyManager(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		if p.Kind == authn.KindAPIKey && p.Key.Object.Spec.Type != "secret" {
			return envelope.New(envelope.CodeForbidden, "Managing API keys needs a session or a secret key")
		}
		return h(w, r, p)
	}
}

// adminOnly allows only platform admins.
func (s *Server) adminOnly(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		if !p.Admin {
			return envelope.New(envelope.CodeForbidden, "This endpoint is for platform admins")
		}
		return h(w, r, p)
	}
}

// unknownParam refuses a query parameter the route does not take, as an unknown JSON field
// is refused: a misspelt filter ("campaignid") or one of another route ("team_id" on a list
// that has none) would otherwise be ignored, and the answer pass for the filtered one.
func unknownParam(r *http.Request, params []string) *envelope.Error {
	for _, k := range slices.Sorted(maps.Keys(r.URL.Query())) {
		if !slices.Contains(params, k) {
			if len(params) == 0 {
				return envelope.Field(k, "is not a parameter of this endpoint, which takes none")
			}
			return envelope.Field(k, "is not a parameter of this endpoint (it takes %s)", strings.Join(params, ", "))
		}
	}
	return nil
}

// queryText refuses a query parameter whose name or a value is not text, or that is given
// more than once. Every filter of every list is checked here, once, before its handler
// reads it.
func queryText(name string, values []string) *envelope.Error {
	if !decode.ValidText(name) {
		return envelope.Field("query", "has a parameter name that is not valid UTF-8 text")
	}
	// No parameter takes a list: a second value would be read by nobody, and a client that
	// sent two should learn which one counts rather than guess.
	if len(values) > 1 {
		return envelope.Field(name, "must be given once")
	}
	for _, v := range values {
		if !decode.ValidText(v) {
			return envelope.Field(name, "must be valid UTF-8 text without control characters")
		}
	}
	return nil
}

// queryFault says what is wrong with a query string without echoing the parser's wording.
func queryFault(err error) string {
	if strings.Contains(err.Error(), "semicolon") {
		return "a semicolon separates nothing; use &"
	}
	return "a % must start an escape of two hex digits (write %25 for a percent sign)"
}

// callerKey holds, in an authenticated request's context, who asks (a key's id or a user's):
// a list binds its cursors to it, so a cursor is no use to another caller.
type callerKey struct{}

func callerOf(ctx context.Context) string {
	id, _ := ctx.Value(callerKey{}).(string)
	return id
}

// wildcards are the names of a route pattern's path wildcards ("id", "user_id").
func wildcards(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			out = append(out, strings.TrimSuffix(strings.TrimSuffix(name, "}"), "..."))
		}
	}
	return out
}

// canonicalIDs writes the ids a request names in its path (the path values and the path
// itself), its X-Qual-Team header and its *_id query parameters in lower case
// (canonicalID), before anything reads them, so every
// lookup, budget and idempotency record sees one spelling of each id. A user id is left as
// sent: the identity provider mints it, and its case may matter there; so is a participant's
// external_id, the caller's own id, which the list filter matches exactly. It returns what is
// wrong with the query string, refused once the caller is known: a parse error, or a name or
// value that is not text (invalid UTF-8 would reach a filter as bytes PostgreSQL refuses).
func canonicalIDs(r *http.Request, names []string) *envelope.Error {
	for _, name := range names {
		if v := r.PathValue(name); v != "" && name != "user_id" {
			if c := canonicalID(v); c != v {
				r.SetPathValue(name, c)
				r.URL.Path = replaceSegment(r.URL.Path, v, c)
				r.URL.RawPath = replaceSegment(r.URL.RawPath, v, c)
			}
		}
	}
	// One team named is read in any case; two are refused later, so both must stay.
	if vs := r.Header.Values("X-Qual-Team"); len(vs) == 1 && vs[0] != "" {
		r.Header.Set("X-Qual-Team", canonicalID(vs[0]))
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return envelope.Field("query", "is not a valid query string: %s", queryFault(err))
	}
	changed := false
	for k, vs := range q {
		if e := queryText(k, vs); e != nil {
			return e
		}
		if !strings.HasSuffix(k, "_id") || k == "user_id" || k == "external_id" {
			continue // a participant's external_id is the caller's own, matched exactly
		}
		for i, v := range vs {
			if c := canonicalID(v); c != v {
				vs[i], changed = c, true
			}
		}
	}
	if changed {
		r.URL.RawQuery = q.Encode()
	}
	return nil
}
