package apiserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/ratelimit"
)

var namedSorts = []string{"created_at", "updated_at", "name"}

// teamManagers are the roles that may change or delete a team.
var teamManagers = []qualv1alpha1.TeamRole{qualv1alpha1.RoleOwner, qualv1alpha1.RoleAdmin}

func teamRow(t *directory.Team, role qualv1alpha1.TeamRole, sortBy string) row[resources.Team] {
	rest := resources.NewTeam(t.Object, role)
	return row[resources.Team]{value: sortValue(sortBy, rest.CreatedAt, rest.UpdatedAt, rest.Name), id: rest.ID, item: rest}
}

// sortValue is an item's value for a created_at, updated_at or name sort.
func sortValue(sortBy string, created, updated time.Time, name string) string {
	switch sortBy {
	case "updated_at":
		return updated.UTC().Format(time.RFC3339Nano)
	case "name":
		return strings.ToLower(name)
	}
	return created.UTC().Format(time.RFC3339Nano)
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	lp, e := s.parseList(r, namedSorts, nil)
	if e != nil {
		return e
	}
	rows := make([]row[resources.Team], 0, len(p.Memberships))
	for _, m := range p.Memberships {
		rows = append(rows, teamRow(m.Team, m.Role, lp.sortBy))
	}
	writeRows(w, s, rows, lp)
	return nil
}

// writeRows writes one page of a small list.
func writeRows[T any](w http.ResponseWriter, s *Server, rows []row[T], lp listParams) {
	items, more, last := pageRows(rows, lp)
	envelope.WriteList(w, items, s.pagination(lp, more, len(rows), last.value, last.id))
}

// teamNotReady answers a write into a team whose namespace its controller has not claimed
// yet (a team a moment old): a retry shortly after succeeds.
func teamNotReady() *envelope.Error {
	return envelope.New(envelope.CodeUnavailable, "The team's namespace is not ready yet; retry shortly").WithRetry(2 * time.Second)
}

// visibleTeam returns a team the caller is in, else 404.
func (s *Server) visibleTeam(r *http.Request, p *authn.Principal) (directory.Membership, *envelope.Error) {
	if m, ok := p.Team(r.PathValue("id")); ok {
		return m, nil
	}
	return directory.Membership{}, envelope.NotFound("Team")
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	m, e := s.visibleTeam(r, p)
	if e != nil {
		return e
	}
	envelope.WriteData(w, http.StatusOK, resources.NewTeam(m.Team.Object, m.Role))
	return nil
}

type teamBody struct {
	Name decode.Optional[string] `json:"name"`
	Plan decode.Optional[string] `json:"plan"`
}

func (b *teamBody) validate(create bool, p *authn.Principal) *envelope.Error {
	var bad []envelope.FieldError
	switch {
	case create && !b.Name.Set:
		bad = append(bad, envelope.FieldError{Field: "name", Message: "Required"})
	case b.Name.Set && (b.Name.Null || decode.Blank(b.Name.Value)):
		bad = append(bad, envelope.FieldError{Field: "name", Message: "must not be blank"})
	case decode.Reorders(b.Name.Value):
		bad = append(bad, envelope.FieldError{Field: "name", Message: decode.ReordersMessage})
	case utf8.RuneCountInString(b.Name.Value) > 200:
		bad = append(bad, envelope.FieldError{Field: "name", Message: "must be at most 200 characters"})
	}
	if b.Plan.Set && !plansEnum.has(b.Plan.Value) {
		bad = append(bad, envelope.FieldError{Field: "plan", Message: plansEnum.must()})
	}
	if len(bad) > 0 {
		return envelope.Validation(bad...)
	}
	if b.Plan.Set && !p.Admin {
		return envelope.New(envelope.CodeForbidden, "Only platform admins can set a team's plan")
	}
	return nil
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	var body teamBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if e := body.validate(true, p); e != nil {
		return e
	}
	if p.Kind != authn.KindSession || p.Email == "" {
		return envelope.New(envelope.CodeForbidden, "Creating a team needs a user session with an e-mail: its user becomes the owner")
	}
	// A repeat of a creation that died before answering gets the team it made, before the
	// budget is checked: that team was paid for, and counts among the teams owned.
	if m, ok := madeByClaim(r.Context(), p.Memberships, teamObject); ok {
		return answerFound(w, r, http.StatusCreated, resources.NewTeam(m.Team.Object, m.Role))
	}
	plan := qualv1alpha1.PlanStarter
	if body.Plan.Set {
		plan = qualv1alpha1.Plan(body.Plan.Value)
	}
	// One creation at a time, so the count of owned teams below cannot be raced past.
	s.teamCreation.Lock()
	defer s.teamCreation.Unlock()
	if e := s.teamBudget(w, r, p); e != nil {
		return e
	}
	now := s.joinedAt(p.UserID, p.Email)
	team := &qualv1alpha1.Team{
		ObjectMeta: metav1.ObjectMeta{Name: teamName(body.Name.Value)},
		Spec: qualv1alpha1.TeamSpec{DisplayName: strings.TrimSpace(body.Name.Value), Plan: plan,
			Members: []qualv1alpha1.TeamMember{{Email: p.Email, UserID: p.UserID, Role: qualv1alpha1.RoleOwner, AddedAt: &now}}},
	}
	stampClaim(r.Context(), team)
	if err := s.cfg.Client.Create(r.Context(), team, client.FieldOwner(FieldManager)); err != nil {
		return kubeError(err)
	}
	// Answer once the team can take writes; if its controller is slow, the team exists all
	// the same and writes into it say to retry.
	s.awaitUntil(r.Context(), func(d *directory.Directory) bool { return d.Claimed(string(team.UID)) })
	envelope.WriteData(w, http.StatusCreated, resources.NewTeam(team, qualv1alpha1.RoleOwner))
	return nil
}

// teamObject is a membership's Team, for madeByClaim: only the caller's own teams are looked
// at, so a repeat never answers a team it is not in.
func teamObject(m directory.Membership) metav1.Object { return m.Team.Object }

// joinedAt is the addedAt of a user joining a team now. addedAt has whole seconds, and the
// team a user joined first is where their creates land by default, so a second join within
// the same second is stamped a second after the last: the order of joins is never a tie.
func (s *Server) joinedAt(userID, email string) metav1.Time {
	now := s.cfg.Now().UTC().Truncate(time.Second)
	if last := s.dir.LastJoined(userID, email); !last.Before(now) {
		now = last.Add(time.Second)
	}
	return metav1.NewTime(now)
}

// teamBudget refuses a team creation past the user's limits: the teams one user may own
// (403), and the teams one user may create per hour (429, whose rate-limit headers describe
// that budget, as on a 429 of the other hourly budgets).
func (s *Server) teamBudget(w http.ResponseWriter, r *http.Request, p *authn.Principal) *envelope.Error {
	owned := 0
	for _, m := range p.Memberships {
		if m.Role == qualv1alpha1.RoleOwner {
			owned++
		}
	}
	if most := s.cfg.Teams.MaxOwned; owned >= most {
		return envelope.New(envelope.CodeForbidden, "You own %d teams, the most one user may own; delete one or ask a platform admin", most)
	}
	limit := ratelimit.Limit{Quota: s.cfg.Teams.PerHour, Window: time.Hour}
	res, err := s.cfg.Limiter.Allow(r.Context(), "teams:user:"+p.UserID, limit, 1)
	switch {
	case err != nil:
		return envelope.Unavailable("Rate limiting", 5*time.Second)
	case !res.Allowed:
		res.Headers(w.Header(), "teams", limit)
		return envelope.New(envelope.CodeRateLimited, "Team creation budget of %d teams per hour exceeded", limit.Quota).WithRetry(res.RetryAfter)
	}
	return nil
}

// teamName is a Team object's name: the name's slug and a random suffix, short enough for
// the team-<name> namespace.
func teamName(display string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return suffixedName(display, hex.EncodeToString(b[:]))
}

// suffixedName is the name's slug, cut to 40 characters, and the suffix.
func suffixedName(display, suffix string) string {
	base := slugBase(display, "team")
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-")
	}
	return base + "-" + suffix
}

// setsPlanOnly reports whether a PATCH changes the plan and nothing else: the one change a
// platform admin makes in any team, member or not.
func (b *teamBody) setsPlanOnly() bool { return b.Plan.Set && !b.Name.Set }

// platformAdminSession reports whether the caller is a platform admin signed in as a person.
// A key in the operator's namespace is a platform admin's too, but holds no team scope to
// change a team with.
func platformAdminSession(p *authn.Principal) bool {
	return p.Admin && p.Kind == authn.KindSession
}

// managedTeam returns the team in the path when the caller may change it: 404 when they are
// not in it, 403 without the owner or admin role (the membership is returned then).
func (s *Server) managedTeam(r *http.Request, p *authn.Principal) (directory.Membership, *envelope.Error) {
	m, e := s.visibleTeam(r, p)
	if e == nil && !p.HasRole(string(m.Team.Object.UID), teamManagers...) {
		e = envelope.New(envelope.CodeForbidden, "Changing a team needs the owner or admin role")
	}
	return m, e
}

// planTeam is the team a platform admin sets the plan of when they may not otherwise change
// it (not in it, or without a managing role): the plan is theirs to set in every team, and
// it is all they reach there; the answer is the team as GET /admin/teams already shows it to
// them. Any other change, or no plan, is refused as it was (refused).
func (s *Server) planTeam(r *http.Request, m directory.Membership, body *teamBody, refused *envelope.Error) (directory.Membership, *envelope.Error) {
	if !body.setsPlanOnly() {
		return m, refused
	}
	if m.Team != nil {
		return m, nil
	}
	t, ok := s.dir.Team(r.PathValue("id"))
	if !ok {
		return m, refused
	}
	return directory.Membership{Team: t}, nil
}

func (s *Server) patchTeam(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	// Others learn nothing of a team they may not change, not even whether their body is
	// valid; a platform admin's body decides what they may reach, so it is read first.
	m, refused := s.managedTeam(r, p)
	if refused != nil && !platformAdminSession(p) {
		return refused
	}
	var body teamBody
	if e := decode.Object(w, r, &body); e != nil {
		return e
	}
	if refused != nil {
		var e *envelope.Error
		if m, e = s.planTeam(r, m, &body, refused); e != nil {
			return e
		}
	}
	if e := body.validate(false, p); e != nil {
		return e
	}
	// As with campaigns, the apply carries the version it was made from, and a lost race is
	// made again on the newer copy: a rename and a plan change sent at once both land.
	uid := string(m.Team.Object.UID)
	var u *unstructured.Unstructured
	err := s.writeTeam(r.Context(), m.Team.Object, func(team *qualv1alpha1.Team) error {
		spec := map[string]any{"displayName": team.Spec.DisplayName, "plan": string(resources.PlanOf(team))}
		if body.Name.Set {
			spec["displayName"] = strings.TrimSpace(body.Name.Value)
		}
		if body.Plan.Set {
			spec["plan"] = body.Plan.Value
		}
		u = applyObject(team, "Team", spec)
		return s.writer().applyAt(r.Context(), u, team.ResourceVersion)
	})
	if err != nil {
		return kubeError(err)
	}
	t, err := readBack(s, r.Context(), uid, u.GetResourceVersion(),
		func(uid string) (*qualv1alpha1.Team, bool) {
			t, ok := s.dir.Team(uid)
			if !ok {
				return nil, false
			}
			return t.Object, true
		}, func() (*qualv1alpha1.Team, error) { return fromApplied[qualv1alpha1.Team](u) })
	if err != nil {
		return err
	}
	envelope.WriteData(w, http.StatusOK, resources.NewTeam(t, m.Role))
	return nil
}

// teamWriteTries bounds the tries of a write to a Team that keeps losing races: each try
// after the first reads the Team from the API server, so only a write that raced another in
// the meantime loses again, and one racer lands each round. It is enough for a dozen
// changes sent at once (a script removing people in parallel), with jittered pauses that
// spread the racers, under two seconds in all at worst. (No Cap: reaching it would end the
// tries early.)
var teamWriteTries = wait.Backoff{Steps: 16, Duration: 10 * time.Millisecond, Factor: 1.2, Jitter: 1}

// writeTeam makes write on the directory's copy of the team and, each time it loses a race
// (a conflict on the resourceVersion it carries), again on the Team as the API server has it
// now, within teamWriteTries. The cache cannot be waited for instead: under a burst of writes
// it lags them all, and a retry made on it conflicts again, so independent changes made at
// once were refused (409) although each could land. Whatever write decides against the team
// (the last owner, who may touch whom) it decides on the copy it is written over.
func (s *Server) writeTeam(ctx context.Context, cached *qualv1alpha1.Team, write func(*qualv1alpha1.Team) error) error {
	team := cached
	if latest, ok := s.dir.Team(string(cached.UID)); ok {
		team = latest.Object
	}
	tries := 0
	return retry.RetryOnConflict(teamWriteTries, func() error {
		if tries++; tries > 1 {
			now := &qualv1alpha1.Team{}
			if err := s.liveReader().Get(ctx, client.ObjectKeyFromObject(cached), now); err != nil {
				return fmt.Errorf("read the team %s again after a lost race: %w", cached.Name, err)
			}
			if now.UID != cached.UID {
				return apierrors.NewNotFound(qualv1alpha1.GroupVersion.WithResource("teams").GroupResource(), cached.Name)
			}
			team = now
		}
		return write(team)
	})
}

func (s *Server) deleteTeam(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	m, e := s.visibleTeam(r, p)
	if e != nil {
		return e
	}
	// A key acts with its scopes in place of a role, but destroying the team, with every key,
	// campaign and interview in it, is a person's decision: a leaked integration key must not
	// be able to make it.
	if p.Kind == authn.KindAPIKey || !p.HasRole(string(m.Team.Object.UID), teamManagers...) {
		return envelope.New(envelope.CodeForbidden, "Deleting a team needs a session with the owner or admin role")
	}
	if err := s.writer().delete(r.Context(), m.Team.Object); err != nil {
		return err
	}
	s.await(r.Context(), string(m.Team.Object.UID), "")
	envelope.WriteNoContent(w)
	return nil
}
