package authn

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/scopes"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/session"
)

// Authenticator turns a request's bearer token into a Principal.
type Authenticator struct {
	dir        *directory.Directory
	sessions   *session.Verifier
	adminRole  string
	adminUsers map[string]bool
	now        func() time.Time
	usage      *UsageRecorder
	log        logr.Logger
}

// Options configure an Authenticator.
type Options struct {
	Sessions   *session.Verifier // nil: API keys only
	AdminRole  string
	AdminUsers []string
	Now        func() time.Time
	Usage      *UsageRecorder // nil: last_used_at is not recorded
	Log        logr.Logger
}

// New returns an authenticator over a directory.
func New(dir *directory.Directory, o Options) *Authenticator {
	admins := map[string]bool{}
	for _, u := range o.AdminUsers {
		admins[strings.ToLower(u)] = true
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Authenticator{dir: dir, sessions: o.Sessions, adminRole: o.AdminRole, adminUsers: admins,
		now: o.Now, usage: o.Usage, log: o.Log}
}

// Authenticate returns the caller of r, or the one 401 that never says what was wrong.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, *envelope.Error) {
	token, ok := ParseBearer(r.Header.Get("Authorization"))
	if !ok {
		return nil, envelope.Unauthorized()
	}
	if strings.HasPrefix(token, "qual_") {
		return a.apiKey(token)
	}
	return a.session(r.Context(), token)
}

func (a *Authenticator) apiKey(token string) (*Principal, *envelope.Error) {
	if _, err := keys.Parse(token); err != nil {
		return nil, envelope.Unauthorized()
	}
	key, ok := a.dir.KeyByToken(token)
	if !ok || !key.Usable(a.now()) {
		return nil, envelope.Unauthorized()
	}
	team, ok := a.dir.TeamOfNamespace(key.Object.Namespace)
	if !ok {
		return nil, envelope.Unauthorized()
	}
	if a.usage != nil {
		a.usage.Touch(key.Object, a.now())
	}
	p := &Principal{
		Kind: KindAPIKey, Key: key, Scopes: key.Scopes,
		// A key acts for its owner: it is an admin's key if its owner is a listed admin.
		Admin: key.Object.Spec.Owner != "" && a.adminUsers[strings.ToLower(key.Object.Spec.Owner)],
	}
	p.one[0] = directory.Membership{Team: team}
	p.Memberships = p.one[:]
	return p, nil
}

func (a *Authenticator) session(ctx context.Context, token string) (*Principal, *envelope.Error) {
	if a.sessions == nil {
		return nil, envelope.Unauthorized()
	}
	claims, err := a.sessions.Verify(ctx, token)
	if err != nil {
		a.log.V(1).Info("session token refused", "reason", err.Error())
		return nil, envelope.Unauthorized()
	}
	return &Principal{
		Kind: KindSession, UserID: claims.Subject, Email: claims.Email, Scopes: scopes.All,
		Memberships: a.dir.MembershipsOf(claims.Subject, claims.Email),
		Admin: (a.adminRole != "" && claims.HasRole(a.adminRole)) ||
			a.adminUsers[strings.ToLower(claims.Subject)] || (claims.Email != "" && a.adminUsers[strings.ToLower(claims.Email)]),
	}, nil
}
