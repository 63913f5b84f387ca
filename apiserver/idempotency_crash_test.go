package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// crashAfterCreate leaves an Idempotency-Key as a server that died between creating an object
// and recording the answer leaves it: the object exists, and the claim is pending. The test
// makes the object by a first request, then puts its record back to a pending claim; live
// says whether the claim's lease is still running.
func crashAfterCreate(t *testing.T, st store.Store, caller, key string, live bool) {
	t.Helper()
	ctx := context.Background()
	records := st.Team(store.TeamID("caller:" + caller))
	rec, err := records.GetIdempotency(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := records.DeleteIdempotency(ctx, rec); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(-time.Second)
	if live {
		expires = time.Now().Add(5 * time.Minute)
	}
	if _, err := records.SaveIdempotency(ctx, store.IdempotencyRecord{Key: key, RequestHash: rec.RequestHash, ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
}

// A key creation retried after its server died between minting the key and recording the
// answer is told to wait while the claim lives, then answered with the key the first run made
// (its plaintext, never kept, as null, as any replay), never with a second live key.
func TestAKeyCreationRetriedAfterACrashMintsNoSecondKey(t *testing.T) {
	tn := newTenant(t, "idem-crash-key", qualv1alpha1.PlanEnterprise)
	caller := "user-idem-crash-key-owner"
	body := map[string]any{"name": "crashed", "scopes": []string{"campaigns:read"}}
	var first struct {
		ID  string  `json:"id"`
		Key *string `json:"key"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.owner, body, "Idempotency-Key", "crash-1").expect(t, 201).data(t, &first)

	crashAfterCreate(t, db, caller, "crash-1", true)
	r := call(t, "POST", "/api/v1/api-keys", tn.owner, body, "Idempotency-Key", "crash-1")
	r.expectError(t, 409, "CONFLICT")
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("a claim a second old: Retry-After %q, want 1", r.header.Get("Retry-After"))
	}

	crashAfterCreate(t, db, caller, "crash-1", false)
	for range 2 { // the run that finds the key, then the replay of its recorded answer
		var again struct {
			ID  string  `json:"id"`
			Key *string `json:"key"`
		}
		r := call(t, "POST", "/api/v1/api-keys", tn.owner, body, "Idempotency-Key", "crash-1").expect(t, 201)
		r.data(t, &again)
		if again.ID != first.ID || again.Key != nil || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry after the crash: %s %s, want the first key %s replayed", r.header.Get("Idempotent-Replayed"), r.body, first.ID)
		}
	}
	var keys []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	call(t, "GET", "/api/v1/api-keys", tn.owner, nil).expect(t, 200).data(t, &keys)
	named := 0
	for _, k := range keys {
		if k.Name == "crashed" {
			named++
		}
	}
	if named != 1 {
		t.Fatalf("%d keys named crashed, want 1: %+v", named, keys)
	}
}

// The same for a webhook: a second one would deliver every event to the URL twice.
func TestAWebhookCreationRetriedAfterACrashMakesNoSecondWebhook(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "idem-crash-hook")
	caller := "user-idem-crash-hook-owner"
	body := map[string]any{"url": "https://hooks.example.com/crashed", "events": []string{"finding.created"}}
	first, _ := createHook(t, b.url, tn.owner, body, "Idempotency-Key", "crash-1")
	crashAfterCreate(t, b.db, caller, "crash-1", false)
	r := callAt(t, b.url, "POST", "/api/v1/webhooks", tn.owner, body, "Idempotency-Key", "crash-1").expect(t, 201)
	var again webhook
	r.data(t, &again)
	if again.ID != first.ID || again.Secret != nil || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the crash: %s, want the first webhook %s replayed", r.body, first.ID)
	}
	var hooks []webhook
	callAt(t, b.url, "GET", "/api/v1/webhooks", tn.owner, nil).expect(t, 200).data(t, &hooks)
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks, want 1", len(hooks))
	}
}

// retryAfterCrash repeats, with the claim's lease over, a request whose first run made the
// object firstID and died before recording its answer (crashAfterCreate): the run that finds
// the object, then the replay of the answer it recorded, must both answer that object with
// Idempotent-Replayed and the withheld fields (secrets shown once) null.
func retryAfterCrash(t *testing.T, caller, method, path, token string, body any, key string, status int, firstID string, withheld ...string) {
	t.Helper()
	crashAfterCreate(t, db, caller, key, false)
	for range 2 {
		var again map[string]json.RawMessage
		r := call(t, method, path, token, body, "Idempotency-Key", key).expect(t, status)
		r.data(t, &again)
		if string(again["id"]) != strconv.Quote(firstID) || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry after the crash: %s %s, want %s replayed", r.header.Get("Idempotent-Replayed"), r.body, firstID)
		}
		for _, f := range withheld {
			if string(again[f]) != "null" {
				t.Fatalf("retry after the crash shows %s: %s", f, r.body)
			}
		}
	}
}

// A campaign creation retried after its server died between creating the Campaign and
// recording the answer answers the campaign the first run made, not a second draft.
func TestACampaignCreationRetriedAfterACrashMakesNoSecondCampaign(t *testing.T) {
	tn := newTenant(t, "idem-crash-cmp", qualv1alpha1.PlanEnterprise)
	body := map[string]any{"title": "Crashed study", "questions": []string{"Why?"}, "team_id": tn.id}
	first := createCampaign(t, tn.owner, body, "Idempotency-Key", "crash-1")
	retryAfterCrash(t, "user-idem-crash-cmp-owner", "POST", "/api/v1/campaigns", tn.owner, body, "crash-1", 201, first.ID)
	var listed []campaign
	call(t, "GET", "/api/v1/campaigns", tn.owner, nil).expect(t, 200).data(t, &listed)
	if len(listed) != 1 {
		t.Fatalf("%d campaigns after the retry, want 1: %+v", len(listed), listed)
	}
}

// A team creation likewise answers the team the first run made: a second would be a team
// the user never learnt of, counted against the teams they may own and create per hour.
func TestATeamCreationRetriedAfterACrashMakesNoSecondTeam(t *testing.T) {
	user := "user-idem-crash-team"
	token := sessionToken(t, user, "idem-crash-team@example.com", time.Hour)
	body := map[string]any{"name": "Crashed team"}
	var first struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/teams", token, body, "Idempotency-Key", "crash-1").expect(t, 201).data(t, &first)
	t.Cleanup(func() { call(t, "DELETE", "/api/v1/teams/"+first.ID, token, nil) })
	retryAfterCrash(t, user, "POST", "/api/v1/teams", token, body, "crash-1", 201, first.ID)
	var teams []struct {
		ID string `json:"id"`
	}
	call(t, "GET", "/api/v1/teams", token, nil).expect(t, 200).data(t, &teams)
	if len(teams) != 1 {
		t.Fatalf("%d teams after the retry, want 1: %+v", len(teams), teams)
	}
}

// A dead claim still binds its key to its request once its lease ends: a different request
// under the key (here only its JSON spacing differs) is IDEMPOTENCY_CONFLICT, as it is while
// the claim lives or once it is answered, rather than run anew, miss the team the dead run
// made (its claim stamp is another request's) and make a second; the same request then
// takes the claim over and answers that team.
func TestADifferentRequestAfterADeadClaimIsRefused(t *testing.T) {
	user := "user-idem-dead-claim"
	token := sessionToken(t, user, "idem-dead-claim@example.com", time.Hour)
	sent := `{"name": "Dead claim team"}`
	var first struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/teams", token, sent, "Idempotency-Key", "crash-1").expect(t, 201).data(t, &first)
	t.Cleanup(func() { call(t, "DELETE", "/api/v1/teams/"+first.ID, token, nil) })
	crashAfterCreate(t, db, user, "crash-1", false)
	call(t, "POST", "/api/v1/teams", token, `{"name":"Dead claim team"}`, "Idempotency-Key", "crash-1").
		expectError(t, 409, "IDEMPOTENCY_CONFLICT")
	var teams []struct {
		ID string `json:"id"`
	}
	call(t, "GET", "/api/v1/teams", token, nil).expect(t, 200).data(t, &teams)
	if len(teams) != 1 {
		t.Fatalf("%d teams after a different request under the dead claim's key, want 1: %+v", len(teams), teams)
	}
	retryAfterCrash(t, user, "POST", "/api/v1/teams", token, sent, "crash-1", 201, first.ID)
}

// A key rotation retried after its server died between minting the successor and recording
// the answer answers that successor (its plaintext null, as any replay's), rather than refuse
// the revoked key it rotated and leave the caller not knowing which key replaced it, or mint
// another.
func TestAKeyRotationRetriedAfterACrashMintsNoSecondSuccessor(t *testing.T) {
	tn := newTenant(t, "idem-crash-rot", qualv1alpha1.PlanEnterprise)
	var old, next struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.owner, map[string]any{"name": "rotated", "scopes": []string{"campaigns:read"}}).
		expect(t, 201).data(t, &old)
	path := "/api/v1/api-keys/" + old.ID + "/rotate"
	call(t, "POST", path, tn.owner, nil, "Idempotency-Key", "crash-1").expect(t, 200).data(t, &next)
	retryAfterCrash(t, "user-idem-crash-rot-owner", "POST", path, tn.owner, nil, "crash-1", 200, next.ID, "key")
	var keys []struct {
		ID        string  `json:"id"`
		Name      string  `json:"name"`
		RevokedAt *string `json:"revoked_at"`
	}
	call(t, "GET", "/api/v1/api-keys", tn.owner, nil).expect(t, 200).data(t, &keys)
	live := 0
	for _, k := range keys {
		if k.Name == "rotated" && k.RevokedAt == nil {
			live++
		}
	}
	if live != 1 {
		t.Fatalf("%d live keys named rotated, want the one successor: %+v", live, keys)
	}
}

// crashBeforeMint leaves a rotation as a server that died between revoking the key and
// minting its successor leaves it: the key revoked by the rotation's write (which marks it
// with the request's claim), no successor, and the claim pending (live: its lease still
// running). The test rotates the key with a first request, then deletes the successor it
// minted and puts the record back to a pending claim. It returns the successor's object name.
func crashBeforeMint(t *testing.T, tn *tenant, caller, key, successor string, live bool) string {
	t.Helper()
	ctx := context.Background()
	var list qualv1alpha1.APIKeyList
	if err := k8s.List(ctx, &list, client.InNamespace("team-"+tn.team.Name)); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list.Items, func(k qualv1alpha1.APIKey) bool { return string(k.UID) == successor })
	if i < 0 {
		t.Fatalf("no successor %s", successor)
	}
	k := &list.Items[i]
	if err := k8s.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the successor to be gone", func() error {
		if err := keyGone(k); err != nil {
			return err
		}
		if r := call(t, "GET", "/api/v1/api-keys/"+successor, tn.owner, nil); r.status != 404 {
			return fmt.Errorf("the server still shows the successor: %d", r.status)
		}
		return nil
	})
	crashAfterCreate(t, db, caller, key, live)
	return k.Name
}

// keyGone is nil once the Kubernetes API no longer has the key.
func keyGone(k *qualv1alpha1.APIKey) error {
	err := k8s.Get(context.Background(), client.ObjectKeyFromObject(k), &qualv1alpha1.APIKey{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("key %s is still there (%v)", k.Name, err) //nolint:errorlint // nil while it is there
}

// rotatedKey makes a key named name through REST, rotates it under the Idempotency-Key key,
// and returns the two keys' ids.
func rotatedKey(t *testing.T, tn *tenant, name, key string) (old, next string) {
	t.Helper()
	var made, successor struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.owner, map[string]any{"name": name, "scopes": []string{"campaigns:read"}}).
		expect(t, 201).data(t, &made)
	call(t, "POST", "/api/v1/api-keys/"+made.ID+"/rotate", tn.owner, nil, "Idempotency-Key", key).expect(t, 200).data(t, &successor)
	return made.ID, successor.ID
}

// liveKeysNamed lists the ids of the team's live keys named name.
func liveKeysNamed(t *testing.T, tn *tenant, name string) []string {
	t.Helper()
	var keys []struct {
		ID        string  `json:"id"`
		Name      string  `json:"name"`
		RevokedAt *string `json:"revoked_at"`
	}
	call(t, "GET", "/api/v1/api-keys", tn.owner, nil).expect(t, 200).data(t, &keys)
	var live []string
	for _, k := range keys {
		if k.Name == name && k.RevokedAt == nil {
			live = append(live, k.ID)
		}
	}
	return live
}

// A key rotation retried after its server died between revoking the key and minting its
// successor finishes the rotation: told to wait while the claim lives, the repeat then mints
// the successor and answers 200 with its plaintext (a working key), once, rather than refuse
// the key its own first run revoked and leave the caller with no key at all.
func TestAKeyRotationRetriedAfterACrashBeforeTheMintMintsTheSuccessor(t *testing.T) {
	tn := newTenant(t, "idem-crash-mint", qualv1alpha1.PlanEnterprise)
	caller := "user-idem-crash-mint-owner"
	old, lost := rotatedKey(t, tn, "rotated", "crash-1")
	path := "/api/v1/api-keys/" + old + "/rotate"

	crashBeforeMint(t, tn, caller, "crash-1", lost, true)
	r := call(t, "POST", path, tn.owner, nil, "Idempotency-Key", "crash-1")
	r.expectError(t, 409, "CONFLICT")

	crashAfterCreate(t, db, caller, "crash-1", false)
	var next struct {
		ID  string  `json:"id"`
		Key *string `json:"key"`
	}
	r = call(t, "POST", path, tn.owner, nil, "Idempotency-Key", "crash-1").expect(t, 200)
	r.data(t, &next)
	if next.Key == nil || next.ID == old || next.ID == lost || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after a crash before the mint: %s %s, want a new successor with its plaintext", r.header.Get("Idempotent-Replayed"), r.body)
	}
	waitUsable(t, "the successor", *next.Key)
	call(t, "GET", "/api/v1/campaigns", *next.Key, nil).expect(t, 200)

	// Its answer is recorded: a further repeat replays it, minting nothing more.
	var again struct {
		ID  string  `json:"id"`
		Key *string `json:"key"`
	}
	r = call(t, "POST", path, tn.owner, nil, "Idempotency-Key", "crash-1").expect(t, 200)
	r.data(t, &again)
	if again.ID != next.ID || again.Key != nil || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a repeat of the finished rotation: %s, want %s replayed", r.body, next.ID)
	}
	if live := liveKeysNamed(t, tn, "rotated"); len(live) != 1 || live[0] != next.ID {
		t.Fatalf("live keys named rotated: %v, want the one successor %s", live, next.ID)
	}
}

// Only the rotation that revoked a key may finish it: a key revoked with DELETE, or by a
// rotation whose server died before the mint, is still 409 INVALID_STATE to a rotation under
// another Idempotency-Key or none, and to another caller with the same Idempotency-Key; each
// of those mints nothing, and the dead rotation's own repeat still finishes it.
func TestARevokedKeyIsRotatedOnlyByTheRotationThatRevokedIt(t *testing.T) {
	tn := newTenant(t, "idem-crash-other", qualv1alpha1.PlanEnterprise)
	caller := "user-idem-crash-other-owner"

	var deleted struct {
		ID string `json:"id"`
	}
	call(t, "POST", "/api/v1/api-keys", tn.owner, map[string]any{"name": "deleted", "scopes": []string{"campaigns:read"}}).
		expect(t, 201).data(t, &deleted)
	call(t, "DELETE", "/api/v1/api-keys/"+deleted.ID, tn.owner, nil).expect(t, 204)
	call(t, "POST", "/api/v1/api-keys/"+deleted.ID+"/rotate", tn.owner, nil, "Idempotency-Key", "rotate-deleted").
		expectError(t, 409, "INVALID_STATE")

	old, lost := rotatedKey(t, tn, "rotated", "crash-1")
	path := "/api/v1/api-keys/" + old + "/rotate"
	crashBeforeMint(t, tn, caller, "crash-1", lost, false)
	for _, other := range []struct {
		what, token string
		headers     []string
	}{
		{"another Idempotency-Key", tn.owner, []string{"Idempotency-Key", "crash-2"}},
		{"no Idempotency-Key", tn.owner, nil},
		{"another caller with the same Idempotency-Key", tn.secret, []string{"Idempotency-Key", "crash-1"}},
	} {
		r := call(t, "POST", path, other.token, nil, other.headers...)
		if r.status != 409 {
			t.Fatalf("a rotation with %s: %d %s, want 409 INVALID_STATE", other.what, r.status, r.body)
		}
		r.expectError(t, 409, "INVALID_STATE")
	}
	if live := liveKeysNamed(t, tn, "rotated"); len(live) != 0 {
		t.Fatalf("other requests minted successors %v", live)
	}
	var next struct {
		ID  string  `json:"id"`
		Key *string `json:"key"`
	}
	call(t, "POST", path, tn.owner, nil, "Idempotency-Key", "crash-1").expect(t, 200).data(t, &next)
	if live := liveKeysNamed(t, tn, "rotated"); next.Key == nil || len(live) != 1 || live[0] != next.ID {
		t.Fatalf("the dead rotation's repeat: %+v, live keys %v, want its one successor", next, live)
	}
}

// The successor of a rotation is named after its claim, so a repeat that finishes the rotation
// cannot mint a second successor beside one its first run's create made unseen (a create
// released unanswered while the Kubernetes API hung may land later): the repeat's create of
// the same name fails, and it answers 409 CONFLICT with Retry-After rather than a second key.
func TestARotationsRepeatMintsNoSuccessorBesideALateOne(t *testing.T) {
	tn := newTenant(t, "idem-crash-late", qualv1alpha1.PlanEnterprise)
	old, lost := rotatedKey(t, tn, "rotated", "crash-1")
	path := "/api/v1/api-keys/" + old + "/rotate"
	name := crashBeforeMint(t, tn, "user-idem-crash-late-owner", "crash-1", lost, false)

	// The first run's create, landed late: an object of that name the repeat does not find.
	makeKeyWith(t, tn.team, name, qualv1alpha1.KeySecret, []qualv1alpha1.Scope{"campaigns:read"})
	late := &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team-" + tn.team.Name}}
	r := call(t, "POST", path, tn.owner, nil, "Idempotency-Key", "crash-1")
	r.expectError(t, 409, "CONFLICT")
	if r.header.Get("Retry-After") == "" {
		t.Fatalf("a repeat whose successor's name is taken: no Retry-After in %v", r.header)
	}
	if live := liveKeysNamed(t, tn, "rotated"); len(live) != 0 {
		t.Fatalf("the repeat minted %v beside the late successor", live)
	}

	// Once that name is free again the repeat mints the successor.
	if err := k8s.Delete(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the late successor to be gone", func() error { return keyGone(late) })
	var next struct {
		ID  string  `json:"id"`
		Key *string `json:"key"`
	}
	call(t, "POST", path, tn.owner, nil, "Idempotency-Key", "crash-1").expect(t, 200).data(t, &next)
	if live := liveKeysNamed(t, tn, "rotated"); next.Key == nil || len(live) != 1 || live[0] != next.ID {
		t.Fatalf("the repeat: %+v, live keys %v, want its one successor", next, live)
	}
}

// addedMember is a member as an add answers it.
type addedMember struct {
	Email   string  `json:"email"`
	Role    string  `json:"role"`
	AddedAt *string `json:"added_at"`
}

// A member add retried after its server died between adding the member and recording the
// answer is answered as done (201, replayed, the member as the team has them), not with a
// conflict with itself for good (a 409 is not recorded); an add of a member already in the
// team by any other request (another or no Idempotency-Key) is still 409, and so is the
// dead add's repeat once the member's role has been changed since.
func TestAMemberAddRetriedAfterACrashIsAnsweredAsDone(t *testing.T) {
	tn := newTenant(t, "idem-crash-member", qualv1alpha1.PlanEnterprise)
	caller := "user-idem-crash-member-owner"
	path := "/api/v1/teams/" + tn.id + "/members"
	body := map[string]any{"email": "landed@example.com", "role": "viewer"}
	var first addedMember
	call(t, "POST", path, tn.owner, body, "Idempotency-Key", "crash-1").expect(t, 201).data(t, &first)

	crashAfterCreate(t, db, caller, "crash-1", false)
	for _, fresh := range [][]string{{"Idempotency-Key", "crash-2"}, nil} {
		call(t, "POST", path, tn.owner, body, fresh...).expectError(t, 409, "CONFLICT")
	}
	for range 2 { // the run that finds the member, then the replay of its recorded answer
		var again addedMember
		r := call(t, "POST", path, tn.owner, body, "Idempotency-Key", "crash-1").expect(t, 201)
		r.data(t, &again)
		if r.header.Get("Idempotent-Replayed") != "true" || again.Email != first.Email || again.Role != "viewer" ||
			again.AddedAt == nil || first.AddedAt == nil || *again.AddedAt != *first.AddedAt {
			t.Fatalf("retry after the crash: %s %s, want %+v replayed", r.header.Get("Idempotent-Replayed"), r.body, first)
		}
	}

	// The member's role changed since the add: the add's repeat is no longer its answer.
	moved := map[string]any{"email": "moved@example.com", "role": "viewer"}
	call(t, "POST", path, tn.owner, moved, "Idempotency-Key", "crash-3").expect(t, 201)
	call(t, "PATCH", path+"/moved@example.com", tn.owner, map[string]any{"role": "member"}).expect(t, 200)
	crashAfterCreate(t, db, caller, "crash-3", false)
	call(t, "POST", path, tn.owner, moved, "Idempotency-Key", "crash-3").expectError(t, 409, "CONFLICT")
}

// A member removed with kubectl (spec.members edited, which REST never sees) loses the claim of
// the REST add that made them: added again by another request, they are that request's, so a
// repeat of the first add, whose run died after the member landed, is 409 like any add of a
// present member, not answered as done; the next REST member write drops the entry.
func TestAMemberRemovedWithKubectlLosesTheirClaim(t *testing.T) {
	tn := newTenant(t, "idem-kubectl-member", qualv1alpha1.PlanEnterprise)
	path := "/api/v1/teams/" + tn.id + "/members"
	const email = "offboarded@example.com"
	body := map[string]any{"email": email, "role": "viewer"}
	call(t, "POST", path, tn.owner, body, "Idempotency-Key", "kubectl-1").expect(t, 201)
	crashAfterCreate(t, db, "user-idem-kubectl-member-owner", "kubectl-1", false)
	team := &qualv1alpha1.Team{}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(tn.team), team); err != nil {
			return err
		}
		team.Spec.Members = slices.DeleteFunc(team.Spec.Members, func(m qualv1alpha1.TeamMember) bool { return m.Email == email })
		return k8s.Update(context.Background(), team)
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the member added again by another request", func() error {
		if r := call(t, "POST", path, tn.owner, body); r.status != 201 {
			return fmt.Errorf("status %d: %s", r.status, r.body)
		}
		return nil
	})
	r := call(t, "POST", path, tn.owner, body, "Idempotency-Key", "kubectl-1")
	if r.expectError(t, 409, "CONFLICT"); r.header.Get("Idempotent-Replayed") == "true" {
		t.Fatalf("the first add's repeat was answered as done: %v", r.header)
	}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(tn.team), team); err != nil {
		t.Fatal(err)
	}
	if record := team.Annotations[qualv1alpha1.AnnotationMemberClaims]; strings.Contains(record, email) {
		t.Fatalf("the removed member's claim outlived the next REST write: %s", record)
	}
}
