package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
)

// escalation is one team with a caller of every kind, and a second team to aim at.
type escalation struct {
	team, other                                          *tenant
	owner, admin, member, viewer, root                   string // session tokens
	secret, narrow, scoped, public, expiring, teamsKey   string // keys of team
	secretID, narrowID, expiringID, campaignID, otherKey string
	ownerMail, adminMail, name                           string
}

// newEscalation builds the fixture of the privilege suite: team "esc" with an owner, an
// admin, a member, a viewer and six keys; a platform admin owning its own team; and a
// second team.
func newEscalation(t *testing.T, name string) *escalation {
	t.Helper()
	e := &escalation{ownerMail: name + "-owner@example.com", adminMail: name + "-admin@example.com", name: name}
	e.team = newTenant(t, name, qualv1alpha1.PlanEnterprise,
		qualv1alpha1.TeamMember{Email: e.adminMail, UserID: "user-" + name + "-admin", Role: qualv1alpha1.RoleAdmin})
	e.other = newTenant(t, name+"-other", qualv1alpha1.PlanEnterprise)
	e.owner, e.secret, e.scoped, e.public = e.team.owner, e.team.secret, e.team.scoped, e.team.public
	e.secretID = keyID(t, e.secret)
	e.admin = sessionToken(t, "user-"+name+"-admin", e.adminMail, time.Hour)
	e.member = sessionToken(t, "user-"+name+"-member", name+"-member@example.com", time.Hour)
	e.viewer = sessionToken(t, "user-"+name+"-viewer", name+"-viewer@example.com", time.Hour)
	e.root = sessionToken(t, "user-root-"+name, "root@platform.example", time.Hour)

	e.narrow, e.narrowID = e.key(t, "narrow", qualv1alpha1.KeySecret, []qualv1alpha1.Scope{"campaigns:read", "teams:read"}, nil)
	soon := metav1.NewTime(time.Now().Add(2 * time.Hour).Truncate(time.Second))
	e.expiring, e.expiringID = e.key(t, "expiring", qualv1alpha1.KeySecret, nil, &soon)
	e.teamsKey, _ = e.key(t, "teams", qualv1alpha1.KeySecret, []qualv1alpha1.Scope{"teams:read", "teams:write"}, nil)
	var otherKey struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/api-keys", e.other.secret, map[string]any{"name": "victim"}).expect(t, 201).data(t, &otherKey)
	e.otherKey = otherKey.ID
	e.campaignID = createCampaign(t, e.secret, map[string]any{"title": "Escalation target"}).ID
	return e
}

// keyID is the id of the key token authenticates as.
func keyID(t *testing.T, token string) string {
	t.Helper()
	var me struct {
		KeyID string `json:"key_id"`
	}
	call(t, "GET", "/api/v1/me", token, nil).expect(t, 200).data(t, &me)
	return me.KeyID
}

// key creates a key in the team's namespace as kubectl would and waits until it authenticates.
func (e *escalation) key(t *testing.T, name string, typ qualv1alpha1.APIKeyType, scopes []qualv1alpha1.Scope, expires *metav1.Time) (token, id string) {
	t.Helper()
	k, err := keys.Mint(typ)
	if err != nil {
		t.Fatal(err)
	}
	obj := &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team-" + e.name},
		Spec: qualv1alpha1.APIKeySpec{Type: typ, Scopes: scopes, ExpiresAt: expires, Owner: e.ownerMail,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: k.HashRef, Prefix: k.Prefix, LastFour: k.LastFour}},
	}
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	waitUsable(t, "key "+name, k.Plaintext)
	return k.Plaintext, string(obj.UID)
}

// TestNoCallerClimbs is the privilege suite: every row is a caller trying to reach a scope,
// a role, a team or a secret it was not given, with the answer it must get. Each row was a
// success before the privilege fixes.
func TestNoCallerClimbs(t *testing.T) {
	e := newEscalation(t, "esc-climb")
	members := "/api/v1/teams/" + e.team.id + "/members"
	in := func(id string) []string { return []string{"X-Qual-Team", id} }
	for _, row := range []struct {
		name, caller, method, path string
		body                       any
		headers                    []string
		status                     int
		code                       string
	}{
		// 1. A key never reaches a key that holds more than it does, or outlives it.
		{"narrow key reads a fuller key", e.narrow, "GET", "/api/v1/api-keys/" + e.secretID, nil, nil, 404, "NOT_FOUND"},
		{"narrow key rotates a fuller key", e.narrow, "POST", "/api/v1/api-keys/" + e.secretID + "/rotate", nil, nil, 404, "NOT_FOUND"},
		{"narrow key revokes a fuller key", e.narrow, "DELETE", "/api/v1/api-keys/" + e.secretID, nil, nil, 404, "NOT_FOUND"},
		{"narrow key mints a fuller key", e.narrow, "POST", "/api/v1/api-keys", map[string]any{"scopes": []string{"campaigns:write"}}, nil, 403, "INSUFFICIENT_SCOPE"},
		{"expiring key reads a key that outlives it", e.expiring, "GET", "/api/v1/api-keys/" + e.secretID, nil, nil, 404, "NOT_FOUND"},
		{"expiring key rotates a key that outlives it", e.expiring, "POST", "/api/v1/api-keys/" + e.secretID + "/rotate", nil, nil, 404, "NOT_FOUND"},
		{"expiring key mints a longer-lived key", e.expiring, "POST", "/api/v1/api-keys", map[string]any{"expires_in_days": 30}, nil, 400, "VALIDATION_ERROR"},
		{"scoped key manages keys", e.scoped, "GET", "/api/v1/api-keys", nil, nil, 403, "FORBIDDEN"},
		{"public key manages keys", e.public, "POST", "/api/v1/api-keys", map[string]any{}, nil, 403, "FORBIDDEN"},
		{"member manages keys", e.member, "POST", "/api/v1/api-keys", map[string]any{}, in(e.team.id), 403, "FORBIDDEN"},
		{"viewer reads a key", e.viewer, "GET", "/api/v1/api-keys/" + e.secretID, nil, nil, 404, "NOT_FOUND"},
		{"team admin mints admin:read", e.admin, "POST", "/api/v1/api-keys", map[string]any{"scopes": []string{"admin:read"}}, nil, 403, "INSUFFICIENT_SCOPE"},
		{"secret key mints admin:read", e.secret, "POST", "/api/v1/api-keys", map[string]any{"scopes": []string{"admin:read"}}, nil, 403, "INSUFFICIENT_SCOPE"},
		{"owner reads another team's key", e.owner, "GET", "/api/v1/api-keys/" + e.otherKey, nil, nil, 404, "NOT_FOUND"},

		// 2. Only an owner makes, changes or removes an owner; a key never does.
		{"admin adds an owner", e.admin, "POST", members, map[string]any{"email": "new-owner@example.com", "role": "owner"}, nil, 403, "FORBIDDEN"},
		{"admin raises itself to owner", e.admin, "PATCH", members + "/" + e.adminMail, map[string]any{"role": "owner"}, nil, 403, "FORBIDDEN"},
		{"admin demotes the owner", e.admin, "PATCH", members + "/" + e.ownerMail, map[string]any{"role": "viewer"}, nil, 403, "FORBIDDEN"},
		{"admin removes the owner", e.admin, "DELETE", members + "/" + e.ownerMail, nil, nil, 403, "FORBIDDEN"},
		{"key adds an owner", e.teamsKey, "POST", members, map[string]any{"email": "key-owner@example.com", "role": "owner"}, nil, 403, "FORBIDDEN"},
		{"key demotes the owner", e.teamsKey, "PATCH", members + "/user-esc-climb-owner", map[string]any{"role": "member"}, nil, 403, "FORBIDDEN"},
		{"key removes the owner", e.teamsKey, "DELETE", members + "/" + e.ownerMail, nil, nil, 403, "FORBIDDEN"},
		{"member raises itself", e.member, "PATCH", members + "/esc-climb-member@example.com", map[string]any{"role": "admin"}, nil, 403, "FORBIDDEN"},
		// An admin holds every scope and may delete the team: a key never makes, changes or
		// removes one, or a teams:write key would hand all of that to whoever it names.
		{"key adds an admin", e.teamsKey, "POST", members, map[string]any{"email": "key-admin@attacker.example", "role": "admin"}, nil, 403, "FORBIDDEN"},
		{"key raises a member to admin", e.teamsKey, "PATCH", members + "/esc-climb-member@example.com", map[string]any{"role": "admin"}, nil, 403, "FORBIDDEN"},
		{"key demotes an admin", e.teamsKey, "PATCH", members + "/" + e.adminMail, map[string]any{"role": "viewer"}, nil, 403, "FORBIDDEN"},
		{"key removes an admin", e.teamsKey, "DELETE", members + "/" + e.adminMail, nil, nil, 403, "FORBIDDEN"},
		{"secret key adds an admin", e.secret, "POST", members, map[string]any{"email": "secret-admin@attacker.example", "role": "admin"}, nil, 403, "FORBIDDEN"},
		{"owner removes the last owner", e.owner, "DELETE", members + "/" + e.ownerMail, nil, nil, 409, "CONFLICT"},

		// 3. Platform-admin power never comes from a team.
		{"team owner reads admin stats", e.owner, "GET", "/api/v1/admin/stats", nil, nil, 403, "FORBIDDEN"},
		{"team key reads admin stats", e.secret, "GET", "/api/v1/admin/stats", nil, nil, 403, "INSUFFICIENT_SCOPE"},

		// 4. Only who may write a campaign spends the operator's chat model on it.
		{"viewer switches a campaign to the llm analyzer", e.viewer, "PATCH", "/api/v1/campaigns/" + e.campaignID,
			map[string]any{"settings": map[string]any{"analyzer": "llm"}}, nil, 403, "FORBIDDEN"},
		{"read-only key switches a campaign to the llm analyzer", e.narrow, "PATCH", "/api/v1/campaigns/" + e.campaignID,
			map[string]any{"settings": map[string]any{"analyzer": "llm"}}, nil, 403, "INSUFFICIENT_SCOPE"},
		{"another team switches a campaign to the llm analyzer", e.other.owner, "PATCH", "/api/v1/campaigns/" + e.campaignID,
			map[string]any{"settings": map[string]any{"analyzer": "llm"}}, nil, 404, "NOT_FOUND"},

		// Contract details a hostile or careless client hits.
		{"publish an active campaign twice", e.secret, "POST", "/api/v1/campaigns/" + e.campaignID + "/publish", nil, nil, 409, "INVALID_STATE"},
		{"malformed team_id filter", e.owner, "GET", "/api/v1/campaigns?team_id=not-a-uuid", nil, nil, 400, "VALIDATION_ERROR"},
		{"malformed team_id body", e.owner, "POST", "/api/v1/campaigns", map[string]any{"title": "x", "team_id": "not-a-uuid"}, nil, 400, "VALIDATION_ERROR"},
		{"malformed X-Qual-Team", e.owner, "GET", "/api/v1/me", nil, []string{"X-Qual-Team", "not-a-uuid"}, 400, "VALIDATION_ERROR"},
		{"X-Qual-Team twice", e.owner, "POST", "/api/v1/campaigns", map[string]any{"title": "Which team"},
			[]string{"X-Qual-Team", e.team.id, "X-Qual-Team", e.other.id}, 400, "VALIDATION_ERROR"},
		{"well-formed id of another team", e.owner, "GET", "/api/v1/campaigns?team_id=" + e.other.id, nil, nil, 404, "NOT_FOUND"},
		{"a filter with a bare percent sign", e.owner, "GET", "/api/v1/campaigns?search=100%", nil, nil, 400, "VALIDATION_ERROR"},
		{"a cursor with a broken escape", e.owner, "GET", "/api/v1/campaigns?cursor=%ZZ", nil, nil, 400, "VALIDATION_ERROR"},
		{"a semicolon between parameters", e.owner, "GET", "/api/v1/campaigns?status=bogus;x=1", nil, nil, 400, "VALIDATION_ERROR"},
		{"another team in X-Qual-Team on usage", e.owner, "GET", "/api/v1/usage", nil, in(e.other.id), 404, "NOT_FOUND"},
		{"another team in X-Qual-Team on the key list", e.owner, "GET", "/api/v1/api-keys", nil, in(e.other.id), 404, "NOT_FOUND"},
		{"another team in X-Qual-Team on webhooks", e.secret, "GET", "/api/v1/webhooks", nil, in(e.other.id), 404, "NOT_FOUND"},
		{"another team in X-Qual-Team on a campaign", e.secret, "GET", "/api/v1/campaigns/" + e.campaignID, nil, in(e.other.id), 404, "NOT_FOUND"},
	} {
		t.Run(row.name, func(t *testing.T) {
			if row.name == "publish an active campaign twice" {
				call(t, "POST", row.path, row.caller, nil) // first publish: 200, or 409 on a rerun
			}
			err := call(t, row.method, row.path, row.caller, row.body, row.headers...).expectError(t, row.status, row.code)
			if row.code == "VALIDATION_ERROR" && len(err.Details) == 0 {
				t.Fatalf("no field named: %+v", err)
			}
		})
	}

	// Nothing above changed the campaign's analyzer.
	var target campaign
	call(t, "GET", "/api/v1/campaigns/"+e.campaignID, e.owner, nil).expect(t, 200).data(t, &target)
	if target.Settings.Analyzer != "builtin" {
		t.Fatalf("the campaign's analyzer is now %q", target.Settings.Analyzer)
	}

	// Nothing above changed the owner.
	var owner struct {
		Role string `json:"role"`
	}
	call(t, "GET", "/api/v1/teams/"+e.team.id, e.owner, nil).expect(t, 200).data(t, &owner)
	if owner.Role != "owner" {
		t.Fatalf("the owner is now %q", owner.Role)
	}
}

// TestKeysNeverHoldMoreThanTheirCreator covers what creation and rotation hand out.
func TestKeysNeverHoldMoreThanTheirCreator(t *testing.T) {
	e := newEscalation(t, "esc-keys")
	var made struct {
		ID        string   `json:"id"`
		Key       *string  `json:"key"`
		Scopes    []string `json:"scopes"`
		ExpiresAt *string  `json:"expires_at"`
		TeamID    *string  `json:"team_id"`
	}
	// A key without an expiry made by an expiring key expires with its maker.
	call(t, "POST", "/api/v1/api-keys", e.expiring, map[string]any{"name": "child"}).expect(t, 201).data(t, &made)
	if made.ExpiresAt == nil {
		t.Fatal("a key made by an expiring key never expires")
	}
	// The narrow key lists only what it could have made.
	list := call(t, "GET", "/api/v1/api-keys?limit=100", e.narrow, nil).expect(t, 200)
	for _, id := range []string{e.secretID, e.expiringID} {
		if strings.Contains(string(list.body), id) {
			t.Fatalf("the narrow key lists key %s", id)
		}
	}
	if !strings.Contains(string(list.body), e.narrowID) {
		t.Fatal("the narrow key does not list itself")
	}
	// The narrow key rotates itself into a key no wider than itself.
	call(t, "POST", "/api/v1/api-keys/"+e.narrowID+"/rotate", e.narrow, nil).expect(t, 200).data(t, &made)
	if strings.Join(made.Scopes, ",") != "campaigns:read,teams:read" {
		t.Fatalf("rotation handed out %v", made.Scopes)
	}

	// A platform admin's session gets admin:read only by listing it, and such a key belongs
	// to no team: it lives in the operator's namespace.
	call(t, "POST", "/api/v1/api-keys", e.root, map[string]any{"name": "root default"}, "X-Qual-Team", e.rootTeam(t)).
		expect(t, 201).data(t, &made)
	if strings.Contains(strings.Join(made.Scopes, ","), "admin:read") {
		t.Fatalf("a platform admin's default key holds admin:read: %v", made.Scopes)
	}
	call(t, "POST", "/api/v1/api-keys", e.root, map[string]any{"name": "root admin", "scopes": []string{"admin:read"}}).
		expect(t, 201).data(t, &made)
	if made.TeamID != nil {
		t.Fatalf("a platform admin's key belongs to team %s", *made.TeamID)
	}
	obj := &qualv1alpha1.APIKey{}
	waitFor(t, "admin key object", func() error {
		var l qualv1alpha1.APIKeyList
		if err := k8s.List(context.Background(), &l, client.InNamespace("qual-system")); err != nil {
			return err
		}
		for i := range l.Items {
			if string(l.Items[i].UID) == made.ID {
				obj = &l.Items[i]
				return nil
			}
		}
		return fmt.Errorf("key %s not in qual-system", made.ID)
	})
	if obj.Spec.Owner != "root@platform.example" {
		t.Fatalf("owner %q", obj.Spec.Owner)
	}
	call(t, "GET", "/api/v1/admin/stats", *made.Key, nil).expect(t, 200)
	// The admin key acts in no team.
	var me struct {
		TeamID *string `json:"team_id"`
		Teams  []any   `json:"teams"`
	}
	call(t, "GET", "/api/v1/me", *made.Key, nil).expect(t, 200).data(t, &me)
	if me.TeamID != nil || len(me.Teams) != 0 {
		t.Fatalf("a platform admin's key acts in a team: %+v", me)
	}
}

// rootTeam makes the platform admin the owner of a team of its own and returns its id.
func (e *escalation) rootTeam(t *testing.T) string {
	t.Helper()
	var team struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/teams", e.root, map[string]any{"name": "Root's team"}).expect(t, 201).data(t, &team)
	return team.ID
}

// TestAKeyOwnerFieldGrantsNothing: a key in a team namespace naming a platform admin as its
// owner is an ordinary team key.
func TestAKeyOwnerFieldGrantsNothing(t *testing.T) {
	tn := newTenant(t, "owner-field", qualv1alpha1.PlanEnterprise)
	k, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	obj := &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: "impostor", Namespace: "team-owner-field"},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Owner: "root@platform.example",
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: k.HashRef, Prefix: k.Prefix, LastFour: k.LastFour}},
	}
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	waitUsable(t, "impostor key", k.Plaintext)
	// It cannot mint admin:read, nor reach the admin routes, nor list other teams.
	call(t, "POST", "/api/v1/api-keys", k.Plaintext, map[string]any{"scopes": []string{"admin:read"}}).expectError(t, 403, "INSUFFICIENT_SCOPE")
	call(t, "GET", "/api/v1/admin/teams", k.Plaintext, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
	var me struct {
		TeamID string `json:"team_id"`
	}
	call(t, "GET", "/api/v1/me", k.Plaintext, nil).expect(t, 200).data(t, &me)
	if me.TeamID != tn.id {
		t.Fatalf("acts in %s", me.TeamID)
	}
}

// TestATeamNamingAnotherTeamsNamespaceSeesNothing: a Team whose spec names a namespace
// another team owns is never trusted with it, and the owner of that namespace keeps working
// while the impostor exists and after it is deleted.
func TestATeamNamingAnotherTeamsNamespaceSeesNothing(t *testing.T) {
	ctx := context.Background()
	victim := newTenant(t, "ns-victim", qualv1alpha1.PlanEnterprise)
	c := createCampaign(t, victim.secret, map[string]any{"title": "Victim's study"})
	impostor := &qualv1alpha1.Team{
		ObjectMeta: metav1.ObjectMeta{Name: "ns-impostor"},
		Spec: qualv1alpha1.TeamSpec{DisplayName: "Impostor", Namespace: "team-ns-victim", Members: []qualv1alpha1.TeamMember{
			{Email: "thief@example.com", UserID: "user-thief", Role: qualv1alpha1.RoleOwner},
		}},
	}
	if err := k8s.Create(ctx, impostor); err != nil {
		t.Fatal(err)
	}
	thief := sessionToken(t, "user-thief", "thief@example.com", time.Hour)
	victimWorks := func(when string) {
		t.Helper()
		var me struct {
			TeamID string `json:"team_id"`
		}
		call(t, "GET", "/api/v1/me", victim.secret, nil).expect(t, 200).data(t, &me)
		if me.TeamID != victim.id {
			t.Fatalf("%s: the victim's key acts in %s", when, me.TeamID)
		}
		call(t, "GET", "/api/v1/campaigns/"+c.ID, victim.secret, nil).expect(t, 200)
		if p := listPage(t, victim.owner, ""); p.Pagination.TotalCount != 1 {
			t.Fatalf("%s: the victim lists %d campaigns", when, p.Pagination.TotalCount)
		}
	}
	waitFor(t, "the impostor team is visible to its owner", func() error {
		if r := call(t, "GET", "/api/v1/teams/"+string(impostor.UID), thief, nil); r.status != 200 {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})
	victimWorks("while the impostor exists")
	call(t, "GET", "/api/v1/campaigns/"+c.ID, thief, nil).expectError(t, 404, "NOT_FOUND")
	if p := listPage(t, thief, ""); p.Pagination.TotalCount != 0 {
		t.Fatalf("the impostor lists %d campaigns", p.Pagination.TotalCount)
	}
	if r := call(t, "GET", "/api/v1/api-keys", thief, nil).expect(t, 200); strings.Contains(string(r.body), "team-ns-victim") || strings.Count(string(r.body), `"id"`) != 0 {
		t.Fatalf("the impostor lists keys: %s", r.body)
	}
	call(t, "POST", "/api/v1/campaigns", thief, map[string]any{"title": "planted"}).expectError(t, 503, "SERVICE_UNAVAILABLE")

	if err := k8s.Delete(ctx, impostor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the impostor is gone", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(impostor), &qualv1alpha1.Team{}); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	victimWorks("after the impostor is deleted")
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "team-ns-victim"}, ns); err != nil || !ns.DeletionTimestamp.IsZero() {
		t.Fatalf("the victim's namespace: %v %v", err, ns.DeletionTimestamp)
	}
}

// TestRequestsAreChargedToTheTeamTheyActIn: X-Qual-Team cannot move a request's cost to
// another team, and team creation is bounded per user.
func TestRequestsAreChargedToTheTeamTheyActIn(t *testing.T) {
	small := newTenant(t, "charge-small", qualv1alpha1.PlanStarter)
	big := newTenant(t, "charge-big", qualv1alpha1.PlanEnterprise)
	// The small team's owner is also in the big team.
	addMember(t, big, small.ownerMail, "user-charge-small-owner", qualv1alpha1.RoleMember)
	c := createCampaign(t, small.secret, map[string]any{"title": "Small team's"})
	waitFor(t, "membership in the big team", func() error {
		if r := call(t, "GET", "/api/v1/teams/"+big.id, small.owner, nil); r.status != 200 {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})
	for _, req := range []struct{ method, path string }{
		{"GET", "/api/v1/campaigns/" + c.ID},
		{"PATCH", "/api/v1/campaigns/" + c.ID},
		{"GET", "/api/v1/teams/" + small.id + "/members"},
	} {
		var body any
		if req.method == "PATCH" {
			body = map[string]any{"description": "charged right"}
		}
		r := call(t, req.method, req.path, small.owner, body, "X-Qual-Team", big.id)
		if r.status >= 300 || r.header.Get("X-RateLimit-Limit") != "30" {
			t.Fatalf("%s %s with X-Qual-Team of the big team: %d, limit %q (want the small team's 30)",
				req.method, req.path, r.status, r.header.Get("X-RateLimit-Limit"))
		}
	}
	// A list narrowed to a team, or to one of its campaigns, acts in that team.
	bigCampaign := createCampaign(t, big.secret, map[string]any{"title": "Big team's"})
	for _, path := range []string{"/api/v1/campaigns?team_id=" + big.id, "/api/v1/interviews?team_id=" + big.id,
		"/api/v1/findings?campaign_id=" + bigCampaign.ID} {
		if r := call(t, "GET", path, small.owner, nil).expect(t, 200); r.header.Get("X-RateLimit-Limit") != "300" {
			t.Fatalf("GET %s was charged to limit %s, not the big team's 300", path, r.header.Get("X-RateLimit-Limit"))
		}
	}
	r := call(t, "POST", "/api/v1/campaigns", small.owner, map[string]any{"title": "into small", "team_id": small.id}, "X-Qual-Team", big.id).expect(t, 201)
	if r.header.Get("X-RateLimit-Limit") != "30" {
		t.Fatalf("a create into the small team was charged to limit %s", r.header.Get("X-RateLimit-Limit"))
	}
	// A list across every team of the caller reads the small team's rows too, so it is charged
	// to each team: once the small team's budget is spent, naming the big team does not let
	// the small team's rows be read on the big team's budget.
	for i := 0; call(t, "GET", "/api/v1/campaigns/"+c.ID, small.secret, nil).status != 429; i++ {
		if i > 100 {
			t.Fatal("the small team's budget was never spent")
		}
	}
	for _, path := range []string{"/api/v1/campaigns", "/api/v1/interviews", "/api/v1/findings"} {
		e := call(t, "GET", path, small.owner, nil, "X-Qual-Team", big.id).expectError(t, 429, "RATE_LIMITED")
		if !strings.Contains(e.Message, "30 requests") {
			t.Fatalf("GET %s across teams: %s", path, e.Message)
		}
	}
	call(t, "GET", "/api/v1/campaigns?team_id="+big.id, small.owner, nil).expect(t, 200)

	// Team creation: at most DefaultTeamsPerHour per user, then 429.
	founder := sessionToken(t, "user-founder", "founder@example.com", time.Hour)
	for i := range 5 {
		call(t, "POST", "/api/v1/teams", founder, map[string]any{"name": fmt.Sprintf("Founded %d", i)}).expect(t, 201)
	}
	over := call(t, "POST", "/api/v1/teams", founder, map[string]any{"name": "One too many"})
	over.expectError(t, 429, "RATE_LIMITED")
	// Its rate-limit headers describe the budget that refused it, not the per-minute one.
	if h := over.header; h.Get("X-RateLimit-Limit") != "5" || h.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("headers of the team-creation 429: %v", h)
	}
}

// TestTeamOwnershipIsBounded: a user who owns the most teams allowed cannot create another.
func TestTeamOwnershipIsBounded(t *testing.T) {
	ctx := context.Background()
	for i := range 10 {
		team := &qualv1alpha1.Team{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("hoard-%d", i)},
			Spec: qualv1alpha1.TeamSpec{DisplayName: "Hoard", Members: []qualv1alpha1.TeamMember{
				{Email: "hoarder@example.com", UserID: "user-hoarder", Role: qualv1alpha1.RoleOwner},
			}},
		}
		if err := k8s.Create(ctx, team); err != nil {
			t.Fatal(err)
		}
	}
	hoarder := sessionToken(t, "user-hoarder", "hoarder@example.com", time.Hour)
	waitFor(t, "ten teams", func() error {
		var me struct {
			Teams []any `json:"teams"`
		}
		call(t, "GET", "/api/v1/me", hoarder, nil).expect(t, 200).data(t, &me)
		if len(me.Teams) != 10 {
			return fmt.Errorf("%d teams", len(me.Teams))
		}
		return nil
	})
	e := call(t, "POST", "/api/v1/teams", hoarder, map[string]any{"name": "Eleventh"}).expectError(t, 403, "FORBIDDEN")
	if !strings.Contains(e.Message, "10") {
		t.Fatalf("the refusal does not say the limit: %s", e.Message)
	}
}

func addMember(t *testing.T, tn *tenant, email, userID string, role qualv1alpha1.TeamRole) {
	t.Helper()
	team := &qualv1alpha1.Team{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: tn.team.Name}, team); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(team.DeepCopy())
	team.Spec.Members = append(team.Spec.Members, qualv1alpha1.TeamMember{Email: email, UserID: userID, Role: role})
	if err := k8s.Patch(context.Background(), team, patch); err != nil {
		t.Fatal(err)
	}
}

// TestIdempotencyNeverStoresAKey: a replayed key creation answers without the plaintext,
// the record holds none, and the fingerprint covers the acting team.
func TestIdempotencyNeverStoresAKey(t *testing.T) {
	e := newEscalation(t, "esc-idem")
	body := map[string]any{"name": "once"}
	var first, again struct {
		ID  string  `json:"id"`
		Key *string `json:"key"`
	}
	call(t, "POST", "/api/v1/api-keys", e.owner, body, "Idempotency-Key", "key-once").expect(t, 201).data(t, &first)
	r := call(t, "POST", "/api/v1/api-keys", e.owner, body, "Idempotency-Key", "key-once").expect(t, 201)
	r.data(t, &again)
	if first.Key == nil || again.Key != nil || again.ID != first.ID || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: first %+v, again %+v", first, again)
	}
	rec, err := db.Team(store.TeamID("caller:user-esc-idem-owner")).GetIdempotency(context.Background(), "key-once")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rec.Body), *first.Key) {
		t.Fatalf("the idempotency record holds the key: %s", rec.Body)
	}
	var stored map[string]map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body, &stored); err != nil || string(stored["data"]["key"]) != "null" {
		t.Fatalf("record %s (%v)", rec.Body, err)
	}

	// The same key and body acting in another team is another request.
	addMember(t, e.other, e.ownerMail, "user-esc-idem-owner", qualv1alpha1.RoleAdmin)
	waitFor(t, "membership in the other team", func() error {
		if r := call(t, "GET", "/api/v1/teams/"+e.other.id, e.owner, nil); r.status != 200 {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})
	call(t, "POST", "/api/v1/api-keys", e.owner, body, "Idempotency-Key", "key-once", "X-Qual-Team", e.other.id).
		expectError(t, 409, "IDEMPOTENCY_CONFLICT")
}

// TestAnEmailClaimBindsOnce: the first session to match a member entry by e-mail binds it;
// a token with the same e-mail and another subject matches nothing afterwards.
func TestAnEmailClaimBindsOnce(t *testing.T) {
	tn := newTenant(t, "bind", qualv1alpha1.PlanEnterprise)
	call(t, "POST", "/api/v1/teams/"+tn.id+"/members", tn.owner, map[string]any{"email": "invitee@example.com", "role": "admin"}).expect(t, 201)
	first := sessionToken(t, "user-invitee", "Invitee@example.com", time.Hour)
	call(t, "GET", "/api/v1/teams/"+tn.id, first, nil).expect(t, 200)
	team := &qualv1alpha1.Team{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: "bind"}, team); err != nil {
		t.Fatal(err)
	}
	bound := ""
	for _, m := range team.Spec.Members {
		if m.Email == "invitee@example.com" {
			bound = m.UserID
		}
	}
	if bound != "user-invitee" {
		t.Fatalf("the entry is bound to %q", bound)
	}
	impostor := sessionToken(t, "user-impostor", "invitee@example.com", time.Hour)
	call(t, "GET", "/api/v1/teams/"+tn.id, impostor, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "POST", "/api/v1/api-keys", impostor, map[string]any{}, "X-Qual-Team", tn.id).expectError(t, 404, "NOT_FOUND")
	// The one who bound it keeps its role.
	call(t, "GET", "/api/v1/teams/"+tn.id+"/members", first, nil).expect(t, 200)

	// Case folds in ASCII only: the Kelvin sign (U+212A) folds to "k" in Unicode, but
	// "\u212aelly@" is another mailbox, and claims nothing of kelly@'s invitation.
	call(t, "POST", "/api/v1/teams/"+tn.id+"/members", tn.owner, map[string]any{"email": "kelly@example.com", "role": "admin"}).expect(t, 201)
	waitFor(t, "the invitation", func() error {
		if r := call(t, "GET", "/api/v1/teams/"+tn.id+"/members?limit=100", tn.owner, nil); !strings.Contains(string(r.body), "kelly@example.com") {
			return fmt.Errorf("not listed yet: %s", r.body)
		}
		return nil
	})
	kelvin := sessionToken(t, "user-kelvin", "\u212aelly@example.com", time.Hour)
	call(t, "GET", "/api/v1/teams/"+tn.id, kelvin, nil).expectError(t, 404, "NOT_FOUND")
	call(t, "GET", "/api/v1/teams/"+tn.id, sessionToken(t, "user-kelly", "KELLY@example.com", time.Hour), nil).expect(t, 200)
}

// TestCreatesLandInTheTeamJoinedFirst: a user who creates two teams within one second
// still has a first team, and a create naming none lands there.
func TestCreatesLandInTheTeamJoinedFirst(t *testing.T) {
	user := sessionToken(t, "user-quick", "quick@example.com", time.Hour)
	var first, second struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/teams", user, map[string]any{"name": "Quick first"}).expect(t, 201).data(t, &first)
	call(t, "POST", "/api/v1/teams", user, map[string]any{"name": "Quick second"}).expect(t, 201).data(t, &second)
	for i := range 3 {
		if c := createCampaign(t, user, map[string]any{"title": fmt.Sprintf("Lands first %d", i)}); c.TeamID != first.ID {
			t.Fatalf("create %d landed in %s, not the team joined first (%s)", i, c.TeamID, first.ID)
		}
	}
}

// A key's hash is readable by whoever reads its team's keys. An APIKey in another team naming
// that hash (spec.credential is the creator's to give) takes nothing over: the token still
// acts as its own key in its own team, with its own scopes, and still works once the copy is
// deleted.
func TestACopiedKeyHashTakesNoKeyOver(t *testing.T) {
	victim, thief := newTenant(t, "hash-victim", qualv1alpha1.PlanEnterprise), newTenant(t, "hash-thief", qualv1alpha1.PlanEnterprise)
	type me struct {
		TeamID string   `json:"team_id"`
		KeyID  string   `json:"key_id"`
		Scopes []string `json:"scopes"`
	}
	var before me
	call(t, "GET", "/api/v1/me", victim.scoped, nil).expect(t, 200).data(t, &before)
	time.Sleep(1100 * time.Millisecond) // a copy is made in a later second than the key
	stolen := keys.Describe(victim.scoped)
	copied := &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: "copy", Namespace: "team-" + thief.team.Name},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Owner: "owner@" + thief.team.Name,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: stolen.HashRef, Prefix: stolen.Prefix, LastFour: stolen.LastFour}},
	}
	if err := k8s.Create(context.Background(), copied); err != nil {
		t.Fatal(err)
	}
	// A key made after the copy is known once the copy is: informer events come in order.
	waitUsable(t, "a key made after the copy", makeKey(t, thief.team, "after-copy", qualv1alpha1.KeySecret, nil))
	var after me
	call(t, "GET", "/api/v1/me", victim.scoped, nil).expect(t, 200).data(t, &after)
	if after.TeamID != victim.id || after.KeyID != before.KeyID || strings.Join(after.Scopes, ",") != strings.Join(before.Scopes, ",") {
		t.Fatalf("the copy took the key over: before %+v, after %+v", before, after)
	}
	if err := k8s.Delete(context.Background(), copied); err != nil {
		t.Fatal(err)
	}
	waitUsable(t, "a key made after the deletion", makeKey(t, thief.team, "after-delete", qualv1alpha1.KeySecret, nil))
	call(t, "GET", "/api/v1/me", victim.scoped, nil).expect(t, 200).data(t, &after)
	if after.KeyID != before.KeyID {
		t.Fatalf("after the copy's deletion the token is %+v", after)
	}
}

// An APIKey applied with kubectl whose credential copies a key of its own team never
// authenticates (the controller marks it CredentialInUse), so REST does not show it as a key:
// listed, it would be a second key with the other's prefix and last four, which revoking one
// of them could not tell apart. It is not listed, not read and not revoked through REST; the
// key it copies is, as before.
func TestACopiedKeyIsNoKeyOfREST(t *testing.T) {
	tn := newTenant(t, "hash-copier", qualv1alpha1.PlanEnterprise)
	type key struct {
		ID       string `json:"id"`
		Key      string `json:"key"`
		Prefix   string `json:"prefix"`
		LastFour string `json:"last_four"`
	}
	var original key
	call(t, "POST", "/api/v1/api-keys", tn.owner, map[string]any{"name": "original", "scopes": []string{"campaigns:read"}},
		"X-Qual-Team", tn.id).expect(t, 201).data(t, &original)
	time.Sleep(1100 * time.Millisecond) // a copy is made in a later second than the key
	copied := &qualv1alpha1.APIKey{
		ObjectMeta: metav1.ObjectMeta{Name: "copy", Namespace: "team-" + tn.team.Name},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Owner: tn.ownerMail,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: keys.Describe(original.Key).HashRef, Prefix: original.Prefix, LastFour: original.LastFour}},
	}
	if err := k8s.Create(context.Background(), copied); err != nil {
		t.Fatal(err)
	}
	// A key made after the copy is known once the copy is: informer events come in order.
	waitUsable(t, "a key made after the copy", makeKey(t, tn.team, "after-the-copy", qualv1alpha1.KeySecret, nil))
	var listed []key
	call(t, "GET", "/api/v1/api-keys?limit=100", tn.owner, nil, "X-Qual-Team", tn.id).expect(t, 200).data(t, &listed)
	var shown []string
	for _, k := range listed {
		if k.Prefix == original.Prefix && k.LastFour == original.LastFour {
			shown = append(shown, k.ID)
		}
	}
	if !slices.Equal(shown, []string{original.ID}) {
		t.Fatalf("keys shown as %s…%s: %v, want only the original %s", original.Prefix, original.LastFour, shown, original.ID)
	}
	for _, method := range []string{"GET", "DELETE"} {
		call(t, method, "/api/v1/api-keys/"+string(copied.UID), tn.owner, nil).expect(t, 404)
	}
	call(t, "POST", "/api/v1/api-keys/"+string(copied.UID)+"/rotate", tn.owner, nil).expect(t, 404)
	call(t, "GET", "/api/v1/api-keys/"+original.ID, tn.owner, nil).expect(t, 200)
	call(t, "GET", "/api/v1/me", original.Key, nil).expect(t, 200)
}

// impersonating is a client that acts as user, as `kubectl --as` does.
func impersonating(t *testing.T, user string) client.Client {
	t.Helper()
	c, err := testenv.ClientAs(cfg, user)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A key acts for the person who made it: when an admin is removed, or demoted to a role that
// manages nothing, the keys they made are revoked with the change, so a key cannot keep their
// power or put them back. Other people's keys, and a member's removal, revoke nothing.
func TestAKeyGoesWithItsMakersRole(t *testing.T) {
	tn := newTenant(t, "offboard", qualv1alpha1.PlanEnterprise)
	members := "/api/v1/teams/" + tn.id + "/members"
	type minted struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	mintFull := func(session string) minted {
		t.Helper()
		var k minted
		call(t, "POST", "/api/v1/api-keys", session, map[string]any{"name": "mine"}, "X-Qual-Team", tn.id).expect(t, 201).data(t, &k)
		waitUsable(t, "key", k.Key)
		return k
	}
	mint := func(session string) string { t.Helper(); return mintFull(session).Key }
	people := map[string]string{}
	for _, who := range []string{"gone", "demoted", "member"} {
		role := "admin"
		if who == "member" {
			role = "member"
		}
		call(t, "POST", members, tn.owner, map[string]any{"email": who + "@offboard.example", "role": role}).expect(t, 201)
		people[who] = sessionToken(t, "user-offboard-"+who, who+"@offboard.example", time.Hour)
	}
	waitFor(t, "the new admins", func() error { return authorizedAt(t, api.URL, "/api/v1/api-keys", people["demoted"]) })
	gone, demoted, ownerKey := mint(people["gone"]), mint(people["demoted"]), mint(tn.owner)
	// An admin who rotates the owner's key holds its successor: it is theirs, and goes with them.
	var taken minted
	call(t, "POST", "/api/v1/api-keys/"+mintFull(tn.owner).ID+"/rotate", people["gone"], nil).expect(t, 200).data(t, &taken)
	waitUsable(t, "the rotated key", taken.Key)
	// So does a key they made with kubectl naming the owner as its owner (the API server
	// records who made it), and a key minted with that one through REST.
	disguised := makeKeyBy(t, impersonating(t, "gone@offboard.example"), tn.team, "disguised", tn.ownerMail, qualv1alpha1.KeySecret, nil)
	waitUsable(t, "the disguised key", disguised)
	var child minted
	call(t, "POST", "/api/v1/api-keys", disguised, map[string]any{"name": "child"}).expect(t, 201).data(t, &child)
	waitUsable(t, "the key minted with it", child.Key)

	call(t, "DELETE", members+"/member@offboard.example", tn.owner, nil).expect(t, 204)
	call(t, "GET", "/api/v1/me", gone, nil).expect(t, 200)
	call(t, "DELETE", members+"/gone@offboard.example", tn.owner, nil).expect(t, 204)
	call(t, "PATCH", members+"/demoted@offboard.example", tn.owner, map[string]any{"role": "viewer"}).expect(t, 200)
	// The removed admin's, the one they rotated, the ones they made with kubectl and minted
	// with it, the demoted admin's.
	for _, key := range []string{gone, taken.Key, disguised, child.Key, demoted} {
		call(t, "GET", "/api/v1/me", key, nil).expectError(t, 401, "UNAUTHORIZED")
		call(t, "POST", members, key, map[string]any{"email": "back@offboard.example"}).expectError(t, 401, "UNAUTHORIZED")
	}
	call(t, "GET", "/api/v1/me", ownerKey, nil).expect(t, 200)

	// The same removal made with kubectl, which REST never sees, takes the key as well.
	call(t, "POST", members, tn.owner, map[string]any{"email": "kubectl@offboard.example", "role": "admin"}).expect(t, 201)
	admin := sessionToken(t, "user-offboard-kubectl", "kubectl@offboard.example", time.Hour)
	waitFor(t, "the kubectl admin", func() error { return authorizedAt(t, api.URL, "/api/v1/api-keys", admin) })
	viaKubectl := mint(admin)
	team := &qualv1alpha1.Team{}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(tn.team), team); err != nil {
			return err
		}
		team.Spec.Members = slices.DeleteFunc(team.Spec.Members, func(m qualv1alpha1.TeamMember) bool { return m.Email == "kubectl@offboard.example" })
		return k8s.Update(context.Background(), team)
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the kubectl-removed admin's key refused", func() error {
		if code := call(t, "GET", "/api/v1/me", viaKubectl, nil).status; code != 401 {
			return fmt.Errorf("status %d", code)
		}
		return nil
	})
	call(t, "GET", "/api/v1/me", ownerKey, nil).expect(t, 200)
}
