package authn

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
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
	binder     Binder
	adminNS    string
	log        logr.Logger
}

// Binder binds a team's member entry, matched by e-mail, to the user ID of the session that
// matched it. It reports false when the entry can no longer be this user's (another user
// bound it first).
type Binder interface {
	BindMember(ctx context.Context, team *directory.Team, email, userID string) (bool, error)
}

// Options configure an Authenticator.
type Options struct {
	Sessions   *session.Verifier // nil: API keys only
	AdminRole  string
	AdminUsers []string
	Now        func() time.Time
	Usage      *UsageRecorder // nil: last_used_at is not recorded
	// Binder binds member entries matched by e-mail to the session's user ID; nil trusts an
	// e-mail match without binding (tests of the authenticator alone).
	Binder Binder
	// AdminNamespace is the operator's own namespace: a key there belongs to no team and is a
	// platform admin's. Tenants cannot write it (RBAC), and an admission policy keeps the
	// admin:read scope out of every other namespace.
	AdminNamespace string
	Log            logr.Logger
}

// New returns an authenticator over a directory.
func New(dir *directory.Directory, o Options) *Authenticator {
	admins := map[string]bool{}
	for _, u := range o.AdminUsers {
		admins[qualv1alpha1.EmailKey(u)] = true
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Authenticator{dir: dir, sessions: o.Sessions, adminRole: o.AdminRole, adminUsers: admins,
		now: o.Now, usage: o.Usage, binder: o.Binder, adminNS: o.AdminNamespace, log: o.Log}
}

// Authenticate returns the caller of r, or the one 401 that never says what was wrong.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, *envelope.Error) {
	// Two Authorization headers are refused, not read first-wins: a proxy that checks the
	// other one would disagree with this server about who is calling.
	auth := r.Header.Values("Authorization")
	if len(auth) > 1 {
		return nil, envelope.Unauthorized()
	}
	token, ok := ParseBearer(r.Header.Get("Authorization"))
	if !ok {
		return nil, envelope.Unauthorized()
	}
	if strings.HasPrefix(token, "qual_") {
		return a.apiKey(r.Context(), token)
	}
	return a.session(r.Context(), token)
}

// apiKey authenticates a key that the directory finds for token, that first held its
// credential (an APIKey re-created naming a deleted key's hash never does) and is neither
// revoked nor expired.
func (a *Authenticator) apiKey(ctx context.Context, token string) (*Principal, *envelope.Error) {
	if _, err := keys.Parse(token); err != nil {
		return nil, envelope.Unauthorized()
	}
	key, ok, err := a.dir.KeyForToken(ctx, token)
	if err != nil {
		a.log.Info("dependency unavailable", "error", err.Error())
		return nil, envelope.Unavailable("The database", 5*time.Second)
	}
	if !ok || !key.Usable(a.now()) {
		return nil, envelope.Unauthorized()
	}
	// Platform-admin power comes only from where a key lives, never from a field of it.
	p := &Principal{Kind: KindAPIKey, Key: key, Scopes: key.Scopes, Admin: a.adminNS != "" && key.Object.Namespace == a.adminNS}
	if !p.Admin {
		team, ok := a.dir.TeamOfNamespace(key.Object.Namespace)
		if !ok {
			return nil, envelope.Unauthorized()
		}
		p.one[0] = directory.Membership{Team: team}
		p.Memberships = p.one[:]
	}
	if a.usage != nil {
		a.usage.Touch(key.Object, a.now())
	}
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
	if !usableSubject(claims.Subject) {
		// A subject no team could bind (its schema would refuse it) would fail every bind and
		// every team creation, forever: the identity itself is unusable here.
		a.log.V(1).Info("session token refused", "reason", "subject cannot be a member user ID")
		return nil, envelope.Unauthorized()
	}
	memberships, err := a.bind(ctx, a.dir.MembershipsOf(claims.Subject, claims.Email), claims.Subject, claims.Email)
	if err != nil {
		a.log.Error(err, "bind member entries to a session user", "user", claims.Subject)
		return nil, envelope.Unavailable("The Kubernetes API", 5*time.Second)
	}
	return &Principal{
		Kind: KindSession, UserID: claims.Subject, Email: claims.Email, Scopes: scopes.All,
		Memberships: memberships,
		Admin: (a.adminRole != "" && claims.HasRole(a.adminRole)) ||
			a.adminUsers[qualv1alpha1.EmailKey(claims.Subject)] || (claims.Email != "" && a.adminUsers[qualv1alpha1.EmailKey(claims.Email)]),
	}, nil
}

// bind binds every membership matched by e-mail alone to the session's user ID before it is
// trusted: the first user to sign in with an e-mail takes the entry, and a later token that
// carries the same e-mail but another subject matches nothing. Memberships another user
// took first are dropped.
func (a *Authenticator) bind(ctx context.Context, ms []directory.Membership, userID, email string) ([]directory.Membership, error) {
	if a.binder == nil || userID == "" {
		return ms, nil
	}
	out := ms[:0]
	for _, m := range ms {
		if m.Unbound {
			ok, err := a.binder.BindMember(ctx, m.Team, email, userID)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			m.Unbound = false
		}
		out = append(out, m)
	}
	return out, nil
}

// usableSubject says a session subject can be a Team member's user ID under the Team schema:
// at most 128 bytes, no control character, and no Kubernetes identity (system:...).
func usableSubject(sub string) bool {
	return len(sub) <= maxSubject && !strings.HasPrefix(sub, "system:") &&
		!strings.ContainsFunc(sub, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) })
}

// maxSubject is the Team schema's bound on a member's user ID, in bytes.
const maxSubject = 128
