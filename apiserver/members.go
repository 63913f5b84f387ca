package apiserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/keys"
)

var memberSorts = []string{"created_at", "name"}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	m, e := s.visibleTeam(r, p)
	if e != nil {
		return e
	}
	lp, e := s.parseList(r, memberSorts, map[string]string{"team": string(m.Team.Object.UID)})
	if e != nil {
		return e
	}
	rows := make([]row[resources.Member], 0, len(m.Team.Object.Spec.Members))
	for _, mem := range m.Team.Object.Spec.Members {
		added := m.Team.Object.CreationTimestamp.Time
		if mem.AddedAt != nil {
			added = mem.AddedAt.Time
		}
		rows = append(rows, row[resources.Member]{value: sortValue(lp.sortBy, added, added, mem.Email), id: mem.Email, item: resources.NewMember(mem)})
	}
	writeRows(w, s, rows, lp)
	return nil
}

type memberBody struct {
	Email decode.Optional[string] `json:"email"`
	Role  decode.Optional[string] `json:"role"`
}

func (b *memberBody) validate(create bool) *envelope.Error {
	var bad []envelope.FieldError
	if create && (!b.Email.Set || !isEmail(b.Email.Value)) {
		bad = append(bad, envelope.FieldError{Field: "email", Message: "must be an e-mail address"})
	}
	if !create && b.Email.Set {
		bad = append(bad, envelope.FieldError{Field: "email", Message: "cannot be changed"})
	}
	if (!create && !b.Role.Set) || (b.Role.Set && !rolesEnum.has(b.Role.Value)) {
		bad = append(bad, envelope.FieldError{Field: "role", Message: rolesEnum.must()})
	}
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	return nil
}

// manageMembers checks the caller may change a team's members.
func (s *Server) manageMembers(r *http.Request, p *authn.Principal) (directory.Membership, *envelope.Error) {
	m, e := s.visibleTeam(r, p)
	if e != nil {
		return m, e
	}
	if !p.HasRole(string(m.Team.Object.UID), teamManagers...) {
		return m, envelope.New(envelope.CodeForbidden, "Managing members needs the owner or admin role")
	}
	return m, nil
}

// mayTouch reports whether the caller may make, change or remove a member of role: an owner
// only as a person who owns the team, an admin only as a person who owns or administers it.
// A key, whatever its scopes, touches neither: a teams:write key making its holder an admin
// would hand a person every scope, and the power to delete the team, in one request.
func mayTouch(p *authn.Principal, teamUID string, role qualv1alpha1.TeamRole) bool {
	switch role {
	case qualv1alpha1.RoleOwner:
		return p.Kind == authn.KindSession && p.HasRole(teamUID, qualv1alpha1.RoleOwner)
	case qualv1alpha1.RoleAdmin:
		return p.Kind == authn.KindSession && p.HasRole(teamUID, teamManagers...)
	}
	return true
}

// stillManages checks, against the member list a change is about to be written over, that a
// session caller is still an owner or admin there and may touch role (mayTouch read the
// caller's role from the cache, which a concurrent change may have made stale: an owner
// removed a moment ago must not still remove others). A key's power ends with its revocation.
func stillManages(p *authn.Principal, ms []qualv1alpha1.TeamMember, role qualv1alpha1.TeamRole) *envelope.Error {
	if p.Kind != authn.KindSession {
		return nil
	}
	me, ok := directory.MemberIn(ms, p.UserID, p.Email)
	switch {
	case !ok:
		return envelope.NotFound("Team")
	case !slices.Contains(teamManagers, me.Role):
		return envelope.New(envelope.CodeForbidden, "Managing members needs the owner or admin role")
	case role == qualv1alpha1.RoleOwner && me.Role != qualv1alpha1.RoleOwner:
		return refuseTouch(role)
	}
	return nil
}

// refuseTouch is the refusal of mayTouch for role.
func refuseTouch(role qualv1alpha1.TeamRole) *envelope.Error {
	if role == qualv1alpha1.RoleOwner {
		return envelope.New(envelope.CodeForbidden, "Only an owner of the team can make, change or remove an owner")
	}
	return envelope.New(envelope.CodeForbidden, "Only a person with the owner or admin role can make, change or remove an admin; a key cannot")
}

// maxMembers is the most members a team has (the Team CRD's spec.members bound).
const maxMembers = 100

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	m, e := s.manageMembers(r, p)
	if e != nil {
		return e
	}
	var body memberBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := body.validate(true); e != nil {
		return e
	}
	role := qualv1alpha1.RoleMember
	if body.Role.Set {
		role = qualv1alpha1.TeamRole(body.Role.Value)
	}
	if !mayTouch(p, string(m.Team.Object.UID), role) {
		return refuseTouch(role)
	}
	email := qualv1alpha1.EmailKey(strings.TrimSpace(body.Email.Value))
	// A repeat of an add that landed before its server died is answered with the member it
	// added, not with a conflict with itself.
	if mem, ok := memberAddedByClaim(r.Context(), m.Team.Object, email, role); ok {
		return answerFound(w, r, http.StatusCreated, resources.NewMember(mem))
	}
	now := s.joinedAt("", email)
	team, err := s.updateMembers(r.Context(), m.Team, func(ms []qualv1alpha1.TeamMember) ([]qualv1alpha1.TeamMember, error) {
		if e := stillManages(p, ms, role); e != nil {
			return nil, e
		}
		if memberIndex(ms, email) >= 0 {
			return nil, envelope.New(envelope.CodeConflict, "%s is already a member", email)
		}
		if len(ms) >= maxMembers {
			return nil, envelope.New(envelope.CodeConflict, "The team has %d members, the most a team can have", maxMembers)
		}
		return append(ms, qualv1alpha1.TeamMember{Email: email, Role: role, AddedAt: &now}), nil
	})
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusCreated, resources.NewMember(team.Spec.Members[memberIndex(team.Spec.Members, email)]))
	return nil
}

func (s *Server) patchMember(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	m, e := s.manageMembers(r, p) // who may, before what is asked
	if e != nil {
		return e
	}
	var body memberBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := body.validate(false); e != nil {
		return e
	}
	role := qualv1alpha1.TeamRole(body.Role.Value)
	return s.changeMember(w, r, p, m, http.StatusOK, func(ms []qualv1alpha1.TeamMember, i int, may func(qualv1alpha1.TeamRole) *envelope.Error) ([]qualv1alpha1.TeamMember, error) {
		for _, touched := range []qualv1alpha1.TeamRole{ms[i].Role, role} {
			if e := may(touched); e != nil {
				return nil, e
			}
		}
		ms[i].Role = role
		return ms, nil
	})
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	m, e := s.manageMembers(r, p)
	if e != nil {
		return e
	}
	return s.changeMember(w, r, p, m, http.StatusNoContent, func(ms []qualv1alpha1.TeamMember, i int, may func(qualv1alpha1.TeamRole) *envelope.Error) ([]qualv1alpha1.TeamMember, error) {
		if e := may(ms[i].Role); e != nil {
			return nil, e
		}
		return slices.Delete(ms, i, i+1), nil
	})
}

// memberChange changes the member at i; may refuses a role the caller may not touch.
type memberChange func(ms []qualv1alpha1.TeamMember, i int, may func(qualv1alpha1.TeamRole) *envelope.Error) ([]qualv1alpha1.TeamMember, error)

// changeMember applies change to the member named in the path of m's team (manageMembers
// allowed the caller), keeping at least one owner, and answers with the member (or 204).
// Once the change has landed it revokes the keys a manager it removed or demoted leaves
// behind (revokeLeftBehind); a change refused, on the cached list or on the one it would be
// written over, revokes nothing.
func (s *Server) changeMember(w http.ResponseWriter, r *http.Request, p *authn.Principal, m directory.Membership, status int, change memberChange) error {
	who := r.PathValue("user_id")
	var was qualv1alpha1.TeamMember // the member as the list the change was written over had them
	team, err := s.updateMembers(r.Context(), m.Team, func(ms []qualv1alpha1.TeamMember) ([]qualv1alpha1.TeamMember, error) {
		may := func(role qualv1alpha1.TeamRole) *envelope.Error {
			if !mayTouch(p, string(m.Team.Object.UID), role) {
				return refuseTouch(role)
			}
			return stillManages(p, ms, role)
		}
		if e := stillManages(p, ms, ""); e != nil {
			return nil, e
		}
		i := memberIndex(ms, who)
		if i < 0 {
			return nil, envelope.NotFound("Member")
		}
		was = ms[i]
		ms, err := change(ms, i, may)
		if err != nil {
			return nil, err
		}
		return ms, lastOwnerCheck(ms)
	})
	if err != nil {
		return err
	}
	s.revokeLeftBehind(r, m.Team.Namespace, was, team.Spec.Members)
	if status == http.StatusNoContent {
		envelope.WriteNoContent(w)
		return nil
	}
	envelope.WriteData(w, status, resources.NewMember(team.Spec.Members[memberIndex(team.Spec.Members, who)]))
	return nil
}

// revokeLeftBehind revokes the keys a member who managed the team (was, as the written-over
// list had them) leaves behind when the list now written (ms) no longer makes them an owner
// or admin (keys.Departed: those that act for them, those they made with kubectl, and those
// these minted): a key must not keep, for someone who left, the power to mint keys and re-add
// them. It runs only after the change landed, so a change that was refused (two managers
// removing each other at once: the loser's write conflicts and is decided again on the
// winner's list) never revokes the keys of someone who stays. It answers before the caller
// does, so the next request with such a key is refused; should it fail, or the process stop
// between the write and it, the Team controller revokes the same keys when it sees the
// manager gone from status.observedManagers. The change is answered as made either way.
func (s *Server) revokeLeftBehind(r *http.Request, namespace string, was qualv1alpha1.TeamMember, ms []qualv1alpha1.TeamMember) {
	if !slices.Contains(teamManagers, was.Role) || stillManager(ms, was.Email) {
		return
	}
	gone := sets.New(keys.Identity(was.Email))
	if was.UserID != "" {
		gone.Insert(keys.Identity(was.UserID))
	}
	inTeam := s.dir.KeysIn(namespace)
	objs := make([]*qualv1alpha1.APIKey, len(inTeam))
	byUID := make(map[types.UID]*directory.Key, len(inTeam))
	for j, k := range inTeam {
		objs[j], byUID[k.Object.UID] = k.Object, k
	}
	// The caller hanging up must not stop the revocation halfway: the change has been made.
	detached := r.WithContext(context.WithoutCancel(r.Context()))
	for _, o := range keys.Departed(objs, gone) {
		if err := s.revoke(detached, byUID[o.UID]); err != nil {
			s.cfg.Logger.Error(err, "revoke a key of a former manager; the Team controller will",
				"namespace", namespace, "key", o.Name)
		}
	}
}

// stillManager reports whether the member with email is an owner or admin in ms.
func stillManager(ms []qualv1alpha1.TeamMember, email string) bool {
	return slices.ContainsFunc(ms, func(m qualv1alpha1.TeamMember) bool {
		return qualv1alpha1.SameEmail(m.Email, email) && slices.Contains(teamManagers, m.Role)
	})
}

// memberIndex finds a member by user ID or e-mail (the path accepts either).
func memberIndex(ms []qualv1alpha1.TeamMember, who string) int {
	return slices.IndexFunc(ms, func(m qualv1alpha1.TeamMember) bool {
		return (m.UserID != "" && m.UserID == who) || qualv1alpha1.SameEmail(m.Email, who)
	})
}

func lastOwnerCheck(ms []qualv1alpha1.TeamMember) error {
	if !keepsAnOwner(ms) {
		return envelope.New(envelope.CodeConflict, "A team must keep at least one owner")
	}
	return nil
}

// errUnchanged from a member mutation means there is nothing to write.
var errUnchanged = errors.New("member list unchanged")

// updateMembers rewrites a team's member list with an optimistic lock. On a lost race it
// runs mutate again on the Team as the API server has it now (writeTeam), so a concurrent
// change is neither lost nor overwritten, and every rule mutate checks (the last owner, who
// may touch whom, a caller removed a moment ago) is checked against the list it writes over.
// Members go through a merge patch rather than apply: removing someone kubectl added must work.
func (s *Server) updateMembers(ctx context.Context, t *directory.Team,
	mutate func([]qualv1alpha1.TeamMember) ([]qualv1alpha1.TeamMember, error)) (*qualv1alpha1.Team, error) {
	var read, written *qualv1alpha1.Team
	err := s.writeTeam(ctx, t.Object, func(base *qualv1alpha1.Team) error {
		read = base
		team := base.DeepCopy()
		members, err := mutate(slices.Clone(team.Spec.Members))
		if err != nil {
			return err
		}
		team.Spec.Members = members
		markAddedByClaim(ctx, base, team)
		patch := client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
		if err := s.cfg.Client.Patch(ctx, team, patch, client.FieldOwner(FieldManager)); err != nil {
			return err
		}
		written = team
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		return read, nil
	case err != nil:
		return nil, kubeError(err)
	}
	s.await(ctx, string(t.Object.UID), written.ResourceVersion)
	return written, nil
}

// BindMember binds the member entry with email, bound to no user yet, to userID: the first
// session to match an entry by e-mail takes it for good. It reports false when another user
// took the entry first.
func (s *Server) BindMember(ctx context.Context, team *directory.Team, email, userID string) (bool, error) {
	// A user ID becomes a Kubernetes user in the team's RoleBindings: one of Kubernetes' own
	// identities (system:anonymous) would hand the team's rights to it. The schema refuses it
	// too; refusing here keeps that a plain "not a member" instead of a failed write.
	if strings.HasPrefix(userID, "system:") {
		return false, nil
	}
	taken := false
	_, err := s.updateMembers(ctx, team, func(ms []qualv1alpha1.TeamMember) ([]qualv1alpha1.TeamMember, error) {
		i := slices.IndexFunc(ms, func(m qualv1alpha1.TeamMember) bool { return qualv1alpha1.SameEmail(m.Email, email) })
		switch {
		case i < 0:
			taken = true
			return nil, errUnchanged
		case ms[i].UserID == userID:
			return nil, errUnchanged
		case ms[i].UserID != "" || slices.ContainsFunc(ms, func(m qualv1alpha1.TeamMember) bool { return m.UserID == userID }):
			taken = true
			return nil, errUnchanged
		}
		ms[i].UserID = userID
		return ms, nil
	})
	if err != nil {
		return false, err
	}
	return !taken, nil
}

// keepsAnOwner says ms still has an owner.
func keepsAnOwner(ms []qualv1alpha1.TeamMember) bool {
	return slices.ContainsFunc(ms, func(m qualv1alpha1.TeamMember) bool { return m.Role == qualv1alpha1.RoleOwner })
}
