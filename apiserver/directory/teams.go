package directory

import (
	"cmp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Team is a Team object as the directory holds it. Treat it as read-only.
type Team struct {
	Object *qualv1alpha1.Team
	// Namespace is the namespace the team owns, once the Team controller has claimed it (its
	// status names it and the namespace carries the team's UID label); empty before then.
	// A namespace a Team merely names in its spec is never trusted: it may be another team's.
	Namespace string
	// RequestsKey names the team's per-minute request budget, built once, not per request.
	RequestsKey string
}

// onNamespace records which team UID a namespace is labelled for. Only the Team controller
// writes that label (tenants cannot write Namespaces), so it is the proof of a claim.
func (d *Directory) onNamespace(obj any) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return
	}
	uid := qualv1alpha1.ServingTeam(ns)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nsOwner[ns.Name] == uid {
		return
	}
	old := d.nsOwner[ns.Name]
	if uid == "" {
		delete(d.nsOwner, ns.Name)
	} else {
		d.nsOwner[ns.Name] = uid
	}
	for _, teamUID := range []string{old, uid} {
		if t, ok := d.teams[teamUID]; ok {
			d.putTeam(t.Object)
		}
	}
	d.notify()
}

func (d *Directory) onNamespaceDelete(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		gone := ns.DeepCopy()
		gone.Labels = nil
		d.onNamespace(gone)
	}
}

func (d *Directory) onTeam(obj any) {
	t, ok := obj.(*qualv1alpha1.Team)
	if !ok {
		return
	}
	if !t.DeletionTimestamp.IsZero() {
		d.onTeamDelete(obj) // on its way out: the API no longer shows it
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.putTeam(t)
	d.notify()
}

// putTeam indexes a team, its members and the namespace it has claimed, replacing what
// was there. Call with d.mu held for writing.
func (d *Directory) putTeam(t *qualv1alpha1.Team) {
	uid := string(t.UID)
	old := d.teams[uid]
	d.unindexTeam(old)
	team := &Team{Object: t, RequestsKey: "requests:" + uid}
	if ns := t.Status.Namespace; ns != "" && d.nsOwner[ns] == uid {
		team.Namespace = ns
		d.teamByNS[ns] = team
	}
	d.teams[uid] = team
	d.indexMembers(team, true)
	if old == nil || old.Namespace != team.Namespace {
		if old != nil {
			d.rerenderNamespace(old.Namespace)
		}
		d.rerenderNamespace(team.Namespace)
	}
}

// unindexTeam removes a team from the namespace and member indexes; a namespace it never
// claimed stays with its owner. Call with d.mu held for writing.
func (d *Directory) unindexTeam(t *Team) {
	if t == nil {
		return
	}
	if t.Namespace != "" && d.teamByNS[t.Namespace] == t {
		delete(d.teamByNS, t.Namespace)
	}
	d.indexMembers(t, false)
}

func (d *Directory) onTeamDelete(obj any) {
	t, ok := obj.(*qualv1alpha1.Team)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.teams[string(t.UID)]; ok {
		d.unindexTeam(old)
		delete(d.teams, string(t.UID))
		d.rerenderNamespace(old.Namespace)
	}
	d.notify()
}

// Team returns a team by UID.
func (d *Directory) Team(uid string) (*Team, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t, ok := d.teams[uid]
	return t, ok
}

// TeamOfNamespace returns the team that owns a namespace.
func (d *Directory) TeamOfNamespace(ns string) (*Team, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t, ok := d.teamByNS[ns]
	return t, ok
}

// Membership is a user's place in one team.
type Membership struct {
	Team *Team
	Role qualv1alpha1.TeamRole
	// Unbound is true when the user matched by e-mail an entry bound to no user ID yet: the
	// caller binds the entry to the user before trusting it again (see memberOf).
	Unbound bool
}

// MembershipsOf returns the teams a user belongs to, matched by user ID or e-mail (in any
// case), oldest membership first (the "team the user joined first" is the default for
// creates). It reads the member index: its cost follows the user's teams, not all teams.
func (d *Directory) MembershipsOf(userID, email string) []Membership {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []Membership
	seen := map[string]bool{}
	for _, identity := range identities(userID, email) {
		for uid := range d.members[identity] {
			if seen[uid] {
				continue
			}
			seen[uid] = true
			t := d.teams[uid]
			if m, ok := memberOf(t, userID, email); ok {
				out = append(out, Membership{Team: t, Role: m.Role, Unbound: m.UserID == ""})
			}
		}
	}
	sortMemberships(out, userID, email)
	return out
}

// LastJoined is when the user last joined a team (zero when never): the latest addedAt of
// their memberships.
func (d *Directory) LastJoined(userID, email string) time.Time {
	var last time.Time
	for _, m := range d.MembershipsOf(userID, email) {
		if mem, ok := memberOf(m.Team, userID, email); ok && mem.AddedAt != nil && mem.AddedAt.After(last) {
			last = mem.AddedAt.Time
		}
	}
	return last
}

// identities are the member-index keys of a user.
func identities(userID, email string) []string {
	var ids []string
	if userID != "" {
		ids = append(ids, "user:"+userID)
	}
	if email != "" {
		ids = append(ids, "email:"+qualv1alpha1.EmailKey(email))
	}
	return ids
}

// memberOf finds the user among a team's members: by user ID, or by e-mail while the entry
// is bound to no user ID or to this one. An e-mail claim alone never takes over an entry
// another user has signed in as.
func memberOf(t *Team, userID, email string) (qualv1alpha1.TeamMember, bool) {
	return MemberIn(t.Object.Spec.Members, userID, email)
}

// MemberIn finds the user in a member list as memberOf does: by user ID, or by e-mail while
// the entry is bound to no user ID or to this one.
func MemberIn(ms []qualv1alpha1.TeamMember, userID, email string) (qualv1alpha1.TeamMember, bool) {
	for _, m := range ms {
		if userID != "" && m.UserID == userID {
			return m, true
		}
	}
	for _, m := range ms {
		if email != "" && qualv1alpha1.SameEmail(m.Email, email) && (m.UserID == "" || m.UserID == userID) {
			return m, true
		}
	}
	return qualv1alpha1.TeamMember{}, false
}

// indexMembers adds (or, with add false, removes) a team's members in the member index.
// Call with d.mu held for writing.
func (d *Directory) indexMembers(t *Team, add bool) {
	for _, m := range t.Object.Spec.Members {
		for _, identity := range identities(m.UserID, m.Email) {
			uid := string(t.Object.UID)
			if !add {
				delete(d.members[identity], uid)
				continue
			}
			if d.members[identity] == nil {
				d.members[identity] = map[string]bool{}
			}
			d.members[identity][uid] = true
		}
	}
}

// AllTeams returns every team, for platform admins.
func (d *Directory) AllTeams() []*Team {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]*Team, 0, len(d.teams))
	for _, t := range d.teams {
		out = append(out, t)
	}
	return out
}

// sortMemberships orders memberships by when the user was added, then by team age.
func sortMemberships(ms []Membership, userID, email string) {
	addedAt := func(m Membership) int64 {
		if mem, ok := memberOf(m.Team, userID, email); ok && mem.AddedAt != nil {
			return mem.AddedAt.UnixNano()
		}
		return m.Team.Object.CreationTimestamp.UnixNano()
	}
	slices.SortStableFunc(ms, func(a, b Membership) int {
		if c := cmp.Compare(addedAt(a), addedAt(b)); c != 0 {
			return c
		}
		return strings.Compare(string(a.Team.Object.UID), string(b.Team.Object.UID))
	})
}

// Counts returns how many teams and keys the directory holds.
func (d *Directory) Counts() (teams, keys int) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.teams), len(d.keyByUID)
}
