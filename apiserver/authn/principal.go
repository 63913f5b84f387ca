package authn

import (
	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/scopes"
)

// Kind is how a caller authenticated.
type Kind string

// The ways to authenticate.
const (
	KindAPIKey  Kind = "api_key"
	KindSession Kind = "session"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind Kind
	// Key is the API key, for KindAPIKey.
	Key *directory.Key
	// UserID and Email identify a session user.
	UserID, Email string
	// Scopes are what the caller may do; sessions hold every scope.
	Scopes scopes.Set
	// Memberships are the teams the caller acts in: a key's one team (with no role), or
	// every team of a session user, the one joined first first.
	Memberships []directory.Membership
	// Admin is true for platform admins.
	Admin bool
	// Acting is the team the request acts in and is charged to, resolved by the server
	// before the handler runs; nil when it acts in no team the caller can see.
	Acting *directory.Team
	// one backs Memberships for a key, saving an allocation per request.
	one [1]directory.Membership
}

// Require returns INSUFFICIENT_SCOPE naming the first scope the caller lacks. Sessions skip
// scope checks, as the contract says.
func (p *Principal) Require(want scopes.Set) *envelope.Error {
	if p.Kind == KindSession || p.Scopes.Has(want) {
		return nil
	}
	return envelope.New(envelope.CodeInsufficientScope, "This request needs the %s scope", p.Scopes.Missing(want))
}

// Team returns the membership of a team the caller may act in, by UID.
func (p *Principal) Team(uid string) (directory.Membership, bool) {
	for _, m := range p.Memberships {
		if string(m.Team.Object.UID) == uid {
			return m, true
		}
	}
	return directory.Membership{}, false
}

// ActingTeam picks the team a request acts in: the one named (by a body's team_id or the
// X-Qual-Team header), else the caller's first. Naming a team the caller is not in is 404.
func (p *Principal) ActingTeam(named string) (directory.Membership, *envelope.Error) {
	if named != "" {
		if m, ok := p.Team(named); ok {
			return m, nil
		}
		return directory.Membership{}, envelope.NotFound("Team")
	}
	if len(p.Memberships) == 0 {
		return directory.Membership{}, envelope.New(envelope.CodeForbidden, "The caller belongs to no team")
	}
	return p.Memberships[0], nil
}

// HasRole reports whether the caller holds one of roles in a team. Keys act with their
// scopes, not roles: a key's team role check passes (its scopes decide).
func (p *Principal) HasRole(teamUID string, roles ...qualv1alpha1.TeamRole) bool {
	if p.Kind == KindAPIKey {
		_, ok := p.Team(teamUID)
		return ok
	}
	m, ok := p.Team(teamUID)
	if !ok {
		return false
	}
	for _, r := range roles {
		if m.Role == r {
			return true
		}
	}
	return false
}

// Namespaces are the namespaces of the caller's teams that their controller has claimed.
func (p *Principal) Namespaces() []string {
	out := make([]string, 0, len(p.Memberships))
	for _, m := range p.Memberships {
		if m.Team.Namespace != "" {
			out = append(out, m.Team.Namespace)
		}
	}
	return out
}

// ID is the caller's id for /me and logs: the key's UID or the user ID.
func (p *Principal) ID() string {
	if p.Key != nil {
		return string(p.Key.Object.UID)
	}
	return p.UserID
}
