package directory

import (
	"cmp"
	"slices"
	"strings"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Team is a Team object as the directory holds it. Treat it as read-only.
type Team struct {
	Object    *qualv1alpha1.Team
	Namespace string
	// RequestsKey names the team's per-minute request budget, built once, not per request.
	RequestsKey string
}

// namespaceOf is the namespace a team owns: the one the controller claimed, else the one it
// will claim.
func namespaceOf(t *qualv1alpha1.Team) string {
	switch {
	case t.Status.Namespace != "":
		return t.Status.Namespace
	case t.Spec.Namespace != "":
		return t.Spec.Namespace
	}
	return "team-" + t.Name
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
	if old, ok := d.teams[string(t.UID)]; ok {
		delete(d.teamByNS, old.Namespace)
		d.indexMembers(old, false)
	}
	team := &Team{Object: t, Namespace: namespaceOf(t), RequestsKey: "requests:" + string(t.UID)}
	d.teams[string(t.UID)] = team
	d.teamByNS[team.Namespace] = team
	d.indexMembers(team, true)
	d.rerenderNamespace(team.Namespace)
	d.notify()
}

func (d *Directory) onTeamDelete(obj any) {
	t, ok := obj.(*qualv1alpha1.Team)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.teams[string(t.UID)]; ok {
		delete(d.teamByNS, old.Namespace)
		d.indexMembers(old, false)
		delete(d.teams, string(t.UID))
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
				out = append(out, Membership{Team: t, Role: m.Role})
			}
		}
	}
	sortMemberships(out, userID, email)
	return out
}

// identities are the member-index keys of a user.
func identities(userID, email string) []string {
	var ids []string
	if userID != "" {
		ids = append(ids, "user:"+userID)
	}
	if email != "" {
		ids = append(ids, "email:"+strings.ToLower(email))
	}
	return ids
}

// memberOf finds the user among a team's members.
func memberOf(t *Team, userID, email string) (qualv1alpha1.TeamMember, bool) {
	for _, m := range t.Object.Spec.Members {
		if (userID != "" && m.UserID == userID) || (email != "" && strings.EqualFold(m.Email, email)) {
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
		for _, mem := range m.Team.Object.Spec.Members {
			if ((userID != "" && mem.UserID == userID) || (email != "" && strings.EqualFold(mem.Email, email))) && mem.AddedAt != nil {
				return mem.AddedAt.UnixNano()
			}
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
